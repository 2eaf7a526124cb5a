package consumer

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"go.uber.org/zap"

	"github.com/shapesync/shapesync/actors"
	"github.com/shapesync/shapesync/replication/events"
	"github.com/shapesync/shapesync/replication/lsn"
	"github.com/shapesync/shapesync/shapes/protocol"
)

const wait = 10 * time.Second

func eventually(t *testing.T, what string, fn func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !fn() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", wait, what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// recorder is a test actor that records user messages; as a writer it
// answers Append and Rollback with Accepted.
type recorder struct {
	mu     sync.Mutex
	msgs   []any
	accept bool
}

func (r *recorder) Receive(ctx actor.Context) {
	msg := ctx.Message()
	switch msg.(type) {
	case actor.SystemMessage, actor.AutoReceiveMessage:
		return
	}
	r.mu.Lock()
	r.msgs = append(r.msgs, msg)
	r.mu.Unlock()
	if !r.accept {
		return
	}
	switch m := msg.(type) {
	case *protocol.Append:
		ctx.Send(m.ReplyTo, &protocol.Accepted{Seq: m.Seq, Shape: m.Shape})
	case *protocol.Rollback:
		ctx.Send(m.ReplyTo, &protocol.Accepted{Seq: m.Seq, Shape: m.Shape})
	}
}

func (r *recorder) all() []any {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.msgs)
}

func of[T any](r *recorder) []T {
	var out []T
	for _, m := range r.all() {
		if v, ok := m.(T); ok {
			out = append(out, v)
		}
	}
	return out
}

type harness struct {
	kit       *actors.Kit
	writer    *recorder
	collector *recorder
	registry  *recorder
	consumer  *actors.PID
	collPID   *actors.PID
}

type stored struct {
	committed lsn.LogOffset
	meta      []byte
}

func (s stored) Committed() lsn.LogOffset { return s.committed }
func (s stored) ConsumerMeta() []byte     { return s.meta }

func newHarness(t *testing.T, adjust func(*Config)) *harness {
	t.Helper()
	k := actors.NewKit(zap.NewNop(), actors.ForTesting(),
		actors.WithSlowReceive(500*time.Millisecond, func(s actors.SlowReceive) { t.Errorf("slow receive: %+v", s) }))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		if stuck := k.Shutdown(ctx); stuck != nil {
			t.Errorf("shutdown left actors running: %v", stuck)
		}
	})
	h := &harness{kit: k, writer: &recorder{accept: true}, collector: &recorder{}, registry: &recorder{}}
	spawn := func(label string, r *recorder) *actors.PID {
		pid, err := k.Spawn(label, func() actor.Actor { return r }, actors.Count(1<<20), actors.Credit)
		if err != nil {
			t.Fatal(err)
		}
		return pid
	}
	writerPID := spawn("writer", h.writer)
	h.collPID = spawn("collector", h.collector)
	registryPID := spawn("registry", h.registry)
	cfg := Config{Shape: 7, Handle: "h7", Table: itemsTable(), Writer: writerPID, Collector: h.collPID, Invalidate: registryPID}
	if adjust != nil {
		adjust(&cfg)
	}
	spec := ChildSpec(cfg)
	pid, err := k.SpawnRoot(spec)
	if err != nil {
		t.Fatal(err)
	}
	if pid.Id != "consumer-h7" {
		t.Fatalf("consumer PID id %q", pid.Id)
	}
	h.consumer = pid
	return h
}

func (h *harness) deliver(seq uint64, f *events.Fragment) {
	h.kit.Root().Send(h.consumer, &protocol.Deliver{Seq: seq, Fragment: f})
}

func (h *harness) delivered() []uint64 {
	var out []uint64
	for _, d := range of[*protocol.Delivered](h.collector) {
		out = append(out, d.Seq)
	}
	return out
}

func appendedItems(t *testing.T, r *recorder) []string {
	var out []string
	for _, a := range of[*protocol.Append](r) {
		out = append(out, summaries(t, a.Items)...)
		if a.Commit != nil {
			out = append(out, "commit@"+a.Commit.LSN.String())
		}
	}
	return out
}

func TestConsumerBuffersUntilTheSnapshotIsKnown(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	h.deliver(1, fragment(150, 0x1000, true, true, ins(itemsRel, 0, 1, "visible")))
	h.deliver(2, fragment(205, 0x2000, true, false, ins(itemsRel, 0, 2, "in progress")))
	h.deliver(3, fragment(205, 0x2000, false, true, ins(itemsRel, 2, 3, "in progress")))
	eventually(t, "buffered deliveries to be answered at once", func() bool { return slices.Equal(h.delivered(), []uint64{1, 2, 3}) })
	if n := len(h.writer.all()); n != 0 {
		t.Fatalf("%d messages to the writer before the snapshot is known", n)
	}
	h.kit.Root().Send(h.consumer, &protocol.SnapshotKnown{Shape: 7, Snapshot: lsn.Snapshot{Xmin: 200, Xmax: 210, Xip: []uint64{205}, WAL: 0x3000}})
	h.deliver(4, fragment(211, 0x3000, true, true, ins(itemsRel, 0, 4, "new")))
	eventually(t, "the fourth delivery", func() bool { return len(h.delivered()) == 4 })
	want := []string{"commit@0/1000", "insert 2@8192_0", "insert 3@8192_2+last", "commit@0/2000", "insert 4@12288_0+last", "commit@0/3000"}
	if got := appendedItems(t, h.writer); !slices.Equal(got, want) {
		t.Fatalf("appends %v, want %v", got, want)
	}
	states := of[*protocol.ConsumerState](h.writer)
	if len(states) != 2 {
		t.Fatalf("%d state updates, want one for the snapshot and one when filtering ended", len(states))
	}
	first, _ := DecodeState(states[0].State)
	last, _ := DecodeState(states[1].State)
	if !first.Known || !first.Filtering || last.Filtering {
		t.Fatalf("states %+v then %+v", first, last)
	}
	// The state is stored before the appends that depend on it.
	if _, ok := h.writer.all()[0].(*protocol.ConsumerState); !ok {
		t.Fatalf("first message to the writer is %T", h.writer.all()[0])
	}
}

func TestConsumerResumesFromStorage(t *testing.T) {
	t.Parallel()
	vis := Visibility{Known: true, Snapshot: lsn.Snapshot{Xmin: 100, Xmax: 100}}
	h := newHarness(t, func(c *Config) {
		c.Resume = func() (StoredLog, bool) {
			return stored{committed: lsn.LogOffset{Tx: 0x2000, Op: 2}, meta: EncodeState(vis)}, true
		}
	})
	h.deliver(1, fragment(300, 0x1000, true, true, ins(itemsRel, 0, 1, "old")))
	h.deliver(2, fragment(301, 0x2000, true, true, ins(itemsRel, 0, 2, "old"), ins(itemsRel, 2, 3, "old")))
	h.deliver(3, fragment(302, 0x3000, true, true, ins(itemsRel, 0, 4, "new")))
	eventually(t, "three deliveries", func() bool { return len(h.delivered()) == 3 })
	want := []string{"commit@0/1000", "commit@0/2000", "insert 4@12288_0+last", "commit@0/3000"}
	if got := appendedItems(t, h.writer); !slices.Equal(got, want) {
		t.Fatalf("appends %v, want %v (replays must not be appended again)", got, want)
	}
}

func TestConsumerAbortRollsBack(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *Config) {
		c.Resume = func() (StoredLog, bool) {
			return stored{committed: lsn.SnapshotEnd, meta: EncodeState(everythingNew)}, true
		}
	})
	h.deliver(1, fragment(300, 0x1000, true, false, ins(itemsRel, 0, 1, "a"), ins(itemsRel, 2, 2, "a")))
	h.kit.Root().Send(h.consumer, &protocol.AbortTxn{Seq: 2, Xid: 300, CommitLSN: 0x1000})
	h.deliver(3, fragment(300, 0x1000, true, true, ins(itemsRel, 0, 1, "a"), ins(itemsRel, 2, 2, "a")))
	eventually(t, "three answers", func() bool { return slices.Equal(h.delivered(), []uint64{1, 2, 3}) })
	rb := of[*protocol.Rollback](h.writer)
	if len(rb) != 1 || rb[0].Shape != 7 {
		t.Fatalf("rollbacks %v", rb)
	}
	want := []string{"insert 1@4096_0", "insert 1@4096_0", "insert 2@4096_2+last", "commit@0/1000"}
	if got := appendedItems(t, h.writer); !slices.Equal(got, want) {
		t.Fatalf("appends %v, want %v", got, want)
	}
}

func TestConsumerInvalidates(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		adjust func(*Config)
		drive  func(h *harness)
	}{
		{"error - truncate", nil, func(h *harness) {
			h.kit.Root().Send(h.consumer, &protocol.SnapshotKnown{Shape: 7, Snapshot: lsn.Snapshot{Xmin: 1, Xmax: 1}})
			h.deliver(1, fragment(300, 0x1000, true, true, events.Change{Kind: events.Truncate, Relation: itemsRel}))
		}},
		{"error - the buffer overflows before the snapshot is known", func(c *Config) { c.BufferLimit = 500 }, func(h *harness) {
			for i := range 10 {
				h.deliver(uint64(i+1), fragment(300+uint32(i), lsn.LSN(0x1000*(i+1)), true, true, ins(itemsRel, 0, i, "some text to fill the buffer")))
			}
		}},
		{"error - the snapshot failed", nil, func(h *harness) {
			h.kit.Root().Send(h.consumer, &protocol.SnapshotFailed{Shape: 7})
		}},
		{"error - damaged stored state", func(c *Config) {
			c.Resume = func() (StoredLog, bool) { return stored{committed: lsn.SnapshotEnd, meta: []byte{9, 9}}, true }
		}, func(*harness) {}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, tc.adjust)
			tc.drive(h)
			eventually(t, "the shape to be reported invalid", func() bool { return len(of[*protocol.ShapeInvalid](h.registry)) == 1 })
			if inv := of[*protocol.ShapeInvalid](h.registry)[0]; inv.Shape != 7 || inv.Handle != "h7" || inv.Reason == "" {
				t.Fatalf("report %+v", inv)
			}
			eventually(t, "the consumer to stop", func() bool {
				info, ok := h.kit.Lookup("consumer-h7")
				return !ok || info.State == actors.StateStopped
			})
		})
	}
}
