package collector_test

import (
	"slices"
	"sync"
	"testing"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/shapesync/shapesync/actors"
	"github.com/shapesync/shapesync/replication/lsn"
	"github.com/shapesync/shapesync/shapes/filter"
	"github.com/shapesync/shapesync/shapes/protocol"
)

// echoConsumer plays a consumer that keeps nothing: it records the xid of
// every fragment delivered, marks each commit with the writer (so flushes
// are reported as for a real consumer) and answers Delivered.
type echoConsumer struct {
	shape  protocol.ShapeID
	writer *actors.PID
	mu     sync.Mutex
	xids   []uint32
}

func (c *echoConsumer) Receive(ctx actor.Context) {
	m, ok := ctx.Message().(*protocol.Deliver)
	if !ok {
		return
	}
	c.mu.Lock()
	c.xids = append(c.xids, m.Fragment.Xid)
	c.mu.Unlock()
	if m.Fragment.Commit {
		ctx.Send(c.writer, &protocol.Append{Seq: m.Seq, Shape: c.shape, Commit: &protocol.CommitMark{LSN: m.Fragment.CommitLSN}, ReplyTo: ctx.Self()})
	}
	ctx.Respond(&protocol.Delivered{Seq: m.Seq, Shape: c.shape})
}

func (c *echoConsumer) got() []uint32 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.xids)
}

// TestPipelineRoutesByCondition: Subscribe.Route reaches the collector's
// index through the actor, so each consumer gets only the transactions
// whose rows may match it, and a transaction for nobody is acknowledged.
func TestPipelineRoutesByCondition(t *testing.T) {
	t.Parallel()
	s := openStore(t, t.TempDir())
	p := startPipeline(t, s, s.Acked, nil)
	consumers := map[protocol.ShapeID]*echoConsumer{}
	for _, sub := range []struct {
		id    protocol.ShapeID
		route any
	}{
		{1, filter.Eq{Column: 0, Value: "1"}},
		{2, filter.In{Column: 0, Values: []string{"2", "3"}}},
		{3, nil},                      // no condition: every change of the table
		{4, "not a filter condition"}, // refused: every change too
	} {
		c := &echoConsumer{shape: sub.id, writer: p.writer}
		pid, err := p.kit.Spawn("echo-"+string(rune('0'+sub.id)), func() actor.Actor { return c }, actors.Count(64), actors.Credit)
		if err != nil {
			t.Fatal(err)
		}
		consumers[sub.id] = c
		got := p.request(p.collector, &protocol.Subscribe{Shape: sub.id, Handle: "h", Schema: "public", Table: "a",
			Consumer: pid, Seq: uint64(sub.id), Route: sub.route})
		if _, ok := got.(*protocol.Subscribed); !ok {
			t.Fatalf("Subscribe answered %#v", got)
		}
	}
	p.ready()
	p.run(stream(1,
		txn(600, 0x1000, nil, insert(relA, 9)), // the first change after subscribing reaches all
		txn(601, 0x2000, nil, insert(relA, 1)),
		txn(602, 0x3000, nil, insert(relA, 3), insert(relB, 1)),
		txn(603, 0x4000, nil, update(relA, 1, 2, "moved")),
		txn(604, 0x5000, nil, insert(relA, 7)),
	))
	want := map[protocol.ShapeID][]uint32{
		1: {600, 601, 603},
		2: {600, 602, 603},
		3: {600, 601, 602, 603, 604},
		4: {600, 601, 602, 603, 604},
	}
	for id, xids := range want {
		if got := consumers[id].got(); !slices.Equal(got, xids) {
			t.Errorf("shape %d got transactions %v, want %v", id, got, xids)
		}
	}
	p.waitAck(lsn.LSN(0x5000 + 0x10))
	// With only conditional shapes left, a transaction none of them matches
	// is acknowledged without a single delivery.
	p.kit.Root().Send(p.collector, &protocol.Unsubscribe{Shape: 3})
	p.kit.Root().Send(p.collector, &protocol.Unsubscribe{Shape: 4})
	p.run(stream(1, txn(605, 0x6000, nil, insert(relA, 8))))
	p.waitAck(lsn.LSN(0x6000 + 0x10))
	if got := consumers[1].got(); len(got) != 3 {
		t.Errorf("shape 1 got %v after the last transaction, want nothing more", got)
	}
	if problems := p.repl.problems(); len(problems) > 0 {
		t.Fatal(problems)
	}
}
