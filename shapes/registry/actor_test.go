package registry

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"go.uber.org/goleak"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/shapesync/shapesync/actors"
	"github.com/shapesync/shapesync/replication/events"
	"github.com/shapesync/shapesync/shapes/protocol"
	"github.com/shapesync/shapesync/shapes/shape"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// memRecords is an in-memory Records.
type memRecords struct {
	mu      sync.Mutex
	next    protocol.ShapeID
	recs    map[string]Record
	deleted []string
}

func (m *memRecords) AllocateShapeID() protocol.ShapeID {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.next++
	return m.next
}
func (m *memRecords) Put(_ context.Context, r Record) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.recs[r.Handle] = r
	return nil
}
func (m *memRecords) List(context.Context) ([]Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Record
	for _, r := range m.recs {
		out = append(out, r)
	}
	return out, nil
}
func (m *memRecords) get(handle string) (Record, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.recs[handle]
	return r, ok
}

func (m *memRecords) Delete(_ context.Context, r Record) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.recs, r.Handle)
	m.deleted = append(m.deleted, r.Handle)
	return nil
}

// recorder is an actor that keeps every message it gets (the collector).
type recorder struct {
	mu   sync.Mutex
	msgs []any
}

func (r *recorder) Receive(ctx actor.Context) {
	switch ctx.Message().(type) {
	case *protocol.Subscribe, *protocol.CollectorReady, *protocol.Unsubscribe:
		r.mu.Lock()
		r.msgs = append(r.msgs, ctx.Message())
		r.mu.Unlock()
	}
}

func (r *recorder) snapshot() []any {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]any(nil), r.msgs...)
}

// idle is a shape actor stand-in that does nothing.
type idle struct{}

func (idle) Receive(actor.Context) {}

type fixture struct {
	kit       *actors.Kit
	view      *View
	records   *memRecords
	collector *recorder
	reg       *actors.PID
	consumers *actors.PID
}

func start(t *testing.T, records *memRecords) *fixture {
	t.Helper()
	// The kit's logger outlives the test (dead letters are logged while it
	// shuts down), so it must not be the test's logger.
	kit := actors.NewKit(zap.NewNop(), actors.ForTesting())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if stuck := kit.Shutdown(ctx); len(stuck) > 0 {
			t.Errorf("actors did not stop: %v", stuck)
		}
	})
	f := &fixture{kit: kit, view: NewView(nil), records: records, collector: &recorder{}}
	col, err := kit.Spawn("collector", func() actor.Actor { return f.collector }, actors.Count(64), actors.Credit)
	if err != nil {
		t.Fatal(err)
	}
	f.consumers, err = kit.SpawnRoot(actors.ChildSpec{Label: "consumers", Producer: actors.Supervisor(actors.SupervisorSpec{
		Strategy: actors.OneForOne, Backoff: actors.Backoff(10*time.Millisecond, 100*time.Millisecond, 0, time.Second),
	}), Bound: actors.Count(64), Policy: actors.Credit})
	if err != nil {
		t.Fatal(err)
	}
	f.reg, err = kit.Spawn(Label, Producer(Config{
		View: f.view, Records: records, Consumers: f.consumers, Collector: col, Kit: kit, Log: zaptest.NewLogger(t),
		Children: func(e *Entry, restored bool) []actors.ChildSpec {
			specs := []actors.ChildSpec{{Label: ConsumerLabel(e.Handle), Producer: func() actor.Actor { return idle{} }, Bound: actors.Count(64), Policy: actors.Credit, Restart: actors.Temporary}}
			if !restored {
				specs = append(specs, actors.ChildSpec{Label: SnapshotLabel(e.Handle), Producer: func() actor.Actor { return idle{} }, Bound: actors.Count(8), Policy: actors.Credit, Restart: actors.Temporary})
			}
			return specs
		},
	}), Bound(), Policy)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return f.view.Loaded() })
	return f
}

func (f *fixture) create(t *testing.T, table string) *Entry {
	t.Helper()
	def := shape.Definition{Schema: "public", Table: table}
	res, err := f.kit.Root().RequestFuture(f.reg, &CreateOrGet{Definition: def, Table: &events.Table{Schema: "public", Name: table}}, 5*time.Second).Result()
	if err != nil {
		t.Fatal(err)
	}
	c := res.(*Created)
	if c.Err != nil {
		t.Fatal(c.Err)
	}
	return c.Entry
}

func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestCreateShareRestoreInvalidate covers the registry's life cycle: one
// handle per definition, even for concurrent requests; a durable record
// before the answer; restore of ready shapes with their subscriptions ahead
// of CollectorReady; dropping of shapes whose snapshot never finished; and
// invalidation that hides the handle, unsubscribes and reclaims.
func TestCreateShareRestoreInvalidate(t *testing.T) {
	records := &memRecords{recs: map[string]Record{}}
	f := start(t, records)

	var wg sync.WaitGroup
	handles := make([]string, 8)
	for i := range handles {
		wg.Add(1)
		go func() { defer wg.Done(); handles[i] = f.create(t, "items").Handle }()
	}
	wg.Wait()
	for _, h := range handles {
		if h != handles[0] {
			t.Fatalf("concurrent creations gave different handles: %v", handles)
		}
	}
	items, _ := f.view.ByHandle(handles[0])
	if _, ok := records.get(items.Handle); !ok {
		t.Fatal("shape answered before its record was stored")
	}
	other := f.create(t, "other")
	if other.Handle == items.Handle {
		t.Fatal("two definitions share a handle")
	}
	f.kit.Root().Send(f.reg, &protocol.SnapshotStored{Shape: items.ID})
	waitFor(t, func() bool { e, _ := f.view.ByHandle(items.Handle); return e.State == Ready })
	waitFor(t, func() bool { r, _ := records.get(items.Handle); return r.SnapshotDone })

	// A restart restores "items" (snapshot done) and drops "other".
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if stuck := f.kit.Shutdown(ctx); len(stuck) > 0 {
		t.Fatalf("stuck: %v", stuck)
	}
	g := start(t, records)
	if e, ok := g.view.ByHandle(items.Handle); !ok || e.State != Ready || e.ID != items.ID {
		t.Fatalf("restored entry = %+v, %v", e, ok)
	}
	if _, ok := g.view.ByHandle(other.Handle); ok {
		t.Fatal("a shape whose snapshot never finished was restored")
	}
	waitFor(t, func() bool { return len(g.collector.snapshot()) >= 2 })
	msgs := g.collector.snapshot()
	sub, ok := msgs[0].(*protocol.Subscribe)
	if !ok || sub.Shape != items.ID || sub.Consumer == nil {
		t.Fatalf("first message to the collector = %#v; want the restored shape's Subscribe", msgs[0])
	}
	if _, ok := msgs[1].(*protocol.CollectorReady); !ok {
		t.Fatalf("second message = %#v; want CollectorReady", msgs[1])
	}
	if again := g.create(t, "items"); again.Handle != items.Handle {
		t.Fatalf("after restart the definition got handle %s; want %s", again.Handle, items.Handle)
	}

	g.kit.Root().Send(g.reg, &Invalidate{Handle: items.Handle, Reason: errors.New("test")})
	waitFor(t, func() bool { e, _ := g.view.ByHandle(items.Handle); return e.State == Invalidated })
	waitFor(t, func() bool { _, kept := records.get(items.Handle); return !kept })
	fresh := g.create(t, "items")
	if fresh.Handle == items.Handle {
		t.Fatal("an invalidated handle was reissued")
	}
}
