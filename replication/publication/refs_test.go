package publication

import (
	"maps"
	"slices"
	"testing"

	"pgregory.net/rapid"
)

func TestRefs(t *testing.T) {
	t.Parallel()
	var r Refs
	steps := []struct {
		add  bool
		oid  uint32
		want bool
	}{
		{true, 10, true},   // first shape: ADD TABLE
		{true, 10, false},  // second shape: nothing
		{true, 11, true},   // another table
		{false, 10, false}, // one of two gone
		{false, 10, true},  // last gone: DROP TABLE
		{false, 10, false}, // not counted any more: no-op
		{false, 99, false}, // never counted
		{true, 10, true},   // counted again from zero
	}
	for i, s := range steps {
		var got bool
		if s.add {
			got = r.AddRelation(s.oid)
		} else {
			got = r.RemoveRelation(s.oid)
		}
		if got != s.want {
			t.Fatalf("step %d (add=%v oid=%d): needSQL = %v, want %v", i, s.add, s.oid, got, s.want)
		}
	}
	if got := r.Wanted(); !slices.Equal(got, []uint32{10, 11}) {
		t.Errorf("Wanted = %v", got)
	}
	if r.Count(10) != 1 || r.Count(99) != 0 {
		t.Errorf("counts %d, %d", r.Count(10), r.Count(99))
	}
}

// Over any sequence of adds and removes, needSQL is true exactly when the
// table's membership should change (0→1 or 1→0 shapes), so the SQL issued
// keeps the publication equal to the set of tables with shapes.
func TestRefsProperty(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(t *rapid.T) {
		var r Refs
		model := map[uint32]int{}
		published := map[uint32]bool{}
		n := rapid.IntRange(0, 200).Draw(t, "n")
		for i := 0; i < n; i++ {
			add := rapid.Bool().Draw(t, "add")
			oid := rapid.Uint32Range(1, 5).Draw(t, "oid")
			if add {
				model[oid]++
				if r.AddRelation(oid) {
					if published[oid] {
						t.Fatalf("ADD TABLE for %d, already published", oid)
					}
					published[oid] = true
				}
			} else {
				if model[oid] > 0 {
					model[oid]--
				}
				if model[oid] == 0 {
					delete(model, oid)
				}
				if r.RemoveRelation(oid) {
					if !published[oid] {
						t.Fatalf("DROP TABLE for %d, not published", oid)
					}
					delete(published, oid)
				}
			}
			for o := range published {
				if model[o] == 0 {
					t.Fatalf("%d published without shapes", o)
				}
			}
			for o, n := range model {
				if !published[o] || r.Count(o) != n {
					t.Fatalf("%d: %d shapes, count %d, published %v", o, n, r.Count(o), published[o])
				}
			}
			if want := slices.Sorted(maps.Keys(model)); !slices.Equal(r.Wanted(), want) {
				t.Fatalf("Wanted %v, model %v", r.Wanted(), want)
			}
		}
	})
}
