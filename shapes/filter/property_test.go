package filter

import (
	"fmt"
	"slices"
	"testing"

	"github.com/shapesync/shapesync/replication/events"
	"pgregory.net/rapid"
)

// The property: after any sequence of Add and Remove, Affected returns
// exactly the live shapes s of the table with Matches(cond(s), old) or
// Matches(cond(s), new) (every shape for a TRUNCATE), each once. Residual
// predicates are evaluated by the index, so "exactly" covers them too: a
// shape behind a residual is reported iff its predicate (and every other
// term) holds, not merely because it sits in the residual list.

var (
	scalarDomain = []string{"a", "b", "c", ""}
	arrayDomain  = []string{"a", "b", "c", "x y", `q"`, "NULL"}
)

// Columns 0–2 are scalars, 3 is an array column; terms may also name
// column 5, past the end of every generated row.
const propColumns = 4

func drawValue(t *rapid.T, label string) string {
	return rapid.SampledFrom(scalarDomain).Draw(t, label)
}

func drawCondition(t *rapid.T, depth int) Condition {
	kinds := 7
	if depth <= 0 {
		kinds = 5
	}
	switch rapid.IntRange(0, kinds-1).Draw(t, "kind") {
	case 0:
		col := rapid.SampledFrom([]int{0, 1, 2, 3, 5}).Draw(t, "eqcol")
		return Eq{Column: col, Value: drawValue(t, "eqval")}
	case 1:
		vals := rapid.SliceOfN(rapid.SampledFrom(scalarDomain), 0, 3).Draw(t, "invals")
		return In{Column: rapid.IntRange(0, 2).Draw(t, "incol"), Values: vals}
	case 2:
		vals := rapid.SliceOfN(rapid.SampledFrom(arrayDomain), 0, 3).Draw(t, "containsvals")
		return Contains{Column: 3, Values: vals}
	case 3:
		col := rapid.IntRange(0, 2).Draw(t, "rescol")
		bound := drawValue(t, "resbound")
		// "col >= bound" on text: a predicate the index cannot look up.
		return Residual{Matches: func(r events.Tuple) bool {
			v, ok := columnText(r, col)
			return ok && v >= bound
		}}
	case 4:
		return All{}
	case 5:
		n := rapid.IntRange(0, 3).Draw(t, "andn")
		terms := make([]Condition, n)
		for i := range terms {
			terms[i] = drawCondition(t, depth-1)
		}
		return And{Terms: terms}
	default:
		n := rapid.IntRange(0, 3).Draw(t, "orn")
		branches := make([]Condition, n)
		for i := range branches {
			branches[i] = drawCondition(t, depth-1)
		}
		return Or{Branches: branches}
	}
}

func drawRow(t *rapid.T, label string) events.Tuple {
	r := make(events.Tuple, propColumns)
	for c := range 3 {
		if rapid.IntRange(0, 5).Draw(t, label+"null") == 0 {
			r[c] = events.Value{Null: true}
			continue
		}
		r[c] = events.Value{Text: drawValue(t, label+"val")}
	}
	switch rapid.IntRange(0, 9).Draw(t, label+"arraykind") {
	case 0:
		r[3] = events.Value{Null: true}
	case 1:
		r[3] = events.Value{Text: "{a,"} // malformed: routed conservatively
	default:
		n := rapid.IntRange(0, 4).Draw(t, label+"arrayn")
		elems := make([]*string, n)
		for i := range elems {
			if rapid.IntRange(0, 6).Draw(t, label+"elemnull") == 0 {
				continue
			}
			e := rapid.SampledFrom(arrayDomain).Draw(t, label+"elem")
			elems[i] = &e
		}
		r[3] = events.Value{Text: formatArray(elems)}
	}
	return r
}

func drawChange(t *rapid.T) *events.Change {
	switch rapid.IntRange(0, 6).Draw(t, "changekind") {
	case 0, 1:
		return insert(drawRow(t, "new"))
	case 2:
		return del(drawRow(t, "old"))
	case 3:
		return &events.Change{Kind: events.Truncate, Relation: itemsRel}
	default:
		return update(drawRow(t, "old"), drawRow(t, "new"))
	}
}

func TestAffectedMatchesBruteForce(t *testing.T) {
	t.Parallel()
	tables := []TableKey{items, {Schema: "s", Name: "other"}}
	rapid.Check(t, func(t *rapid.T) {
		x := New[uint64]()
		model := map[TableKey]map[uint64]Condition{}
		for _, tk := range tables {
			model[tk] = map[uint64]Condition{}
		}
		steps := rapid.IntRange(1, 60).Draw(t, "steps")
		for range steps {
			tk := rapid.SampledFrom(tables).Draw(t, "table")
			id := rapid.Uint64Range(0, 15).Draw(t, "shape")
			switch rapid.IntRange(0, 5).Draw(t, "op") {
			case 0, 1, 2:
				c := drawCondition(t, 3)
				if err := x.Add(tk, id, c); err != nil {
					t.Fatalf("Add: %v", err)
				}
				model[tk][id] = c
			case 3:
				_, had := model[tk][id]
				if got := x.Remove(tk, id); got != had {
					t.Fatalf("Remove(%v, %d) = %v, want %v", tk, id, got, had)
				}
				delete(model[tk], id)
			default:
				ch := drawChange(t)
				got := x.Affected(tk, ch, nil)
				if x.Len(tk) != len(model[tk]) {
					t.Fatalf("Len = %d, model %d", x.Len(tk), len(model[tk]))
				}
				sortedGot := sorted(got)
				if len(slices.Compact(slices.Clone(sortedGot))) != len(got) {
					t.Fatalf("duplicates in %v", sortedGot)
				}
				if want := bruteForce(model[tk], ch); !slices.Equal(sortedGot, want) {
					t.Fatalf("change %s old=%v new=%v: Affected = %v, brute force = %v",
						ch.Kind, ch.Old, ch.New, sortedGot, want)
				}
			}
		}
	})
}

// formatArray writes a one-dimensional array the way array_out does: NULL
// unquoted, elements quoted when empty, spelled NULL, or holding a
// delimiter, brace, quote, backslash or whitespace.
func formatArray(elems []*string) string {
	b := []byte{'{'}
	for i, e := range elems {
		if i > 0 {
			b = append(b, ',')
		}
		if e == nil {
			b = append(b, "NULL"...)
			continue
		}
		if !needsQuote(*e) {
			b = append(b, *e...)
			continue
		}
		b = append(b, '"')
		for j := 0; j < len(*e); j++ {
			if c := (*e)[j]; c == '"' || c == '\\' {
				b = append(b, '\\')
			}
			b = append(b, (*e)[j])
		}
		b = append(b, '"')
	}
	return string(append(b, '}'))
}

func needsQuote(s string) bool {
	if s == "" || len(s) == 4 && (s[0]|0x20) == 'n' && (s[1]|0x20) == 'u' && (s[2]|0x20) == 'l' && (s[3]|0x20) == 'l' {
		return true
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '{' || c == '}' || c == ',' || c == '"' || c == '\\' || isArraySpace(c):
			return true
		}
	}
	return false
}

func nonNull(elems []*string) []string {
	out := []string{}
	for _, e := range elems {
		if e != nil {
			out = append(out, *e)
		}
	}
	return out
}

func TestArrayElementsRoundTrip(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(t *rapid.T) {
		elems := rapid.SliceOfN(rapid.Ptr(rapid.StringOf(rapid.SampledFrom(
			[]rune{'a', 'Z', ' ', '\t', ',', '{', '}', '"', '\\', 'N', 'U', 'L', 'é', '['})), true), 0, 6).Draw(t, "elems")
		text := formatArray(elems)
		got, err := arrayElements(text, nil)
		if err != nil {
			t.Fatalf("arrayElements(%q): %v", text, err)
		}
		if want := nonNull(elems); !slices.Equal(got, want) {
			t.Fatalf("arrayElements(%q) = %q, want %q", text, got, want)
		}
	})
}

func TestArrayElements(t *testing.T) {
	t.Parallel()
	tests := []struct {
		text string
		want []string
		ok   bool
	}{
		{"{}", []string{}, true},
		{" { } ", []string{}, true},
		{"{1,2,3}", []string{"1", "2", "3"}, true},
		{"{{1,2},{3,NULL}}", []string{"1", "2", "3"}, true},
		{"[2:3]={7,8}", []string{"7", "8"}, true},
		{`{"",null,"null",\N}`, []string{"", "null", "N"}, true},
		{`{ a b , c }`, []string{"a b", "c"}, true},
		{`{a\ }`, []string{"a "}, true},
		{`{a\,b}`, []string{"a,b"}, true},
		{"", nil, false},
		{"1,2", nil, false},
		{"{1,2", nil, false},
		{"{1,}", nil, false},
		{`{"a}`, nil, false},
		{`{a"b}`, nil, false},
		{`{a\`, nil, false},
		{"{1}}", nil, false},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%q", tc.text), func(t *testing.T) {
			got, err := arrayElements(tc.text, nil)
			if (err == nil) != tc.ok {
				t.Fatalf("err = %v, want ok=%v", err, tc.ok)
			}
			if tc.ok && !slices.Equal(got, tc.want) {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func FuzzArrayElements(f *testing.F) {
	for _, s := range []string{"{}", "{1,2}", `{"a\"b",NULL}`, "[0:1]={{1},{2}}", "{a", `{\`, "{{}", " {x , y} "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		elems, err := arrayElements(text, nil)
		if err != nil {
			return
		}
		// Whatever parsed must survive a canonical rewrite unchanged.
		ptrs := make([]*string, len(elems))
		for i := range elems {
			ptrs[i] = &elems[i]
		}
		again, err := arrayElements(formatArray(ptrs), nil)
		if err != nil || !slices.Equal(again, elems) {
			t.Fatalf("%q → %q → %q (%v)", text, elems, again, err)
		}
	})
}
