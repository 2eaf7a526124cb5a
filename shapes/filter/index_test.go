package filter

import (
	"errors"
	"slices"
	"testing"

	"github.com/shapesync/shapesync/replication/events"
)

func TestAffected(t *testing.T) {
	t.Parallel()
	positive := Residual{Matches: func(r events.Tuple) bool {
		v, ok := columnText(r, 1)
		return ok && len(v) > 0 && v[0] != '-'
	}}
	tests := []struct {
		name   string
		shapes map[uint64]Condition
		change *events.Change
		want   []uint64
	}{
		{"ok - eq hit", map[uint64]Condition{1: Eq{0, "7"}, 2: Eq{0, "8"}}, insert(row("7")), []uint64{1}},
		{"ok - eq miss", map[uint64]Condition{1: Eq{0, "7"}}, insert(row("70")), nil},
		{"ok - eq on other column", map[uint64]Condition{1: Eq{0, "7"}, 2: Eq{1, "7"}}, insert(row("1", "7")), []uint64{2}},
		{"ok - NULL never equals empty text", map[uint64]Condition{1: Eq{0, ""}}, insert(row(nil)), nil},
		{"ok - NULL never equals the text NULL", map[uint64]Condition{1: Eq{0, "NULL"}}, insert(row(nil)), nil},
		{"ok - empty text equals empty text", map[uint64]Condition{1: Eq{0, ""}}, insert(row("")), []uint64{1}},
		{"ok - column past the row is NULL", map[uint64]Condition{1: Eq{3, "x"}}, insert(row("x")), nil},
		{"ok - in hit", map[uint64]Condition{1: In{0, []string{"a", "b"}}, 2: In{0, []string{"c"}}}, insert(row("b")), []uint64{1}},
		{"ok - in miss", map[uint64]Condition{1: In{0, []string{"a", "b"}}}, insert(row("c")), nil},
		{"ok - in with repeated values reported once", map[uint64]Condition{1: In{0, []string{"a", "a"}}}, insert(row("a")), []uint64{1}},
		{"ok - empty in matches nothing", map[uint64]Condition{1: In{0, nil}}, insert(row("a")), nil},
		{"ok - in NULL", map[uint64]Condition{1: In{0, []string{""}}}, insert(row(nil)), nil},
		{"ok - and of two eqs holds", map[uint64]Condition{1: And{[]Condition{Eq{0, "1"}, Eq{1, "x"}}}, 2: And{[]Condition{Eq{0, "1"}, Eq{1, "y"}}}}, insert(row("1", "x")), []uint64{1}},
		{"ok - and of two eqs one fails", map[uint64]Condition{1: And{[]Condition{Eq{0, "1"}, Eq{1, "x"}}}}, insert(row("2", "x")), nil},
		{"ok - empty and is true", map[uint64]Condition{1: And{}}, insert(row("2")), []uint64{1}},
		{"ok - nested and", map[uint64]Condition{1: And{[]Condition{Eq{1, "x"}, And{[]Condition{All{}, Eq{0, "1"}}}}}}, insert(row("1", "x")), []uint64{1}},
		{"ok - or first branch", map[uint64]Condition{1: Or{[]Condition{Eq{0, "1"}, Eq{1, "x"}}}}, insert(row("1", "y")), []uint64{1}},
		{"ok - or second branch", map[uint64]Condition{1: Or{[]Condition{Eq{0, "1"}, Eq{1, "x"}}}}, insert(row("2", "x")), []uint64{1}},
		{"ok - or both branches reported once", map[uint64]Condition{1: Or{[]Condition{Eq{0, "1"}, Eq{1, "x"}}}}, insert(row("1", "x")), []uint64{1}},
		{"ok - or no branch", map[uint64]Condition{1: Or{[]Condition{Eq{0, "1"}, Eq{1, "x"}}}}, insert(row("2", "y")), nil},
		{"ok - empty or is false", map[uint64]Condition{1: Or{}}, insert(row("2")), nil},
		{"ok - and over or", map[uint64]Condition{1: And{[]Condition{Or{[]Condition{Eq{0, "1"}, Eq{0, "2"}}}, Eq{1, "x"}}}}, insert(row("2", "x")), []uint64{1}},
		{"ok - residual true", map[uint64]Condition{1: positive}, insert(row("k", "5")), []uint64{1}},
		{"ok - residual false", map[uint64]Condition{1: positive}, insert(row("k", "-5")), nil},
		{"ok - residual under eq", map[uint64]Condition{1: And{[]Condition{positive, Eq{0, "k"}}}}, insert(row("k", "5")), []uint64{1}},
		{"ok - residual under eq, eq fails", map[uint64]Condition{1: And{[]Condition{positive, Eq{0, "k"}}}}, insert(row("j", "5")), nil},
		{"ok - all matches", map[uint64]Condition{1: All{}, 2: Eq{0, "z"}}, insert(row("a")), []uint64{1}},
		{"ok - contains hit", map[uint64]Condition{1: Contains{0, []string{"a", "c"}}, 2: Contains{0, []string{"d"}}}, insert(row("{c,b,a}")), []uint64{1}},
		{"ok - contains partial", map[uint64]Condition{1: Contains{0, []string{"a", "x"}}}, insert(row("{c,b,a}")), nil},
		{"ok - contains quoted elements", map[uint64]Condition{1: Contains{0, []string{"a b", "NULL", `q"`}}}, insert(row(`{"a b","NULL","q\""}`)), []uint64{1}},
		{"ok - contains never a NULL element", map[uint64]Condition{1: Contains{0, []string{"NULL"}}}, insert(row("{NULL,1}")), nil},
		{"ok - contains 2-d array", map[uint64]Condition{1: Contains{0, []string{"1", "4"}}}, insert(row("[0:1][1:2]={{1,2},{3,4}}")), []uint64{1}},
		{"ok - contains nothing, non-NULL array", map[uint64]Condition{1: Contains{0, nil}}, insert(row("{}")), []uint64{1}},
		{"ok - contains nothing, NULL array", map[uint64]Condition{1: Contains{0, nil}}, insert(row(nil)), nil},
		{"ok - contains malformed array routes conservatively", map[uint64]Condition{1: Contains{0, []string{"a"}}}, insert(row("{a")), []uint64{1}},
		{"ok - update matches old", map[uint64]Condition{1: Eq{0, "1"}, 2: Eq{0, "2"}, 3: Eq{0, "3"}}, update(row("1"), row("2")), []uint64{1, 2}},
		{"ok - update same shape old and new reported once", map[uint64]Condition{1: In{0, []string{"1", "2"}}}, update(row("1"), row("2")), []uint64{1}},
		{"ok - delete matches old", map[uint64]Condition{1: Eq{0, "1"}}, del(row("1")), []uint64{1}},
		{"ok - truncate reaches all", map[uint64]Condition{1: Eq{0, "1"}, 2: Residual{Matches: func(events.Tuple) bool { return false }}}, &events.Change{Kind: events.Truncate, Relation: itemsRel}, []uint64{1, 2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			x := New[uint64]()
			for id, c := range tc.shapes {
				if err := x.Add(items, id, c); err != nil {
					t.Fatalf("Add(%d): %v", id, err)
				}
			}
			got := sorted(x.Affected(items, tc.change, nil))
			if !slices.Equal(got, sorted(tc.want)) {
				t.Fatalf("Affected = %v, want %v", got, tc.want)
			}
			if oracle := bruteForce(tc.shapes, tc.change); !slices.Equal(got, oracle) {
				t.Fatalf("Affected = %v, brute force = %v", got, oracle)
			}
		})
	}
}

func TestResidualEvaluatedOnlyBehindItsIndexedTerm(t *testing.T) {
	t.Parallel()
	calls := 0
	counting := Residual{Matches: func(events.Tuple) bool { calls++; return true }}
	x := New[uint64]()
	for id := range uint64(100) {
		cond := And{[]Condition{counting, Eq{0, string(rune('A' + id%50))}}}
		if err := x.Add(items, id, cond); err != nil {
			t.Fatal(err)
		}
	}
	got := x.Affected(items, insert(row("B")), nil)
	if len(got) != 2 || calls != 2 {
		t.Fatalf("got %v with %d predicate calls, want 2 shapes and 2 calls", got, calls)
	}
}

func TestAffectedAppendsToDst(t *testing.T) {
	t.Parallel()
	x := New[uint64]()
	for id := range uint64(40) {
		// Every shape matches through two branches, so the map path of
		// dedup runs and must keep the caller's prefix.
		if err := x.Add(items, id, Or{[]Condition{Eq{0, "1"}, Eq{1, "1"}}}); err != nil {
			t.Fatal(err)
		}
	}
	dst := []uint64{1000, 1001}
	got := x.Affected(items, insert(row("1", "1")), dst)
	if !slices.Equal(got[:2], []uint64{1000, 1001}) || len(got) != 42 {
		t.Fatalf("prefix or length wrong: len %d, prefix %v", len(got), got[:2])
	}
	if rest := sorted(got[2:]); rest[0] != 0 || rest[39] != 39 || len(slices.Compact(rest)) != 40 {
		t.Fatalf("results not the 40 distinct shapes: %v", rest)
	}
}

func TestRemove(t *testing.T) {
	t.Parallel()
	x := New[uint64]()
	other := TableKey{Schema: "public", Name: "other"}
	conds := map[uint64]Condition{
		1: Eq{0, "1"},
		2: Or{[]Condition{Eq{0, "1"}, Residual{Matches: func(events.Tuple) bool { return true }}}},
		3: And{[]Condition{Eq{0, "1"}, In{1, []string{"a", "b"}}}},
		4: Contains{2, []string{"1"}},
		5: All{},
	}
	for id, c := range conds {
		if err := x.Add(items, id, c); err != nil {
			t.Fatal(err)
		}
		if err := x.Add(other, id, c); err != nil {
			t.Fatal(err)
		}
	}
	change := insert(row("1", "a", "{2}"))
	if got := sorted(x.Affected(items, change, nil)); !slices.Equal(got, []uint64{1, 2, 3, 5}) {
		t.Fatalf("before remove: %v", got)
	}
	for _, id := range []uint64{1, 2, 3} {
		if !x.Remove(items, id) {
			t.Fatalf("Remove(%d) = false", id)
		}
	}
	if x.Remove(items, 1) {
		t.Fatal("second Remove reported true")
	}
	if got := sorted(x.Affected(items, change, nil)); !slices.Equal(got, []uint64{5}) {
		t.Fatalf("after remove: %v", got)
	}
	if got := sorted(x.Affected(other, change, nil)); !slices.Equal(got, []uint64{1, 2, 3, 5}) {
		t.Fatalf("other table affected by remove: %v", got)
	}
	x.Remove(items, 4)
	x.Remove(items, 5)
	if x.Len(items) != 0 || len(x.tables) != 1 {
		t.Fatalf("table not dropped: len %d, tables %d", x.Len(items), len(x.tables))
	}
	// Removing every shape must leave an empty tree behind, not dead nodes.
	for id := range conds {
		x.Remove(other, id)
	}
	if len(x.tables) != 0 {
		t.Fatalf("tables left: %d", len(x.tables))
	}
}

func TestRemovePrunesNodes(t *testing.T) {
	t.Parallel()
	x := New[uint64]()
	conds := []Condition{
		And{[]Condition{Eq{0, "1"}, Eq{1, "x"}, Contains{2, []string{"a", "b"}}}},
		Or{[]Condition{In{0, []string{"1", "2"}}, And{[]Condition{Eq{1, "x"}, Residual{Matches: func(events.Tuple) bool { return true }}}}}},
	}
	if err := x.Add(items, 9, All{}); err != nil {
		t.Fatal(err)
	}
	for i, c := range conds {
		if err := x.Add(items, uint64(i), c); err != nil {
			t.Fatal(err)
		}
	}
	for i := range conds {
		x.Remove(items, uint64(i))
	}
	root := &x.tables[items].root
	if len(root.eq) != 0 || len(root.contains) != 0 || len(root.residual) != 0 || !slices.Equal(root.here, []uint64{9}) {
		t.Fatalf("root not pruned: %+v", root)
	}
}

func TestAddReplacesCondition(t *testing.T) {
	t.Parallel()
	x := New[uint64]()
	if err := x.Add(items, 1, Eq{0, "a"}); err != nil {
		t.Fatal(err)
	}
	if err := x.Add(items, 1, Eq{0, "b"}); err != nil {
		t.Fatal(err)
	}
	if got := x.Affected(items, insert(row("a")), nil); len(got) != 0 {
		t.Fatalf("old condition still routes: %v", got)
	}
	if got := x.Affected(items, insert(row("b")), nil); !slices.Equal(got, []uint64{1}) {
		t.Fatalf("new condition: %v", got)
	}
	if x.Len(items) != 1 {
		t.Fatalf("Len = %d", x.Len(items))
	}
}

func TestAddRejectsMalformedConditions(t *testing.T) {
	t.Parallel()
	bad := map[string]Condition{
		"error - nil":                nil,
		"error - negative column":    Eq{-1, "a"},
		"error - residual predicate": Residual{},
		"error - nested nil":         And{[]Condition{Eq{0, "a"}, Or{[]Condition{nil}}}},
		"error - negative in column": In{-2, []string{"a"}},
	}
	for name, c := range bad {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			x := New[uint64]()
			err := x.Add(items, 1, c)
			if !errors.Is(err, ErrInvalidCondition) {
				t.Fatalf("Add error = %v, want ErrInvalidCondition", err)
			}
			if x.Len(items) != 0 {
				t.Fatal("failed Add registered the shape")
			}
		})
	}
}

func TestManyPathsFallBackToOneResidual(t *testing.T) {
	t.Parallel()
	var terms []Condition
	for col := range 7 { // 2^7 = 128 paths > maxPaths
		terms = append(terms, Or{[]Condition{Eq{col, "a"}, Eq{col, "b"}}})
	}
	cond := And{terms}
	x := New[uint64]()
	if err := x.Add(items, 1, cond); err != nil {
		t.Fatal(err)
	}
	if root := x.tables[items].root; len(root.residual) != 1 || len(root.eq) != 0 {
		t.Fatalf("not placed as one residual: %d residuals, %d eq columns", len(root.residual), len(root.eq))
	}
	for _, r := range []events.Tuple{row("a", "b", "a", "b", "a", "b", "a"), row("a", "b", "a", "b", "a", "b", "c")} {
		got := x.Affected(items, insert(r), nil)
		if want := Matches(cond, r); (len(got) == 1) != want {
			t.Fatalf("row %v: got %v, Matches = %v", r, got, want)
		}
	}
}

func TestAffectedUnknownTableAndNilChange(t *testing.T) {
	t.Parallel()
	x := New[uint64]()
	if err := x.Add(items, 1, All{}); err != nil {
		t.Fatal(err)
	}
	if got := x.Affected(TableKey{"public", "nope"}, insert(row("a")), nil); len(got) != 0 {
		t.Fatalf("unknown table: %v", got)
	}
	if got := x.Affected(items, nil, nil); len(got) != 0 {
		t.Fatalf("nil change: %v", got)
	}
	if got := x.AllOf(items, nil); !slices.Equal(got, []uint64{1}) {
		t.Fatalf("AllOf = %v", got)
	}
	if KeyOf(itemsRel) != items {
		t.Fatalf("KeyOf = %v", KeyOf(itemsRel))
	}
}
