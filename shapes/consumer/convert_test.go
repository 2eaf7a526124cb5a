package consumer

import (
	"errors"
	"slices"
	"testing"

	"github.com/shapesync/shapesync/replication/events"
	"github.com/shapesync/shapesync/replication/lsn"
)

// stepWant is what one fragment must produce.
type stepWant struct {
	items   []string
	commit  lsn.LSN // 0: no commit mark
	changed bool
	err     error
}

func TestConverter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		floor lsn.LSN
		vis   Visibility
		frags []*events.Fragment
		want  []stepWant
	}{
		{"ok - one transaction, last on its final item",
			0, everythingNew,
			[]*events.Fragment{fragment(200, 1000, true, true, ins(itemsRel, 0, 1, "a"), upd(2, 1, "a", 1, "b"), del(4, 1, "b"))},
			[]stepWant{{items: []string{"insert 1@1000_0", "update 1@1000_2", "delete 1@1000_4+last"}, commit: 1000}}},
		{"ok - the held-back item crosses fragments and gets last on the commit",
			0, everythingNew,
			[]*events.Fragment{
				fragment(200, 1000, true, false, ins(itemsRel, 0, 1, "a"), ins(itemsRel, 2, 2, "a")),
				fragment(200, 1000, false, false, ins(itemsRel, 4, 3, "a")),
				fragment(200, 1000, false, true),
			},
			[]stepWant{
				{items: []string{"insert 1@1000_0"}},
				{items: []string{"insert 2@1000_2"}},
				{items: []string{"insert 3@1000_4+last"}, commit: 1000},
			}},
		{"ok - a key change is a delete and an insert, last on the insert",
			0, everythingNew,
			[]*events.Fragment{fragment(200, 1000, true, true, upd(6, 1, "a", 9, "a"))},
			[]stepWant{{items: []string{"delete 1@1000_6", "insert 9@1000_7+last"}, commit: 1000}}},
		{"ok - other tables are ignored; a commit without items still marks the end",
			0, everythingNew,
			[]*events.Fragment{
				fragment(200, 1000, true, true, ins(otherRel, 0, 1, "")),
				fragment(201, 2000, true, true, ins(otherRel, 0, 1, ""), ins(itemsRel, 2, 5, "x"), ins(otherRel, 4, 2, "")),
			},
			[]stepWant{{commit: 1000}, {items: []string{"insert 5@2000_2+last"}, commit: 2000}}},
		{"ok - transactions at or below the stored commit are replays",
			2000, everythingNew,
			[]*events.Fragment{
				fragment(200, 1000, true, true, ins(itemsRel, 0, 1, "a")),
				fragment(201, 2000, true, false, ins(itemsRel, 0, 2, "a")),
				fragment(201, 2000, false, true, ins(itemsRel, 2, 3, "a")),
				fragment(202, 3000, true, true, ins(itemsRel, 0, 4, "a")),
			},
			[]stepWant{{commit: 1000}, {}, {commit: 2000}, {items: []string{"insert 4@3000_0+last"}, commit: 3000}}},
		{"ok - visible transactions are skipped until one committing at the snapshot's WAL position ends filtering",
			0, Visibility{Known: true, Snapshot: lsn.Snapshot{Xmin: 200, Xmax: 210, Xip: []uint64{205}, WAL: 4000}, Filtering: true},
			[]*events.Fragment{
				fragment(150, 1000, true, true, ins(itemsRel, 0, 1, "a")), // < xmin: visible
				fragment(207, 2000, true, true, ins(itemsRel, 0, 2, "a")), // in range, not in xip: visible
				fragment(205, 3000, true, true, ins(itemsRel, 0, 3, "a")), // in xip: not visible
				fragment(210, 4000, true, true, ins(itemsRel, 0, 4, "a")), // at the WAL position: ends filtering
				fragment(201, 5000, true, true, ins(itemsRel, 0, 5, "a")), // would be visible, but filtering ended
			},
			[]stepWant{
				{commit: 1000}, {commit: 2000},
				{items: []string{"insert 3@3000_0+last"}, commit: 3000},
				{items: []string{"insert 4@4000_0+last"}, commit: 4000, changed: true},
				{items: []string{"insert 5@5000_0+last"}, commit: 5000},
			}},
		{"ok - an xid at or above xmax does not end filtering: a visible transaction may follow it in the stream",
			0, Visibility{Known: true, Snapshot: lsn.Snapshot{Xmin: 200, Xmax: 210, WAL: 9000}, Filtering: true},
			[]*events.Fragment{
				fragment(211, 1000, true, true, ins(itemsRel, 0, 1, "a")), // ≥ xmax, committed first in the WAL
				fragment(209, 2000, true, true, ins(itemsRel, 0, 2, "a")), // visible in the snapshot: skipped, not duplicated
			},
			[]stepWant{{items: []string{"insert 1@1000_0+last"}, commit: 1000}, {commit: 2000}}},
		{"ok - joining a visible transaction mid-way skips the rest of it",
			0, Visibility{Known: true, Snapshot: lsn.Snapshot{Xmin: 300, Xmax: 300, WAL: 2000}, Filtering: true},
			[]*events.Fragment{
				fragment(250, 1000, false, false, ins(itemsRel, 200, 1, "a")),
				fragment(250, 1000, false, true, ins(itemsRel, 202, 2, "a")),
				fragment(300, 2000, true, true, ins(itemsRel, 0, 3, "a")),
			},
			[]stepWant{{}, {commit: 1000}, {items: []string{"insert 3@2000_0+last"}, commit: 2000, changed: true}}},
		{"error - joining a transaction that is not visible",
			0, Visibility{Known: true, Snapshot: lsn.Snapshot{Xmin: 300, Xmax: 300, WAL: 1000}, Filtering: true},
			[]*events.Fragment{fragment(301, 1000, false, true, ins(itemsRel, 200, 1, "a"))},
			[]stepWant{{changed: true, err: ErrJoinedInvisible}}},
		{"error - truncate",
			0, everythingNew,
			[]*events.Fragment{fragment(200, 1000, true, true, events.Change{Kind: events.Truncate, Relation: itemsRel})},
			[]stepWant{{err: ErrTruncated}}},
		{"error - a column was added",
			0, everythingNew,
			[]*events.Fragment{fragment(200, 1000, true, true, events.Change{Kind: events.Insert, Op: 0,
				Relation: &events.Relation{ID: 7001, Schema: "public", Name: "items",
					Columns: append(slices.Clone(itemsRel.Columns), events.Column{Name: "w", TypeOID: oidText, TypeMod: -1})},
				New: append(row(1, "a"), events.Value{Text: "w"})})},
			[]stepWant{{err: ErrRelationChanged}}},
		{"error - the table was recreated",
			0, everythingNew,
			[]*events.Fragment{fragment(200, 1000, true, true, events.Change{Kind: events.Insert,
				Relation: &events.Relation{ID: 9999, Schema: "public", Name: "items", Columns: itemsRel.Columns}, New: row(1, "a")})},
			[]stepWant{{err: ErrRelationChanged}}},
		{"error - a fragment of another transaction while one is open",
			0, everythingNew,
			[]*events.Fragment{
				fragment(200, 1000, true, false, ins(itemsRel, 0, 1, "a")),
				fragment(201, 2000, true, true, ins(itemsRel, 0, 2, "a")),
			},
			[]stepWant{{}, {err: ErrUnexpectedTxn}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newTestConverter(t, tc.floor, tc.vis)
			for i, f := range tc.frags {
				out, err := c.Fragment(f)
				w := tc.want[i]
				if w.err != nil {
					if !errors.Is(err, w.err) {
						t.Fatalf("fragment %d: err %v, want %v", i, err, w.err)
					}
					return
				}
				if err != nil {
					t.Fatalf("fragment %d: %v", i, err)
				}
				if got := summaries(t, out.Items); !slices.Equal(got, w.items) && (len(got) > 0 || len(w.items) > 0) {
					t.Fatalf("fragment %d: items %v, want %v", i, got, w.items)
				}
				switch {
				case w.commit == 0 && out.Commit != nil:
					t.Fatalf("fragment %d: unexpected commit mark %s", i, out.Commit.LSN)
				case w.commit != 0 && (out.Commit == nil || out.Commit.LSN != w.commit):
					t.Fatalf("fragment %d: commit mark %v, want %s", i, out.Commit, w.commit)
				}
				if out.StateChanged != w.changed {
					t.Fatalf("fragment %d: state changed %t, want %t", i, out.StateChanged, w.changed)
				}
			}
		})
	}
}

func TestConverterAbortAndResend(t *testing.T) {
	t.Parallel()
	c := newTestConverter(t, 0, everythingNew)
	first := fragment(200, 1000, true, false, ins(itemsRel, 0, 1, "a"), ins(itemsRel, 2, 2, "a"))
	if _, err := c.Fragment(first); err != nil {
		t.Fatal(err)
	}
	if !c.Abort() {
		t.Fatal("Abort after handing out an item does not ask for a rollback")
	}
	if c.Abort() {
		t.Fatal("Abort with nothing open asks for a rollback")
	}
	// Sent again from its begin: the same offsets, and the held-back item
	// of the aborted attempt is gone.
	out1, err := c.Fragment(first)
	if err != nil {
		t.Fatal(err)
	}
	out2, err := c.Fragment(fragment(200, 1000, false, true))
	if err != nil {
		t.Fatal(err)
	}
	got := summaries(t, append(out1.Items, out2.Items...))
	if want := []string{"insert 1@1000_0", "insert 2@1000_2+last"}; !slices.Equal(got, want) {
		t.Fatalf("resent transaction: %v, want %v", got, want)
	}
	// An abort before any item was handed out needs no rollback.
	c.Fragment(fragment(201, 2000, true, false, ins(itemsRel, 0, 3, "a")))
	if c.Abort() {
		t.Fatal("rollback asked although the only item was still held back")
	}
}

func TestLayout(t *testing.T) {
	t.Parallel()
	tab := itemsTable()
	tab.Columns = append(tab.Columns, events.TableColumn{Name: "g", TypeOID: oidText, TypeMod: -1, Generated: 's'})
	l, err := newLayout(tab, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	// Generated columns are not in the stream, so the layout skips them.
	if ok, err := l.matches(itemsRel); !ok || err != nil {
		t.Fatalf("stream relation without the generated column: %t, %v", ok, err)
	}
	if _, err := newLayout(tab, []int{0, 2}, 0); err == nil {
		t.Fatal("a shape selecting a generated column was accepted")
	}
	if _, err := newLayout(tab, []int{1}, 0); err == nil {
		t.Fatal("a shape without its key column was accepted")
	}
	if _, err := newLayout(tab, []int{5}, 0); err == nil {
		t.Fatal("an out-of-range column was accepted")
	}
	if ok, _ := l.matches(otherRel); ok {
		t.Fatal("another table matched")
	}
}
