package collector_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"go.uber.org/zap"

	"github.com/shapesync/shapesync/actors"
	"github.com/shapesync/shapesync/replication/collector"
	"github.com/shapesync/shapesync/replication/events"
	"github.com/shapesync/shapesync/replication/lsn"
	"github.com/shapesync/shapesync/shapes/consumer"
	"github.com/shapesync/shapesync/shapes/protocol"
	"github.com/shapesync/shapesync/shapes/storage"
)

const wait = 15 * time.Second

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

// --- the stream: two shaped tables and one without a shape -------------

func relation(oid uint32, name string) *events.Relation {
	return &events.Relation{ID: oid, Schema: "public", Name: name, ReplicaIdentity: 'f', Columns: []events.Column{
		{Name: "id", TypeOID: 23, TypeMod: -1, InIdentity: true}, {Name: "v", TypeOID: 25, TypeMod: -1, InIdentity: true}}}
}

func table(oid uint32, name string) *events.Table {
	return &events.Table{OID: oid, Schema: "public", Name: name, PrimaryKey: []int{0}, ReplicaIdentityFull: true,
		Columns: []events.TableColumn{{Name: "id", TypeOID: 23, TypeMod: -1}, {Name: "v", TypeOID: 25, TypeMod: -1}}}
}

var (
	relA, relB, relC = relation(101, "a"), relation(102, "b"), relation(103, "c")
)

func tuple(id int, v string) events.Tuple { return events.Tuple{{Text: fmt.Sprint(id)}, {Text: v}} }

func insert(rel *events.Relation, id int) events.Change {
	return events.Change{Kind: events.Insert, Relation: rel, New: tuple(id, "v")}
}

func update(rel *events.Relation, oldID, newID int, v string) events.Change {
	return events.Change{Kind: events.Update, Relation: rel, Old: tuple(oldID, "v"), New: tuple(newID, v)}
}

func remove(rel *events.Relation, id int) events.Change {
	return events.Change{Kind: events.Delete, Relation: rel, Old: tuple(id, "v")}
}

// txn cuts a transaction into fragments of the given sizes (the last one
// carries the commit; a trailing 0 gives an empty commit fragment) and
// numbers its changes 0, 2, 4, ….
func txn(xid uint32, commit lsn.LSN, sizes []int, changes ...events.Change) []*events.Fragment {
	for i := range changes {
		changes[i].Op = uint64(2 * i)
	}
	if sizes == nil {
		sizes = []int{len(changes)}
	}
	var out []*events.Fragment
	rest := changes
	for i, n := range sizes {
		f := &events.Fragment{Xid: xid, CommitLSN: commit, HasBegin: i == 0, Changes: rest[:n]}
		rest = rest[n:]
		if i == len(sizes)-1 {
			f.Commit, f.EndLSN = true, commit+0x10
		}
		out = append(out, f)
	}
	return out
}

// stream numbers events for one epoch.
func stream(epoch uint64, parts ...any) []*protocol.Event {
	var out []*protocol.Event
	add := func(e events.Event) {
		out = append(out, &protocol.Event{Epoch: epoch, Seq: uint64(len(out) + 1), Event: e})
	}
	for _, p := range parts {
		switch v := p.(type) {
		case []*events.Fragment:
			for _, f := range v {
				add(f)
			}
		case *events.Fragment:
			add(v)
		case lsn.LSN:
			add(&events.WalEnd{LSN: v})
		default:
			panic(fmt.Sprintf("stream: %T", p))
		}
	}
	return out
}

// --- test actors -------------------------------------------------------

// recorder records user messages.
type recorder struct {
	mu   sync.Mutex
	msgs []any
}

func (r *recorder) Receive(ctx actor.Context) {
	switch ctx.Message().(type) {
	case actor.SystemMessage, actor.AutoReceiveMessage:
		return
	}
	r.mu.Lock()
	r.msgs = append(r.msgs, ctx.Message())
	r.mu.Unlock()
}

func of[T any](r *recorder) []T {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []T
	for _, m := range r.msgs {
		if v, ok := m.(T); ok {
			out = append(out, v)
		}
	}
	return out
}

// feed hands a fake txn-builder its events; done is closed when the last
// one was handled.
type feed struct {
	events []*protocol.Event
	done   chan struct{}
}

type retryEvent struct{ ev *protocol.Event }

// fakeBuilder keeps one event in flight, as the txn-builder does: the next
// is sent only after EventHandled for the previous one.
type fakeBuilder struct {
	collector *actors.PID
	queue     []*protocol.Event
	cur       *protocol.Event
	done      chan struct{}
}

func (b *fakeBuilder) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *feed:
		b.queue, b.done = m.events, m.done
		b.next(ctx)
	case *protocol.EventHandled:
		if b.cur != nil && m.Epoch == b.cur.Epoch && m.Seq == b.cur.Seq {
			b.cur = nil
			b.next(ctx)
		}
	case *protocol.NotReady:
		self, root, ev := ctx.Self(), ctx.ActorSystem().Root, b.cur
		time.AfterFunc(5*time.Millisecond, func() { root.Send(self, &retryEvent{ev}) })
	case *retryEvent:
		if m.ev == b.cur {
			ctx.Request(b.collector, b.cur)
		}
	}
}

func (b *fakeBuilder) next(ctx actor.Context) {
	if len(b.queue) == 0 {
		close(b.done)
		return
	}
	b.cur, b.queue = b.queue[0], b.queue[1:]
	ctx.Request(b.collector, b.cur)
}

// dyingConsumer stops itself on its first Deliver, without answering.
type dyingConsumer struct{}

func (dyingConsumer) Receive(ctx actor.Context) {
	if _, ok := ctx.Message().(*protocol.Deliver); ok {
		ctx.Stop(ctx.Self())
	}
}

// fakeReplication records AckLSN and checks, when each arrives, that it is
// durable as S|acked and that every transaction up to it is durable in
// every shape it gave items to (I3).
type fakeReplication struct {
	store      func() *storage.Store
	durableIn  map[lsn.LSN][]protocol.ShapeID // commit LSN → shapes with items
	mu         sync.Mutex
	acks       []lsn.LSN
	violations []string
}

func (r *fakeReplication) Receive(ctx actor.Context) {
	m, ok := ctx.Message().(*protocol.AckLSN)
	if !ok {
		return
	}
	s := r.store()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.acks = append(r.acks, m.LSN)
	if s.Acked() < m.LSN {
		r.violations = append(r.violations, fmt.Sprintf("AckLSN %s before S|acked %s was synced", m.LSN, s.Acked()))
	}
	for commit, shapes := range r.durableIn {
		if commit+0x10 > m.LSN {
			continue
		}
		for _, id := range shapes {
			v, ok := s.View(uint64(id))
			if !ok || v.Committed().Tx < uint64(commit) {
				r.violations = append(r.violations, fmt.Sprintf("AckLSN %s, but shape %d has not stored the commit at %s", m.LSN, id, commit))
			}
		}
	}
}

func (r *fakeReplication) last() lsn.LSN {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.acks) == 0 {
		return 0
	}
	return r.acks[len(r.acks)-1]
}

func (r *fakeReplication) problems() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.violations)
}

type positions struct{ durable atomic.Uint64 }

func (p *positions) SetDurable(l lsn.LSN) { p.durable.Store(uint64(l)) }

// gate holds syncs while closed (the delayed-sync I3 check).
type gate struct {
	mu     sync.Mutex
	closed chan struct{} // nil: open
}

func (g *gate) close() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed == nil {
		g.closed = make(chan struct{})
	}
}

func (g *gate) open() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed != nil {
		close(g.closed)
		g.closed = nil
	}
}

func (g *gate) sync(ctx context.Context, s *storage.Store, b *storage.Batch) (storage.Result, error) {
	g.mu.Lock()
	ch := g.closed
	g.mu.Unlock()
	if ch != nil {
		select {
		case <-ch:
		case <-ctx.Done():
			return storage.Result{}, ctx.Err()
		}
	}
	return s.WriteAndSync(b)
}

// --- reading the logs back ---------------------------------------------

// logOf renders a shape's durable change log as "op id@offset[+last]".
func logOf(t *testing.T, s *storage.Store, id protocol.ShapeID) []string {
	t.Helper()
	v, ok := s.View(uint64(id))
	if !ok {
		t.Fatalf("shape %d has no durable log", id)
	}
	var out []string
	err := s.Read(uint64(id), lsn.SnapshotEnd, v.Committed(), func(b []byte) error {
		var d struct {
			Value   map[string]string `json:"value"`
			Headers struct {
				Operation string `json:"operation"`
				LSN       string `json:"lsn"`
				Op        uint64 `json:"op_position"`
				Last      bool   `json:"last"`
			} `json:"headers"`
		}
		if err := json.Unmarshal(b, &d); err != nil {
			return fmt.Errorf("item %s: %w", b, err)
		}
		e := fmt.Sprintf("%s %s@%s_%d", d.Headers.Operation, d.Value["id"], d.Headers.LSN, d.Headers.Op)
		if d.Headers.Last {
			e += "+last"
		}
		out = append(out, e)
		return nil
	})
	if err != nil {
		t.Fatalf("read shape %d: %v", id, err)
	}
	return out
}

// --- the pipeline under a kit supervisor --------------------------------

type shapeDef struct {
	id     protocol.ShapeID
	handle string
	table  *events.Table
}

type pipeline struct {
	t           *testing.T
	kit         *actors.Kit
	store       *storage.Store
	shapes      *actors.PID
	collector   *actors.PID
	writer      *actors.PID
	builder     *actors.PID
	registry    *recorder
	snapshotter *recorder
	snapPID     *actors.PID
	repl        *fakeReplication
	pos         *positions
	gate        *gate
}

func spawnRecorder(t *testing.T, k *actors.Kit, label string) (*recorder, *actors.PID) {
	t.Helper()
	r := &recorder{}
	pid, err := k.Spawn(label, func() actor.Actor { return r }, actors.Count(1<<20), actors.Credit)
	if err != nil {
		t.Fatal(err)
	}
	return r, pid
}

// startPipeline spawns writer and collector under a one-for-all "shapes"
// supervisor on store, plus the fake builder, replication and registry.
// acked is the collector's start position.
func startPipeline(t *testing.T, s *storage.Store, acked func() lsn.LSN, durableIn map[lsn.LSN][]protocol.ShapeID) *pipeline {
	t.Helper()
	k := actors.NewKit(zap.NewNop(), actors.ForTesting(),
		actors.WithSlowReceive(500*time.Millisecond, func(sr actors.SlowReceive) { t.Errorf("slow receive: %+v", sr) }))
	p := &pipeline{t: t, kit: k, store: s, pos: &positions{}, gate: &gate{}}
	addr := k.System().Address()
	p.collector = actor.NewPID(addr, "shapes/"+collector.Label)
	p.writer = actor.NewPID(addr, "shapes/"+storage.WriterLabel)

	var registryPID, statusPID, replPID *actors.PID
	p.registry, registryPID = spawnRecorder(t, k, "registry")
	_, statusPID = spawnRecorder(t, k, "status")
	p.snapshotter, p.snapPID = spawnRecorder(t, k, "snapshotter")
	p.repl = &fakeReplication{store: func() *storage.Store { return s }, durableIn: durableIn}
	replPID, err := k.Spawn("replication", func() actor.Actor { return p.repl }, actors.Count(64), actors.Coalesce)
	if err != nil {
		t.Fatal(err)
	}
	p.builder, err = k.Spawn("txn-builder", func() actor.Actor { return &fakeBuilder{collector: p.collector} }, actors.Count(8), actors.Credit)
	if err != nil {
		t.Fatal(err)
	}
	p.shapes, err = k.SpawnRoot(actors.ChildSpec{Label: "shapes", Bound: actors.Count(64), Policy: actors.Credit,
		Producer: actors.Supervisor(actors.SupervisorSpec{
			Strategy: actors.OneForAll,
			Backoff:  actors.Backoff(time.Millisecond, 10*time.Millisecond, 0, 0),
			Children: []actors.ChildSpec{
				storage.WriterChildSpec(storage.WriterConfig{Kit: k, Store: func() *storage.Store { return s },
					Collector: p.collector, Invalidate: registryPID, Sync: p.gate.sync}),
				collector.ChildSpec(collector.Config{Kit: k, Writer: p.writer, Replication: replPID, Acked: acked,
					Positions: p.pos, Status: statusPID, Invalidate: registryPID}),
			},
		})})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.stop)
	eventually(t, "the shapes subsystem to run", func() bool {
		for _, id := range []string{p.collector.Id, p.writer.Id} {
			if info, ok := k.Lookup(id); !ok || info.State != actors.StateRunning {
				return false
			}
		}
		return true
	})
	return p
}

func (p *pipeline) stop() {
	p.gate.open()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if stuck := p.kit.Shutdown(ctx); stuck != nil {
		p.t.Errorf("shutdown left actors running: %v", stuck)
	}
}

func (p *pipeline) request(to *actors.PID, msg any) any {
	p.t.Helper()
	res, err := p.kit.Root().RequestFuture(to, msg, wait).Result()
	if err != nil {
		p.t.Fatalf("request %T to %s: %v", msg, to.Id, err)
	}
	return res
}

// addConsumer starts a shape's consumer under the shapes supervisor,
// resuming from the store, and subscribes it.
func (p *pipeline) addConsumer(d shapeDef) *actors.PID {
	p.t.Helper()
	s := p.store
	spec := consumer.ChildSpec(consumer.Config{Shape: d.id, Handle: d.handle, Table: d.table,
		Writer: p.writer, Collector: p.collector, Invalidate: actor.NewPID(p.kit.System().Address(), "registry"),
		Resume: func() (consumer.StoredLog, bool) {
			v, ok := s.View(uint64(d.id))
			if !ok {
				return nil, false
			}
			return v, true
		}})
	added := p.request(p.shapes, &actors.AddChild{Spec: spec}).(*actors.ChildAdded)
	if added.Err != nil {
		p.t.Fatal(added.Err)
	}
	p.subscribe(d, added.PID)
	return added.PID
}

func (p *pipeline) subscribe(d shapeDef, pid *actors.PID) {
	p.t.Helper()
	got := p.request(p.collector, &protocol.Subscribe{Shape: d.id, Handle: d.handle, Schema: d.table.Schema,
		Table: d.table.Name, Consumer: pid, Seq: uint64(d.id)})
	if sub, ok := got.(*protocol.Subscribed); !ok || sub.Shape != d.id {
		p.t.Fatalf("Subscribe answered %#v", got)
	}
}

// snapshot plays the snapshotter's part: visibility to the consumer, an
// empty snapshot (snapshot-end only) to the writer, stored durably.
func (p *pipeline) snapshot(d shapeDef, consumerPID *actors.PID, snap lsn.Snapshot) {
	p.t.Helper()
	p.kit.Root().Send(consumerPID, &protocol.SnapshotKnown{Shape: d.id, Snapshot: snap})
	p.kit.Root().Send(p.writer, &protocol.SnapshotEnd{Shape: d.id, Seq: uint64(d.id),
		JSON: []byte(`{"headers":{"control":"snapshot-end"}}`), ReplyTo: p.snapPID})
	eventually(p.t, fmt.Sprintf("shape %d's snapshot to be stored", d.id), func() bool {
		return slices.ContainsFunc(of[*protocol.SnapshotStored](p.snapshotter), func(m *protocol.SnapshotStored) bool { return m.Shape == d.id })
	})
}

func (p *pipeline) ready() { p.kit.Root().Send(p.collector, &protocol.CollectorReady{}) }

// run feeds events through the fake builder and waits until the last one
// was handled.
func (p *pipeline) run(evs []*protocol.Event) {
	p.t.Helper()
	done := make(chan struct{})
	p.kit.Root().Send(p.builder, &feed{events: evs, done: done})
	select {
	case <-done:
	case <-time.After(wait):
		p.t.Fatalf("the collector did not handle every event within %v", wait)
	}
}

func (p *pipeline) waitAck(l lsn.LSN) {
	p.t.Helper()
	eventually(p.t, "AckLSN "+l.String(), func() bool { return p.repl.last() == l })
	if d := lsn.LSN(p.pos.durable.Load()); d != l {
		p.t.Fatalf("durable position for /v1/status %s, want %s", d, l)
	}
}

func (p *pipeline) invalidated() []protocol.ShapeID {
	var out []protocol.ShapeID
	for _, m := range of[*protocol.ShapeInvalid](p.registry) {
		out = append(out, m.Shape)
	}
	return out
}
