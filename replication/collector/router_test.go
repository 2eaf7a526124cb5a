package collector

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/shapesync/shapesync/replication/events"
	"github.com/shapesync/shapesync/replication/lsn"
	"github.com/shapesync/shapesync/shapes/protocol"
)

var (
	relA = &events.Relation{ID: 1, Schema: "public", Name: "a"}
	relB = &events.Relation{ID: 2, Schema: "public", Name: "b"}
	relC = &events.Relation{ID: 3, Schema: "public", Name: "c"}
)

func pid(name string) *actor.PID { return actor.NewPID("nonhost", name) }

func frag(xid uint32, commit lsn.LSN, begin, isCommit bool, rels ...*events.Relation) *events.Fragment {
	f := &events.Fragment{Xid: xid, CommitLSN: commit, HasBegin: begin, Commit: isCommit}
	if isCommit {
		f.EndLSN = commit + 8
	}
	for i, r := range rels {
		f.Changes = append(f.Changes, events.Change{Kind: events.Insert, Relation: r, Op: uint64(2 * i)})
	}
	return f
}

func ev(epoch, seq uint64, e events.Event) *protocol.Event {
	return &protocol.Event{Epoch: epoch, Seq: seq, Event: e}
}

// describe renders a step's sends as "kind:shape" in send order.
func describe(st step) []string {
	var out []string
	for _, s := range st.Sends {
		switch m := s.Msg.(type) {
		case *protocol.Deliver:
			out = append(out, fmt.Sprintf("deliver:%d", s.Shape))
		case *protocol.AbortTxn:
			out = append(out, fmt.Sprintf("abort:%d:%d", s.Shape, m.Xid))
		}
	}
	return out
}

func seqOf(t *testing.T, st step, shape protocol.ShapeID) uint64 {
	t.Helper()
	for _, s := range st.Sends {
		if s.Shape != shape {
			continue
		}
		switch m := s.Msg.(type) {
		case *protocol.Deliver:
			return m.Seq
		case *protocol.AbortTxn:
			return m.Seq
		}
	}
	t.Fatalf("no send to shape %d in %v", shape, describe(st))
	return 0
}

// answerAll answers every send of st and returns the final step.
func answerAll(t *testing.T, r *router, st step) step {
	t.Helper()
	for st.Handled == nil {
		if len(st.Sends) == 0 {
			t.Fatalf("step neither sends nor completes")
		}
		sends := st.Sends
		st = step{}
		for _, s := range sends {
			next, err := r.Delivered(s.Shape, seqOf(t, step{Sends: []send{s}}, s.Shape))
			if err != nil {
				t.Fatal(err)
			}
			if next.Handled != nil || len(next.Sends) > 0 {
				st = next
			}
		}
	}
	return st
}

func newTestRouter(start lsn.LSN) *router {
	r := newRouter(start)
	r.Subscribe(1, "h1", tableName{"public", "a"}, pid("c1"), nil)
	r.Subscribe(2, "h2", tableName{"public", "b"}, pid("c2"), nil)
	r.Subscribe(3, "h3", tableName{"public", "a"}, pid("c3"), nil)
	return r
}

func TestRouterRouting(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// events handled one after another; want is the sends of each.
		events []*events.Fragment
		want   [][]string
	}{
		{"ok - a fragment goes to the shapes of the tables it touches",
			[]*events.Fragment{frag(10, 100, true, true, relA)},
			[][]string{{"deliver:1", "deliver:3"}}},
		{"ok - two tables reach every shape of both",
			[]*events.Fragment{frag(10, 100, true, true, relB, relA)},
			[][]string{{"deliver:1", "deliver:2", "deliver:3"}}},
		{"ok - a transaction for no shape is delivered nowhere",
			[]*events.Fragment{frag(10, 100, true, true, relC)},
			[][]string{nil}},
		{"ok - the commit reaches every shape that got an earlier fragment",
			[]*events.Fragment{frag(10, 100, true, false, relB), frag(10, 100, false, false, relA), frag(10, 100, false, true)},
			[][]string{{"deliver:2"}, {"deliver:1", "deliver:3"}, {"deliver:1", "deliver:2", "deliver:3"}}},
		{"ok - a middle fragment goes only where its changes go",
			[]*events.Fragment{frag(10, 100, true, false, relA), frag(10, 100, false, false, relB), frag(10, 100, false, true, relC)},
			[][]string{{"deliver:1", "deliver:3"}, {"deliver:2"}, {"deliver:1", "deliver:2", "deliver:3"}}},
		{"ok - an empty commit goes nowhere",
			[]*events.Fragment{frag(10, 100, true, true)},
			[][]string{nil}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newTestRouter(0)
			for i, f := range tc.events {
				st, err := r.Event(ev(1, uint64(i+1), f))
				if err != nil {
					t.Fatal(err)
				}
				if got := describe(st); !slices.Equal(got, tc.want[i]) {
					t.Fatalf("event %d: sends %v, want %v", i, got, tc.want[i])
				}
				if st.Handled == nil {
					st = answerAll(t, r, st)
				}
				if st.Handled.Seq != uint64(i+1) {
					t.Fatalf("event %d: handled seq %d", i, st.Handled.Seq)
				}
			}
		})
	}
}

func TestRouterWaitsForEveryAnswer(t *testing.T) {
	t.Parallel()
	r := newTestRouter(0)
	st, err := r.Event(ev(1, 1, frag(10, 100, true, true, relA)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Event(ev(1, 2, frag(11, 200, true, true, relA))); !errors.Is(err, errBusy) {
		t.Fatalf("second event while busy: err %v, want errBusy", err)
	}
	next, _ := r.Delivered(1, seqOf(t, st, 1))
	if next.Handled != nil {
		t.Fatal("handled after one of two answers")
	}
	if next, _ = r.Delivered(3, seqOf(t, st, 3)+99); next.Handled != nil {
		t.Fatal("a stale answer completed the event")
	}
	if next, _ = r.Delivered(1, seqOf(t, st, 1)); next.Handled != nil {
		t.Fatal("a repeated answer completed the event")
	}
	if r.Position() != 0 {
		t.Fatalf("position %s before the commit completed", r.Position())
	}
	next, _ = r.Delivered(3, seqOf(t, st, 3))
	if next.Handled == nil {
		t.Fatal("not handled after every answer")
	}
	// Delivered, not yet flushed: the position stays before the commit.
	if r.Position() != 0 {
		t.Fatalf("position %s before any flush", r.Position())
	}
	r.Flushed(map[protocol.ShapeID]lsn.LSN{1: 100})
	if r.Position() != 0 {
		t.Fatalf("position %s with shape 3 not flushed", r.Position())
	}
	r.Flushed(map[protocol.ShapeID]lsn.LSN{3: 100})
	if r.Position() != 108 {
		t.Fatalf("position %s, want 0/6C (the commit's end)", r.Position())
	}
}

// A flush report can overtake the commit it covers: shape 1 is synced
// while shape 3 has not answered yet.
func TestRouterFlushBeforeCommit(t *testing.T) {
	t.Parallel()
	r := newTestRouter(0)
	st, _ := r.Event(ev(1, 1, frag(10, 100, true, true, relA)))
	r.Delivered(1, seqOf(t, st, 1))
	r.Flushed(map[protocol.ShapeID]lsn.LSN{1: 100})
	r.Flushed(map[protocol.ShapeID]lsn.LSN{3: 100})
	if next, _ := r.Delivered(3, seqOf(t, st, 3)); next.Handled == nil {
		t.Fatal("not handled")
	}
	if r.Position() != 108 {
		t.Fatalf("position %s, want 0/6C: the early flush reports must count", r.Position())
	}
}

func TestRouterDeduplicatesCommits(t *testing.T) {
	t.Parallel()
	r := newTestRouter(0)
	answerAll(t, r, must(r.Event(ev(1, 1, frag(10, 100, true, true, relA)))))
	for _, f := range []*events.Fragment{
		frag(10, 100, true, true, relA), // the same transaction again
		frag(9, 50, true, false, relA),  // an older one, from its first fragment
	} {
		st := must(r.Event(ev(2, 2, f)))
		if st.Handled == nil || len(st.Sends) > 0 {
			t.Fatalf("replayed %d at %s: sends %v, handled %v", f.Xid, f.CommitLSN, describe(st), st.Handled != nil)
		}
	}
	// A WalEnd moves the floor too: a commit before it is a replay.
	r2 := newTestRouter(0)
	must(r2.Event(ev(1, 1, &events.WalEnd{LSN: 500})))
	if st := must(r2.Event(ev(1, 2, frag(10, 400, true, true, relA)))); st.Handled == nil {
		t.Fatal("a commit before a WalEnd already seen was delivered")
	}
	// The acknowledged start position is a floor as well.
	r3 := newTestRouter(300)
	if st := must(r3.Event(ev(1, 1, frag(10, 200, true, true, relA)))); st.Handled == nil {
		t.Fatal("a commit before the start position was delivered")
	}
	if st := must(r3.Event(ev(1, 2, frag(11, 300, true, true, relA)))); st.Handled != nil {
		t.Fatal("a commit at the start position was dropped")
	}
}

func must(st step, err error) step {
	if err != nil {
		panic(err)
	}
	return st
}

func TestRouterWalEndAndEmptyTransactions(t *testing.T) {
	t.Parallel()
	r := newTestRouter(10)
	if st := must(r.Event(ev(1, 1, frag(10, 100, true, true, relC)))); st.Handled == nil {
		t.Fatal("a transaction for no shape waits")
	}
	if r.Position() != 108 {
		t.Fatalf("position %s after a transaction for no shape, want 0/6C (B11)", r.Position())
	}
	must(r.Event(ev(1, 2, &events.WalEnd{LSN: 400})))
	if r.Position() != 400 {
		t.Fatalf("position %s after WalEnd, want 0/190", r.Position())
	}
	// A pending shape holds the WalEnd back until it is flushed.
	answerAll(t, r, must(r.Event(ev(1, 3, frag(11, 500, true, true, relB)))))
	must(r.Event(ev(1, 4, &events.WalEnd{LSN: 900})))
	if r.Position() != 400 {
		t.Fatalf("position %s with shape 2 pending, want 0/190 (I3)", r.Position())
	}
	r.Flushed(map[protocol.ShapeID]lsn.LSN{2: 500})
	if r.Position() != 900 {
		t.Fatalf("position %s after the flush, want 0/384", r.Position())
	}
}

func TestRouterLostConsumer(t *testing.T) {
	t.Parallel()
	r := newTestRouter(0)
	st := must(r.Event(ev(1, 1, frag(10, 100, true, true, relA))))
	r.Delivered(1, seqOf(t, st, 1))
	rt, next, err := r.Lost("c3")
	if err != nil || rt == nil || rt.shape != 3 || rt.handle != "h3" {
		t.Fatalf("Lost(c3) = %+v, %v", rt, err)
	}
	if next.Handled == nil {
		t.Fatal("the event still waits for a dead consumer")
	}
	r.Flushed(map[protocol.ShapeID]lsn.LSN{1: 100})
	if r.Position() != 108 {
		t.Fatalf("position %s: the dead shape still pins it", r.Position())
	}
	if st := must(r.Event(ev(1, 2, frag(11, 200, true, true, relA)))); !slices.Equal(describe(st), []string{"deliver:1"}) {
		t.Fatalf("after the loss: sends %v, want only shape 1", describe(st))
	}
	if rt, _, _ := r.Lost("c3"); rt != nil {
		t.Fatal("a second termination found a route")
	}
}

func TestRouterUnsubscribeUnpins(t *testing.T) {
	t.Parallel()
	r := newTestRouter(0)
	answerAll(t, r, must(r.Event(ev(1, 1, frag(10, 100, true, true, relB)))))
	if r.Position() != 0 {
		t.Fatal("position moved without a flush")
	}
	if rt, _, _ := r.Unsubscribe(2); rt == nil {
		t.Fatal("Unsubscribe(2) found nothing")
	}
	if r.Position() != 108 {
		t.Fatalf("position %s after unsubscribe, want 0/6C", r.Position())
	}
	if rt, _, _ := r.Unsubscribe(2); rt != nil {
		t.Fatal("second Unsubscribe found a route")
	}
}

func TestRouterAbortsAnAbandonedTransaction(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		next *protocol.Event
		want []string // sends of the abort phase
		then []string // sends once the aborts are answered
	}{
		{"ok - a new epoch resends the transaction from its begin",
			ev(2, 1, frag(10, 100, true, true, relA)),
			[]string{"abort:1:10", "abort:3:10"}, []string{"deliver:1", "deliver:3"}},
		{"ok - a WalEnd of a new epoch",
			ev(2, 1, &events.WalEnd{LSN: 50}),
			[]string{"abort:1:10", "abort:3:10"}, nil},
		{"ok - another transaction in the same epoch",
			ev(1, 3, frag(11, 200, true, true, relB)),
			[]string{"abort:1:10", "abort:3:10"}, []string{"deliver:2"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newTestRouter(0)
			answerAll(t, r, must(r.Event(ev(1, 1, frag(10, 100, true, false, relA)))))
			st := must(r.Event(tc.next))
			if got := describe(st); !slices.Equal(got, tc.want) {
				t.Fatalf("abort phase: %v, want %v", got, tc.want)
			}
			var final step
			for _, s := range st.Sends {
				n := must(r.Delivered(s.Shape, seqOf(t, step{Sends: []send{s}}, s.Shape)))
				if len(n.Sends) > 0 || n.Handled != nil {
					final = n
				}
			}
			if got := describe(final); !slices.Equal(got, tc.then) {
				t.Fatalf("after the aborts: %v, want %v", got, tc.then)
			}
		})
	}
}

func TestRouterSubscriptionTakesEffectForLaterEvents(t *testing.T) {
	t.Parallel()
	r := newTestRouter(0)
	st := must(r.Event(ev(1, 1, frag(10, 100, true, false, relA))))
	r.Subscribe(4, "h4", tableName{"public", "a"}, pid("c4"), nil)
	if strings.Contains(strings.Join(describe(st), ","), ":4") {
		t.Fatal("a subscription reached an event already dispatched")
	}
	answerAll(t, r, st)
	// The new shape joins the open transaction mid-way: it gets the rest.
	st = must(r.Event(ev(1, 2, frag(10, 100, false, true, relA))))
	if got := describe(st); !slices.Equal(got, []string{"deliver:1", "deliver:3", "deliver:4"}) {
		t.Fatalf("commit after the subscription: %v", got)
	}
}

func TestAckWindow(t *testing.T) {
	t.Parallel()
	a := ackWindow{durable: 10}
	if _, ok := a.next(10); ok {
		t.Fatal("asked to persist the durable position again")
	}
	if l, ok := a.next(20); !ok || l != 20 {
		t.Fatalf("next(20) = %s, %t", l, ok)
	}
	if _, ok := a.next(30); ok {
		t.Fatal("two PersistAcks outstanding")
	}
	if d := a.persisted(20); d != 20 {
		t.Fatalf("durable %s", d)
	}
	if l, ok := a.next(30); !ok || l != 30 {
		t.Fatalf("the merged advance was not sent: %s, %t", l, ok)
	}
}

// hasBegin reports the HasBegin flag of the fragment delivered to shape.
func hasBegin(t *testing.T, st step, shape protocol.ShapeID) bool {
	t.Helper()
	for _, s := range st.Sends {
		if d, ok := s.Msg.(*protocol.Deliver); ok && s.Shape == shape {
			return d.Fragment.HasBegin
		}
	}
	t.Fatalf("nothing delivered to shape %d", shape)
	return false
}

// A shape's first fragment of a transaction it saw begin is marked as its
// begin, even when earlier fragments had nothing for it; a shape that
// subscribed mid-transaction gets the rest unmarked (its consumer then
// requires the transaction to be visible in its snapshot).
func TestRouterMarksEachShapesFirstFragment(t *testing.T) {
	t.Parallel()
	r := newTestRouter(0)
	first := frag(10, 100, true, false, relA)
	answerAll(t, r, must(r.Event(ev(1, 1, first))))
	r.Subscribe(4, "h4", tableName{"public", "b"}, pid("c4"), nil)
	middle := frag(10, 100, false, false, relB)
	st := must(r.Event(ev(1, 2, middle)))
	if !hasBegin(t, st, 2) {
		t.Fatal("shape 2 saw the transaction begin, but its first fragment is not marked")
	}
	if hasBegin(t, st, 4) {
		t.Fatal("shape 4 joined mid-transaction, but its first fragment is marked as the begin")
	}
	if middle.HasBegin {
		t.Fatal("the shared fragment was modified")
	}
	answerAll(t, r, st)
	st = must(r.Event(ev(1, 3, frag(10, 100, false, true, relB))))
	if hasBegin(t, st, 2) || hasBegin(t, st, 1) {
		t.Fatal("a later fragment is marked as the begin")
	}
	answerAll(t, r, st)
	// The next transaction begins after shape 4's subscription.
	answerAll(t, r, must(r.Event(ev(1, 4, frag(11, 200, true, false, relA)))))
	if st = must(r.Event(ev(1, 5, frag(11, 200, false, true, relB)))); !hasBegin(t, st, 4) {
		t.Fatal("shape 4 saw transaction 11 begin, but its first fragment is not marked")
	}
}
