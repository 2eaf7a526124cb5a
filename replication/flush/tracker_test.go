package flush

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/shapesync/shapesync/replication/lsn"
)

// step is one call on the tracker and the position expected after it.
type step struct {
	op     string // commit, walend, flushed, remove
	commit lsn.LSN
	end    lsn.LSN // commit: TransactionEndLSN; walend: the position
	shapes []ShapeID
	want   lsn.LSN
}

func commit(c, end lsn.LSN, want lsn.LSN, shapes ...ShapeID) step {
	return step{op: "commit", commit: c, end: end, shapes: shapes, want: want}
}
func walEnd(l, want lsn.LSN) step { return step{op: "walend", end: l, want: want} }
func flushed(s ShapeID, c, want lsn.LSN) step {
	return step{op: "flushed", shapes: []ShapeID{s}, commit: c, want: want}
}
func remove(s ShapeID, want lsn.LSN) step {
	return step{op: "remove", shapes: []ShapeID{s}, want: want}
}

func TestTrackerScenarios(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		start lsn.LSN
		steps []step
	}{
		{"ok - the slower of two shapes holds the position", 100, []step{
			commit(200, 210, 100, "a", "b"),
			commit(300, 310, 100, "a", "b"),
			flushed("a", 300, 100),
			flushed("b", 200, 210),
			flushed("b", 300, 310),
		}},
		{"ok - a shape that flushes past the newest commit is done", 100, []step{
			commit(200, 210, 100, "a"),
			flushed("a", 999, 210),
		}},
		{"ok - zero-shape transaction is flushed at once", 100, []step{
			commit(200, 210, 210),
			commit(300, 310, 310),
		}},
		{"ok - zero-shape transaction waits for the ones before it", 100, []step{
			commit(200, 210, 100, "a"),
			commit(300, 310, 100),
			commit(400, 410, 100, "b"),
			flushed("a", 200, 310),
			flushed("b", 400, 410),
		}},
		{"ok - a later flush does not release an earlier pending shape", 100, []step{
			commit(200, 210, 100, "a"),
			commit(300, 310, 100, "b"),
			flushed("b", 300, 100),
			flushed("a", 200, 310),
		}},
		{"ok - walend with nothing in flight advances", 100, []step{
			walEnd(150, 150),
			commit(200, 210, 150, "a"),
			flushed("a", 200, 210),
			walEnd(500, 500),
		}},
		{"ok - walend never passes a pending transaction, then applies", 100, []step{
			commit(200, 210, 100, "a"),
			walEnd(500, 100),
			flushed("a", 200, 500),
		}},
		{"ok - walend behind a pending one is released up to the next pending", 100, []step{
			commit(200, 210, 100, "a"),
			walEnd(250, 100),
			commit(300, 310, 100, "b"),
			flushed("a", 200, 250),
			flushed("b", 300, 310),
		}},
		{"ok - stale walend changes nothing", 100, []step{
			commit(200, 210, 210),
			walEnd(205, 210),
			walEnd(50, 210),
		}},
		{"ok - removal unpins", 100, []step{
			commit(200, 210, 100, "a", "b"),
			flushed("a", 200, 100),
			remove("b", 210),
			remove("b", 210),
		}},
		{"ok - removing the only pending shape releases everything seen", 100, []step{
			commit(200, 210, 100, "a"),
			commit(300, 310, 100, "a"),
			walEnd(400, 100),
			remove("a", 400),
		}},
		{"ok - never moves backwards or below the start", 1000, []step{
			commit(1000, 1010, 1000, "a"),
			flushed("a", 10, 1000),
			flushed("a", 1000, 1010),
			flushed("a", 500, 1010),
			walEnd(900, 1010),
		}},
		{"ok - a shape listed twice needs one flush", 100, []step{
			commit(200, 210, 100, "a", "a"),
			flushed("a", 200, 210),
		}},
		{"ok - unknown shapes are ignored", 100, []step{
			flushed("x", 200, 100),
			remove("x", 100),
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tr := NewTracker(tc.start)
			prev := tr.Position()
			for i, s := range tc.steps {
				var advanced bool
				switch s.op {
				case "commit":
					var err error
					advanced, err = tr.Commit(s.end, s.commit, s.shapes)
					if err != nil {
						t.Fatalf("step %d: %v", i, err)
					}
				case "walend":
					advanced = tr.WalEnd(s.end)
				case "flushed":
					advanced = tr.Flushed(s.shapes[0], s.commit)
				case "remove":
					advanced = tr.RemoveShape(s.shapes[0])
				}
				got := tr.Position()
				if got != s.want {
					t.Fatalf("step %d (%s %v %s/%s): position %s; want %s", i, s.op, s.shapes, s.commit, s.end, got, s.want)
				}
				if advanced != (got > prev) {
					t.Fatalf("step %d: advanced = %v but position went %s → %s", i, advanced, prev, got)
				}
				prev = got
			}
		})
	}
}

func TestTrackerRejectsOutOfOrder(t *testing.T) {
	t.Parallel()
	tr := NewTracker(100)
	if _, err := tr.Commit(210, 200, []ShapeID{"a"}); err != nil {
		t.Fatal(err)
	}
	tr.WalEnd(300)
	for _, c := range []struct{ commit, end lsn.LSN }{
		{200, 220}, // same commit again
		{150, 160}, // older commit
		{250, 260}, // newer than the commit but before the walend seen
		{400, 390}, // ends before it starts
		{50, 60},   // before the start
	} {
		if _, err := tr.Commit(c.end, c.commit, []ShapeID{"b"}); !errors.Is(err, ErrOutOfOrder) {
			t.Errorf("Commit(%s, %s): %v; want ErrOutOfOrder", c.end, c.commit, err)
		}
	}
	if tr.PendingShapes() != 1 || tr.LastSeen() != 300 || tr.Position() != 100 {
		t.Fatalf("a rejected commit changed the state: pending %d, last seen %s, position %s", tr.PendingShapes(), tr.LastSeen(), tr.Position())
	}
	if _, err := tr.Commit(310, 300, nil); err != nil {
		t.Fatalf("a commit at the walend position: %v", err)
	}
}

func TestTrackerStalled(t *testing.T) {
	t.Parallel()
	const grace = time.Minute
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	tr := NewTracker(0)
	mustCommit := func(c lsn.LSN, shapes ...ShapeID) {
		t.Helper()
		if _, err := tr.Commit(c+5, c, shapes); err != nil {
			t.Fatal(err)
		}
	}
	check := func(at time.Duration, want ...ShapeID) {
		t.Helper()
		if got := tr.Stalled(t0.Add(at), grace); !reflect.DeepEqual(got, want) {
			t.Fatalf("Stalled at +%v = %v; want %v", at, got, want)
		}
	}
	mustCommit(10, "b", "a")
	mustCommit(20, "a", "b")
	mustCommit(30, "c")
	check(0)                // first observation starts the clock
	check(59 * time.Second) // not yet
	check(time.Minute, "a", "b", "c")
	tr.Flushed("a", 10) // progress, still pending
	tr.Flushed("c", 30) // done: no longer pending
	check(61*time.Second, "b")
	check(2*time.Minute, "b")
	check(121*time.Second, "a", "b")
	tr.RemoveShape("b")
	tr.Flushed("a", 20)
	check(time.Hour)
	mustCommit(40, "a") // pending again: a fresh clock
	check(2 * time.Hour)
	check(2*time.Hour + grace - 1)
	check(2*time.Hour+grace, "a")
}
