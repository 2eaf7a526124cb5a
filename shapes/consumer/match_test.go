package consumer

import (
	"slices"
	"strings"
	"testing"

	"github.com/shapesync/shapesync/replication/events"
)

// TestConverterMatch checks the where-clause table of SHAPE_API §12.3: rows
// outside the shape are dropped, updates crossing its boundary become
// move-ins (insert) and move-outs (delete), and the transaction's last item
// is the last one emitted.
func TestConverterMatch(t *testing.T) {
	t.Parallel()
	c := newTestConverter(t, 0, everythingNew)
	c.match = func(r events.Tuple) bool { return !r[1].Null && strings.HasPrefix(r[1].Text, "in") }
	out, err := c.Fragment(fragment(200, 1000, true, true,
		ins(itemsRel, 0, 1, "in"),    // matches: insert
		ins(itemsRel, 2, 2, "out"),   // dropped
		upd(4, 2, "out", 2, "in"),    // moves in: insert
		upd(6, 1, "in", 1, "in2"),    // stays: update
		upd(8, 1, "in2", 1, "out"),   // moves out: delete
		upd(10, 1, "out", 1, "out2"), // outside: dropped
		del(12, 2, "in"),             // matches: delete
		del(14, 1, "out2"),           // dropped
		ins(itemsRel, 16, 3, "out"),  // dropped, so the delete above is last
	))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"insert 1@1000_0", "insert 2@1000_4", "update 1@1000_6", "delete 1@1000_8", "delete 2@1000_12+last"}
	if got := summaries(t, out.Items); !slices.Equal(got, want) {
		t.Fatalf("items %q, want %q", got, want)
	}
	// A transaction with no matching change still commits, with no items.
	out, err = c.Fragment(fragment(201, 2000, true, true, ins(itemsRel, 0, 4, "out")))
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Items) != 0 || out.Commit == nil || out.Commit.LSN != 2000 {
		t.Fatalf("non-matching transaction gave items %q, commit %v", summaries(t, out.Items), out.Commit)
	}
}
