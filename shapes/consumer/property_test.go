package consumer

import (
	"fmt"
	"testing"

	"pgregory.net/rapid"

	"github.com/shapesync/shapesync/replication/events"
	"github.com/shapesync/shapesync/replication/lsn"
	"github.com/shapesync/shapesync/shapes/logitems"
	"github.com/shapesync/shapesync/shapes/protocol"
)

// genTxn is one generated transaction in commit order.
type genTxn struct {
	xid       uint32
	commitLSN lsn.LSN
	changes   []events.Change
	frags     []*events.Fragment
}

// modelWriter is the store-writer as the property sees it: appends go to
// the pending tail, a commit mark makes them durable, a rollback drops them.
type modelWriter struct {
	committed []protocol.LogItem
	pending   []protocol.LogItem
	marks     []lsn.LSN
}

func (w *modelWriter) apply(out output) {
	w.pending = append(w.pending, out.Items...)
	if out.Commit != nil {
		w.committed = append(w.committed, w.pending...)
		w.pending = nil
		w.marks = append(w.marks, out.Commit.LSN)
	}
}

// genChanges draws a transaction's changes: rows of the shape's table and
// of another one, inserts, updates (always changing something, sometimes
// the key) and deletes, numbered 0, 2, 4, ….
func genChanges(t *rapid.T, label string) []events.Change {
	n := rapid.IntRange(0, 7).Draw(t, label+" changes")
	out := make([]events.Change, 0, n)
	for i := range n {
		op := uint64(2 * i)
		id := rapid.IntRange(1, 5).Draw(t, "id")
		switch rapid.IntRange(0, 4).Draw(t, "kind") {
		case 0:
			out = append(out, ins(otherRel, op, id, ""))
		case 1:
			out = append(out, ins(itemsRel, op, id, "new"))
		case 2:
			newID := id
			if rapid.Bool().Draw(t, "key change") {
				newID = id + 10
			}
			out = append(out, upd(op, id, "old", newID, "changed"))
		case 3:
			out = append(out, del(op, id, "old"))
		default:
			out = append(out, ins(itemsRel, op, id, "x"))
		}
	}
	return out
}

// split cuts a transaction into fragments at random points; the last one
// carries the commit (and may be empty).
func split(t *rapid.T, x *genTxn) {
	rest := x.changes
	begin := true
	for {
		n := rapid.IntRange(0, len(rest)).Draw(t, "fragment size")
		last := n == len(rest) && rapid.Bool().Draw(t, "close")
		x.frags = append(x.frags, fragment(x.xid, x.commitLSN, begin, last, rest[:n]...))
		begin = false
		rest = rest[n:]
		if last {
			return
		}
	}
}

// expected encodes, independently of the converter, the items of one
// transaction for the shape: last=true is passed to the encoder on the
// shape's last change, and it places the header itself.
func expected(t *rapid.T, x *genTxn) []protocol.LogItem {
	l, err := newLayout(itemsTable(), nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	lastMine := -1
	for i, ch := range x.changes {
		if ch.Relation == itemsRel {
			lastMine = i
		}
	}
	var out []protocol.LogItem
	for i := range x.changes {
		ch := &x.changes[i]
		if ch.Relation != itemsRel {
			continue
		}
		items, err := l.enc.AppendChange(nil, logitems.Tx{CommitLSN: x.commitLSN, Xid: x.xid}, ch, logitems.MatchBoth, i == lastMine)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range items {
			out = append(out, protocol.LogItem{Offset: it.Offset, JSON: it.JSON})
		}
	}
	return out
}

// TestConverterProperty: for random transactions cut into random fragments,
// a random snapshot (visible transactions commit before the invisible
// ones), a random replay floor, a consumer that may join the first
// transaction mid-way and aborted attempts that are sent again, the
// durable log holds exactly the changes of the transactions that are
// neither visible nor replays — once, in order, with last on each
// transaction's final item — and every commit fragment gives a commit mark.
func TestConverterProperty(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(1, 8).Draw(t, "transactions")
		visibleCount := rapid.IntRange(0, n).Draw(t, "visible")
		const xmin, xmax = 1000, 1100
		snap := lsn.Snapshot{Xmin: xmin, Xmax: xmax}
		used := map[uint32]bool{}
		pick := func(lo, hi int, label string) uint32 {
			for {
				x := uint32(rapid.IntRange(lo, hi).Draw(t, label))
				if !used[x] {
					used[x] = true
					return x
				}
			}
		}
		txns := make([]*genTxn, n)
		commit := lsn.LSN(rapid.Uint64Range(1, 1<<40).Draw(t, "first commit"))
		for i := range txns {
			x := &genTxn{commitLSN: commit, changes: genChanges(t, fmt.Sprint("txn ", i))}
			commit += lsn.LSN(rapid.Uint64Range(1, 1000).Draw(t, "commit gap"))
			if i < visibleCount {
				if rapid.Bool().Draw(t, "below xmin") {
					x.xid = pick(900, xmin-1, "visible xid")
				} else {
					x.xid = pick(xmin, xmax-1, "visible xid") // not in xip
				}
			} else if rapid.Bool().Draw(t, "in progress") {
				x.xid = pick(xmin, xmax-1, "in-progress xid")
				snap.Xip = append(snap.Xip, uint64(x.xid))
			} else {
				x.xid = pick(xmax, xmax+200, "new xid")
			}
			split(t, x)
			txns[i] = x
		}
		floorIndex := rapid.IntRange(-1, n-1).Draw(t, "replay floor")
		var floor lsn.LSN
		if floorIndex >= 0 {
			floor = txns[floorIndex].commitLSN
		}
		c := newTestConverter(t, floor, Visibility{})
		c.SetSnapshot(snap)

		w := &modelWriter{}
		var want []protocol.LogItem
		commits := 0
		for i, x := range txns {
			frags := x.frags
			if i == 0 && i < visibleCount && len(frags) > 1 && rapid.Bool().Draw(t, "join mid-way") {
				frags = frags[rapid.IntRange(1, len(frags)-1).Draw(t, "joined at"):]
			}
			if len(frags) > 1 && rapid.Bool().Draw(t, "abort an attempt") {
				cut := rapid.IntRange(1, len(frags)-1).Draw(t, "aborted after")
				for _, f := range frags[:cut] {
					out, err := c.Fragment(f)
					if err != nil {
						t.Fatalf("txn %d aborted attempt: %v", i, err)
					}
					w.apply(out)
				}
				if c.Abort() {
					w.pending = nil
				} else if len(w.pending) > 0 {
					t.Fatalf("txn %d: items handed out, but Abort asks for no rollback", i)
				}
			}
			for _, f := range frags {
				out, err := c.Fragment(f)
				if err != nil {
					t.Fatalf("txn %d xid %d: %v", i, x.xid, err)
				}
				w.apply(out)
			}
			commits++
			if i >= visibleCount && i > floorIndex {
				want = append(want, expected(t, x)...)
			}
		}
		if len(w.marks) != commits {
			t.Fatalf("%d commit marks for %d commits", len(w.marks), commits)
		}
		if len(w.pending) > 0 {
			t.Fatalf("items left uncommitted: %d", len(w.pending))
		}
		if len(w.committed) != len(want) {
			t.Fatalf("%d items stored, want %d:\n got %v\nwant %v", len(w.committed), len(want),
				summaries(t, w.committed), summaries(t, want))
		}
		for i := range want {
			if w.committed[i].Offset != want[i].Offset || string(w.committed[i].JSON) != string(want[i].JSON) {
				t.Fatalf("item %d: %s %s, want %s %s", i, w.committed[i].Offset, w.committed[i].JSON, want[i].Offset, want[i].JSON)
			}
			if i > 0 && !want[i-1].Offset.Less(want[i].Offset) {
				t.Fatalf("offsets not increasing at %d", i)
			}
		}
	})
}
