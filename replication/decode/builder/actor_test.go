package builder

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/shapesync/shapesync/actors"
	"github.com/shapesync/shapesync/replication/events"
	"github.com/shapesync/shapesync/replication/pgwire"
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

type rootFailure struct {
	mu     sync.Mutex
	reason []any
}

func (r *rootFailure) add(_ string, reason any) {
	r.mu.Lock()
	r.reason = append(r.reason, reason)
	r.mu.Unlock()
}
func (r *rootFailure) first() any {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.reason) == 0 {
		return nil
	}
	return r.reason[0]
}

func newKit(t *testing.T) (*actors.Kit, *observer.ObservedLogs, *rootFailure) {
	t.Helper()
	core, logs := observer.New(zapcore.DebugLevel)
	fails := &rootFailure{}
	k := actors.NewKit(zap.New(core), actors.ForTesting(), actors.WithRootFailure(fails.add),
		actors.WithSlowReceive(actors.DefaultSlowReceive, func(s actors.SlowReceive) { t.Errorf("slow receive: %+v", s) }))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		if stuck := k.Shutdown(ctx); stuck != nil {
			t.Errorf("shutdown left actors running: %v", stuck)
		}
	})
	return k, logs, fails
}

// fakeCollector records the events it gets and answers each one a moment
// later (so a second event sent early would overlap and be caught),
// answering NotReady to the first notReady attempts.
type fakeCollector struct {
	mu       sync.Mutex
	events   []*protocol.Event
	attempts int
	overlap  int
	notReady int
}

type answerDue struct {
	to *actors.PID
	ev *protocol.Event
}

func (c *fakeCollector) producer() actor.Producer {
	return func() actor.Actor { return &collectorActor{c: c} }
}

type collectorActor struct {
	c           *fakeCollector
	outstanding bool
}

func (a *collectorActor) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *protocol.Event:
		a.c.mu.Lock()
		a.c.attempts++
		refuse := a.c.attempts <= a.c.notReady
		if a.outstanding {
			a.c.overlap++
		}
		if !refuse {
			a.c.events = append(a.c.events, m)
		}
		a.c.mu.Unlock()
		if refuse {
			ctx.Respond(&protocol.NotReady{Epoch: m.Epoch, Seq: m.Seq})
			return
		}
		a.outstanding = true
		self, root, due := ctx.Self(), ctx.ActorSystem().Root, &answerDue{to: ctx.Sender(), ev: m}
		time.AfterFunc(time.Millisecond, func() { root.Send(self, due) })
	case *answerDue:
		a.outstanding = false
		ctx.Send(m.to, &protocol.EventHandled{Epoch: m.ev.Epoch, Seq: m.ev.Seq})
	}
}

func (c *fakeCollector) received() []*protocol.Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.events)
}

// inserted lists the ids inserted by the fragments received, in order.
func (c *fakeCollector) inserted() []string {
	var ids []string
	for _, ev := range c.received() {
		if f, ok := ev.Event.(*events.Fragment); ok {
			for _, ch := range f.Changes {
				ids = append(ids, ch.New[0].Text)
			}
		}
	}
	return ids
}

// creditSink stands in for the replication actor: it records BatchDone.
type creditSink struct {
	mu    sync.Mutex
	dones []protocol.BatchDone
}

func (s *creditSink) producer() actor.Producer {
	return func() actor.Actor {
		return actor.ReceiveFunc(func(ctx actor.Context) {
			if m, ok := ctx.Message().(*protocol.BatchDone); ok {
				s.mu.Lock()
				s.dones = append(s.dones, *m)
				s.mu.Unlock()
			}
		})
	}
}

func (s *creditSink) seqs(epoch uint64) []uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []uint64
	for _, d := range s.dones {
		if d.Epoch == epoch {
			out = append(out, d.Seq)
		}
	}
	return out
}

type harness struct {
	kit       *actors.Kit
	logs      *observer.ObservedLogs
	fails     *rootFailure
	builder   *actors.PID
	pump      *actors.PID
	collector *fakeCollector
	credits   *creditSink
}

func spawn(t *testing.T, k *actors.Kit, label string, p actor.Producer) *actors.PID {
	t.Helper()
	pid, err := k.SpawnRoot(actors.ChildSpec{Label: label, Producer: p, Bound: actors.Count(64), Policy: actors.Credit})
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

// newHarness spawns the builder, a credit sink as the replication actor
// and, unless late, the fake collector.
func newHarness(t *testing.T, notReady int, late bool) *harness {
	t.Helper()
	k, logs, fails := newKit(t)
	h := &harness{kit: k, logs: logs, fails: fails, collector: &fakeCollector{notReady: notReady}, credits: &creditSink{}}
	h.pump = spawn(t, k, "replication", h.credits.producer())
	collector := actor.NewPID(k.System().Address(), "collector")
	if !late {
		collector = spawn(t, k, "collector", h.collector.producer())
	}
	spec := ChildSpec(Config{Collector: collector, Replication: h.pump, RetryDelay: time.Millisecond, Log: k.Logger()})
	var err error
	if h.builder, err = k.SpawnRoot(spec); err != nil {
		t.Fatal(err)
	}
	return h
}

func (h *harness) send(epoch, seq uint64, items ...protocol.WalItem) {
	h.kit.Root().RequestWithCustomSender(h.builder, &protocol.WalBatch{Epoch: epoch, Seq: seq, Items: items}, h.pump)
}

func relation() protocol.WalItem { return xlog(0, pgRelation(1, "items", 'f', "id", "v")) }

func TestBuilderDeliversEventsInOrderOneAtATime(t *testing.T) {
	t.Parallel()
	h := newHarness(t, 0, false)
	h.send(1, 1, append([]protocol.WalItem{relation()}, txn(701, 0x100, "1", "2")...)...)
	h.send(1, 2, append(txn(702, 0x200, "3"), protocol.WalItem{WalEnd: 0x300})...)
	h.send(1, 3, txn(703, 0x400, "4", "5")...)
	eventually(t, "three credits", func() bool { return len(h.credits.seqs(1)) == 3 })
	if got := h.collector.inserted(); !slices.Equal(got, []string{"1", "2", "3", "4", "5"}) {
		t.Fatalf("inserted %v", got)
	}
	if got := h.credits.seqs(1); !slices.Equal(got, []uint64{1, 2, 3}) {
		t.Fatalf("credits %v", got)
	}
	evs := h.collector.received()
	for i, ev := range evs {
		if ev.Seq != uint64(i+1) || ev.Epoch != 1 {
			t.Fatalf("event %d has epoch %d seq %d", i, ev.Epoch, ev.Seq)
		}
	}
	if _, ok := evs[0].Event.(*events.RelationEvent); !ok {
		t.Fatalf("first event %T; want the relation", evs[0].Event)
	}
	if w, ok := evs[3].Event.(*events.WalEnd); !ok || w.LSN != 0x300 {
		t.Fatalf("fourth event %#v; want the wal_end marker 0/300", evs[3].Event)
	}
	if h.collector.overlap != 0 {
		t.Fatalf("%d events arrived while one was in flight", h.collector.overlap)
	}
}

func TestBuilderRetriesAfterNotReady(t *testing.T) {
	t.Parallel()
	h := newHarness(t, 3, false)
	h.send(1, 1, append([]protocol.WalItem{relation()}, txn(701, 0x100, "1")...)...)
	eventually(t, "the credit", func() bool { return len(h.credits.seqs(1)) == 1 })
	h.collector.mu.Lock()
	attempts := h.collector.attempts
	h.collector.mu.Unlock()
	if attempts != 5 {
		t.Fatalf("collector saw %d attempts; want 3 refused + 2 events", attempts)
	}
	if evs := h.collector.received(); len(evs) != 2 || evs[0].Seq != 1 || evs[1].Seq != 2 {
		t.Fatalf("events %+v", evs)
	}
}

func TestBuilderWaitsForACollectorThatIsNotRunningYet(t *testing.T) {
	t.Parallel()
	h := newHarness(t, 0, true)
	h.send(1, 1, append([]protocol.WalItem{relation()}, txn(701, 0x100, "1")...)...)
	eventually(t, "a dead-lettered send to be retried", func() bool {
		return h.logs.FilterMessageSnippet("retrying").FilterField(zap.String("why", "the collector is not running")).Len() >= 2
	})
	spawn(t, h.kit, "collector", h.collector.producer())
	eventually(t, "the credit", func() bool { return len(h.credits.seqs(1)) == 1 })
	if got := h.collector.inserted(); !slices.Equal(got, []string{"1"}) {
		t.Fatalf("inserted %v", got)
	}
}

func TestBuilderNewEpochDiscardsThePartialTransaction(t *testing.T) {
	t.Parallel()
	h := newHarness(t, 0, false)
	// Epoch 1 ends inside a transaction; epoch 2 replays it from its BEGIN.
	// Without a reset the second BEGIN would be a protocol violation.
	partial := txn(701, 0x100, "1", "2")
	h.send(1, 1, append([]protocol.WalItem{relation()}, partial[:2]...)...)
	eventually(t, "epoch 1 credit", func() bool { return len(h.credits.seqs(1)) == 1 })
	h.send(2, 1, append([]protocol.WalItem{relation()}, txn(701, 0x100, "1", "2")...)...)
	eventually(t, "epoch 2 credit", func() bool { return len(h.credits.seqs(2)) == 1 })
	if got := h.collector.inserted(); !slices.Equal(got, []string{"1", "2"}) {
		t.Fatalf("inserted %v", got)
	}
	// A straggler of epoch 1 is dropped without a credit.
	h.send(1, 2, txn(702, 0x200, "9")...)
	h.send(2, 2, txn(703, 0x300, "3")...)
	eventually(t, "epoch 2 second credit", func() bool { return len(h.credits.seqs(2)) == 2 })
	if got := h.collector.inserted(); !slices.Equal(got, []string{"1", "2", "3"}) {
		t.Fatalf("inserted %v", got)
	}
	if got := h.credits.seqs(1); !slices.Equal(got, []uint64{1}) {
		t.Fatalf("epoch 1 credits %v", got)
	}
	if f := h.fails.first(); f != nil {
		t.Fatalf("builder failed: %v", f)
	}
}

func TestBuilderFailsWithAClassifiedDecodeError(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		items  []protocol.WalItem
		class  pgwire.Class
		remedy string
	}{
		{"error - update without the old row needs the operator", []protocol.WalItem{
			xlog(0, pgRelation(1, "items", 'd', "id", "v")), xlog(0, pgBegin(0x100, 9)), xlog(0, pgUpdateWithoutOld(1, "1", "x")),
		}, pgwire.OperatorNeeded, `ALTER TABLE "public"."items" REPLICA IDENTITY FULL`},
		{"error - garbage is retried", []protocol.WalItem{xlog(0x42, []byte("Zgarbage"))}, pgwire.Retryable, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, 0, false)
			h.send(1, 1, tc.items...)
			eventually(t, "the builder to fail", func() bool { return h.fails.first() != nil })
			err, isErr := h.fails.first().(error)
			if !isErr {
				t.Fatalf("failure reason %T %v is not an error", h.fails.first(), h.fails.first())
			}
			d := pgwire.Diagnose(err)
			if d.Class != tc.class || !strings.Contains(d.Remedy, tc.remedy) {
				t.Fatalf("diagnosis %v; want class %v with remedy %q", d, tc.class, tc.remedy)
			}
			if h.logs.FilterMessageSnippet("cannot be decoded").Len() == 0 {
				t.Fatal("the decode error was not logged")
			}
		})
	}
}

func TestBuilderFailsWhenTheCollectorDiesWithAnEventInFlight(t *testing.T) {
	t.Parallel()
	k, _, fails := newKit(t)
	sink := &creditSink{}
	pump := spawn(t, k, "replication", sink.producer())
	// A collector that swallows events and never answers.
	got := make(chan struct{}, 1)
	collector := spawn(t, k, "collector", func() actor.Actor {
		return actor.ReceiveFunc(func(ctx actor.Context) {
			if _, ok := ctx.Message().(*protocol.Event); ok {
				got <- struct{}{}
			}
		})
	})
	b, err := k.SpawnRoot(ChildSpec(Config{Collector: collector, Replication: pump}))
	if err != nil {
		t.Fatal(err)
	}
	k.Root().Send(b, &protocol.WalBatch{Epoch: 1, Seq: 1, Items: []protocol.WalItem{relation()}})
	select {
	case <-got:
	case <-time.After(wait):
		t.Fatal("no event reached the collector")
	}
	k.Root().Stop(collector)
	eventually(t, "the builder to fail", func() bool { return fails.first() != nil })
	if !strings.Contains(fmt.Sprint(fails.first()), "terminated while event 1") {
		t.Fatalf("failure %v", fails.first())
	}
	if err, _ := fails.first().(error); err == nil || pgwire.Classify(err) != pgwire.Retryable {
		t.Fatalf("failure %v: want a retryable error", fails.first())
	}
}
