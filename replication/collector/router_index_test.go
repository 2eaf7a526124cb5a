package collector

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/shapesync/shapesync/replication/events"
	"github.com/shapesync/shapesync/replication/lsn"
	"github.com/shapesync/shapesync/shapes/filter"
	"github.com/shapesync/shapesync/shapes/protocol"
)

var tableA = tableName{Schema: "public", Name: "a"}

// tup builds a row of table a: (id, owner).
func tup(id, owner string) events.Tuple {
	return events.Tuple{{Text: id}, {Text: owner}}
}

func ins(row events.Tuple) events.Change {
	return events.Change{Kind: events.Insert, Relation: relA, New: row}
}

func upd(old, new events.Tuple) events.Change {
	return events.Change{Kind: events.Update, Relation: relA, Old: old, New: new}
}

// txnOf is a whole transaction in one fragment, as the builder sends a
// small one.
func txnOf(xid uint32, commit lsn.LSN, changes ...events.Change) *events.Fragment {
	return &events.Fragment{Xid: xid, CommitLSN: commit, EndLSN: commit + 8, HasBegin: true, Commit: true, Changes: changes}
}

// indexedRouter subscribes shape 1 to `id = 1`, shape 2 to `id = 2` and
// shape 3 to every row of table a, and routes one transaction so that the
// first change after the subscriptions (which reaches every shape, see
// tableState) is behind them. It returns the next free commit LSN.
func indexedRouter(t *testing.T) (*router, lsn.LSN) {
	t.Helper()
	r := newRouter(0)
	sub(t, r, 1, filter.Eq{Column: 0, Value: "1"})
	sub(t, r, 2, filter.Eq{Column: 0, Value: "2"})
	sub(t, r, 3, nil)
	st := must(r.Event(ev(1, 1, txnOf(1, 100, ins(tup("9", "x"))))))
	if got := describe(st); !slices.Equal(got, []string{"deliver:1", "deliver:2", "deliver:3"}) {
		t.Fatalf("first change after subscribing: %v, want every shape", got)
	}
	answerAll(t, r, st)
	r.Flushed(map[protocol.ShapeID]lsn.LSN{1: 100, 2: 100, 3: 100})
	return r, 200
}

func TestRouterIndexRoutesOnlyToMatchingShapes(t *testing.T) {
	t.Parallel()
	r, c := indexedRouter(t)
	cases := []struct {
		change events.Change
		want   []string
	}{
		{ins(tup("1", "x")), []string{"deliver:1", "deliver:3"}},
		{ins(tup("2", "x")), []string{"deliver:2", "deliver:3"}},
		{ins(tup("7", "x")), []string{"deliver:3"}},
		{events.Change{Kind: events.Delete, Relation: relA, Old: tup("2", "x")}, []string{"deliver:2", "deliver:3"}},
		{events.Change{Kind: events.Truncate, Relation: relA}, []string{"deliver:1", "deliver:2", "deliver:3"}},
	}
	for i, tc := range cases {
		st := must(r.Event(ev(1, uint64(i+2), txnOf(uint32(i+2), c, tc.change))))
		if got := describe(st); !slices.Equal(got, tc.want) {
			t.Fatalf("%s of %v: sends %v, want %v", tc.change.Kind, tc.change.New, got, tc.want)
		}
		answerAll(t, r, st)
		c += 100
	}
}

// An update that moves a row out of shape A's condition into shape B's
// reaches both: A must delete it, B must insert it.
func TestRouterIndexUpdateReachesOldAndNewShape(t *testing.T) {
	t.Parallel()
	r := newRouter(0)
	sub(t, r, 1, filter.Eq{Column: 1, Value: "alice"})
	sub(t, r, 2, filter.Eq{Column: 1, Value: "bob"})
	sub(t, r, 3, filter.Eq{Column: 1, Value: "carol"})
	answerAll(t, r, must(r.Event(ev(1, 1, txnOf(1, 100, ins(tup("0", "nobody")))))))
	st := must(r.Event(ev(1, 2, txnOf(2, 200, upd(tup("5", "alice"), tup("5", "bob"))))))
	if got := describe(st); !slices.Equal(got, []string{"deliver:1", "deliver:2"}) {
		t.Fatalf("moving update: sends %v, want shapes 1 and 2 only", got)
	}
}

// A residual condition is evaluated for every change of the table, on the
// old and the new row, and decides delivery.
func TestRouterIndexEvaluatesResiduals(t *testing.T) {
	t.Parallel()
	r := newRouter(0)
	var seen []string
	odd := filter.Residual{Matches: func(row events.Tuple) bool {
		seen = append(seen, row[0].Text)
		return row[0].Text[len(row[0].Text)-1]%2 == 1
	}}
	sub(t, r, 1, odd)
	sub(t, r, 2, filter.Eq{Column: 0, Value: "4"})
	answerAll(t, r, must(r.Event(ev(1, 1, txnOf(1, 100, ins(tup("0", "x")))))))
	seen = nil
	cases := []struct {
		change events.Change
		want   []string
		evals  []string
	}{
		{ins(tup("3", "x")), []string{"deliver:1"}, []string{"3"}},
		{ins(tup("4", "x")), []string{"deliver:2"}, []string{"4"}},
		{upd(tup("4", "x"), tup("5", "x")), []string{"deliver:1", "deliver:2"}, []string{"4", "5"}},
	}
	for i, tc := range cases {
		st := must(r.Event(ev(1, uint64(i+2), txnOf(uint32(i+2), lsn.LSN(200+100*i), tc.change))))
		if got := describe(st); !slices.Equal(got, tc.want) {
			t.Fatalf("change %d: sends %v, want %v", i, got, tc.want)
		}
		if !slices.Equal(seen, tc.evals) {
			t.Fatalf("change %d: residual evaluated on %v, want %v", i, seen, tc.evals)
		}
		seen = nil
		answerAll(t, r, st)
	}
}

func TestRouterIndexUnsubscribeRemovesTheCondition(t *testing.T) {
	t.Parallel()
	r, c := indexedRouter(t)
	if rt, _, _ := r.Unsubscribe(1); rt == nil {
		t.Fatal("Unsubscribe(1) found nothing")
	}
	if n := r.index.Len(filter.TableKey(tableA)); n != 2 {
		t.Fatalf("index holds %d shapes of the table after an unsubscribe, want 2", n)
	}
	st := must(r.Event(ev(1, 2, txnOf(2, c, ins(tup("1", "x"))))))
	if got := describe(st); !slices.Equal(got, []string{"deliver:3"}) {
		t.Fatalf("after unsubscribing shape 1: sends %v, want only shape 3", got)
	}
	answerAll(t, r, st)
	r.Unsubscribe(2)
	r.Unsubscribe(3)
	if r.index.Len(filter.TableKey(tableA)) != 0 || len(r.tables) != 0 {
		t.Fatalf("the last unsubscribe left %d shapes in the index, %d table states", r.index.Len(filter.TableKey(tableA)), len(r.tables))
	}
	if st := must(r.Event(ev(1, 3, txnOf(3, c+100, ins(tup("1", "x")))))); st.Handled == nil {
		t.Fatalf("a change of a table without shapes was delivered: %v", describe(st))
	}
}

// A transaction that reaches no shape is acknowledged at once: no shape,
// matching or not, is waited for, and a shape that has flushed its own
// transactions never pins the position of later ones it does not get.
func TestRouterIndexPositionAdvancesWhenNoShapeIsAffected(t *testing.T) {
	t.Parallel()
	r, c := indexedRouter(t)
	if r.Position() != 108 {
		t.Fatalf("position %s after the first transaction, want 0/6C", r.Position())
	}
	st := must(r.Event(ev(1, 2, txnOf(2, c, events.Change{Kind: events.Insert, Relation: relA, New: tup("1", "x")}))))
	answerAll(t, r, st)
	// Shape 1 got c but has not flushed it; shape 3 has. Transactions for
	// nobody queue behind it.
	r.Flushed(map[protocol.ShapeID]lsn.LSN{3: c})
	st = must(r.Event(ev(1, 3, txnOf(3, c+100, ins(tup("5", "x"))))))
	if got := describe(st); !slices.Equal(got, []string{"deliver:3"}) {
		t.Fatalf("sends %v", got)
	}
	answerAll(t, r, st)
	r.Flushed(map[protocol.ShapeID]lsn.LSN{3: c + 100})
	if r.Position() != 108 {
		t.Fatalf("position %s while shape 1 has not flushed %s", r.Position(), c)
	}
	r.Flushed(map[protocol.ShapeID]lsn.LSN{1: c})
	if r.Position() != c+108 {
		t.Fatalf("position %s, want %s: shape 1 must not wait for a transaction it never got", r.Position(), c+108)
	}
	// Nothing for anybody: acknowledged without a single send.
	r.Unsubscribe(3)
	st = must(r.Event(ev(1, 4, txnOf(4, c+200, ins(tup("7", "x"))))))
	if st.Handled == nil || len(st.Sends) > 0 {
		t.Fatalf("a transaction no shape matches: sends %v, handled %t", describe(st), st.Handled != nil)
	}
	if r.Position() != c+208 {
		t.Fatalf("position %s, want %s", r.Position(), c+208)
	}
}

// sub subscribes a shape with a condition the index accepts.
func sub(t *testing.T, r *router, shape protocol.ShapeID, cond filter.Condition) {
	t.Helper()
	if _, err := r.Subscribe(shape, fmt.Sprintf("h%d", shape), tableA, pid(fmt.Sprintf("c%d", shape)), cond); err != nil {
		t.Fatal(err)
	}
}

// The first change under a relation the table's shapes have not been
// routed under goes to all of them (their consumers compare it with their
// table), and a shape subscribed later gets the next change whatever its
// condition; then routing narrows again.
func TestRouterIndexNewRelationsAndFreshShapesSeeTheNextChange(t *testing.T) {
	t.Parallel()
	r, c := indexedRouter(t)
	altered := &events.Relation{ID: relA.ID, Schema: "public", Name: "a", Columns: []events.Column{{Name: "id"}}}
	st := must(r.Event(ev(1, 2, txnOf(2, c, events.Change{Kind: events.Insert, Relation: altered, New: tup("7", "x")}))))
	if got := describe(st); !slices.Equal(got, []string{"deliver:1", "deliver:2", "deliver:3"}) {
		t.Fatalf("first change under a new relation: %v, want every shape", got)
	}
	answerAll(t, r, st)
	sub(t, r, 4, filter.Eq{Column: 0, Value: "4"})
	st = must(r.Event(ev(1, 3, txnOf(3, c+100, events.Change{Kind: events.Insert, Relation: altered, New: tup("1", "x")}))))
	if got := describe(st); !slices.Equal(got, []string{"deliver:1", "deliver:3", "deliver:4"}) {
		t.Fatalf("first change after shape 4 subscribed: %v", got)
	}
	answerAll(t, r, st)
	st = must(r.Event(ev(1, 4, txnOf(4, c+200, events.Change{Kind: events.Insert, Relation: altered, New: tup("1", "x")}))))
	if got := describe(st); !slices.Equal(got, []string{"deliver:1", "deliver:3"}) {
		t.Fatalf("the change after that: %v", got)
	}
}

// A transaction in several fragments: each shape gets the fragments with
// its changes and the commit, its first one marked as the begin; an
// abandoned transaction is aborted only where part of it went.
func TestRouterIndexFragmentsAndAborts(t *testing.T) {
	t.Parallel()
	r, c := indexedRouter(t)
	part := func(begin, commit bool, changes ...events.Change) *events.Fragment {
		f := &events.Fragment{Xid: 5, CommitLSN: c, HasBegin: begin, Commit: commit, Changes: changes}
		if commit {
			f.EndLSN = c + 8
		}
		return f
	}
	// Shape 3 takes every row; narrow it so only 1 and 2 are in play.
	sub(t, r, 3, filter.Eq{Column: 0, Value: "3"})
	answerAll(t, r, must(r.Event(ev(1, 2, txnOf(2, c-50, ins(tup("0", "x")))))))
	c += 100
	st := must(r.Event(ev(1, 3, part(true, false, ins(tup("1", "x"))))))
	if got := describe(st); !slices.Equal(got, []string{"deliver:1"}) {
		t.Fatalf("first fragment: %v", got)
	}
	answerAll(t, r, st)
	st = must(r.Event(ev(1, 4, part(false, false, ins(tup("2", "x"))))))
	if got := describe(st); !slices.Equal(got, []string{"deliver:2"}) || !hasBegin(t, st, 2) {
		t.Fatalf("second fragment: %v (shape 2's first must be marked as the begin)", got)
	}
	answerAll(t, r, st)
	// The stream restarts inside the transaction: only 1 and 2 got part.
	st = must(r.Event(ev(2, 1, part(true, true, ins(tup("3", "x"))))))
	if got := describe(st); !slices.Equal(got, []string{"abort:1:5", "abort:2:5"}) {
		t.Fatalf("abort phase: %v", got)
	}
	st = answerAbortsThenDeliver(t, r, st)
	if got := describe(st); !slices.Equal(got, []string{"deliver:3"}) {
		t.Fatalf("resent transaction: %v", got)
	}
	answerAll(t, r, st)
	r.Flushed(map[protocol.ShapeID]lsn.LSN{3: c})
	if r.Position() != c+8 {
		t.Fatalf("position %s, want %s: the resent transaction went only to shape 3", r.Position(), c+8)
	}
}

func answerAbortsThenDeliver(t *testing.T, r *router, st step) step {
	t.Helper()
	var next step
	for _, s := range st.Sends {
		n := must(r.Delivered(s.Shape, seqOf(t, step{Sends: []send{s}}, s.Shape)))
		if len(n.Sends) > 0 || n.Handled != nil {
			next = n
		}
	}
	return next
}

func TestRouterIndexMalformedConditionRoutesEverything(t *testing.T) {
	t.Parallel()
	r := newRouter(0)
	_, err := r.Subscribe(1, "h1", tableA, pid("c1"), filter.Residual{})
	if !errors.Is(err, filter.ErrInvalidCondition) {
		t.Fatalf("a residual without a predicate: err %v, want ErrInvalidCondition", err)
	}
	answerAll(t, r, must(r.Event(ev(1, 1, txnOf(1, 100, ins(tup("0", "x")))))))
	if got := describe(must(r.Event(ev(1, 2, txnOf(2, 200, ins(tup("5", "x"))))))); !slices.Equal(got, []string{"deliver:1"}) {
		t.Fatalf("sends %v: a shape whose condition was refused must get every change", got)
	}
}
