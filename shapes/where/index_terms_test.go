package where

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

var indexCols = []Column{
	{Name: "id", Type: "int4"},        // 0
	{Name: "big", Type: "int8"},       // 1
	{Name: "small", Type: "int2"},     // 2
	{Name: "name", Type: "text"},      // 3
	{Name: "v", Type: "varchar"},      // 4
	{Name: "u", Type: "uuid"},         // 5
	{Name: "flag", Type: "bool"},      // 6
	{Name: "amount", Type: "numeric"}, // 7
	{Name: "tags", Type: "_text"},     // 8
}

func renderTerm(t IndexTerm) string {
	switch t.Kind {
	case IndexEq:
		return fmt.Sprintf("c%d=%s", t.Column, t.Values[0])
	case IndexIn:
		return fmt.Sprintf("c%d in [%s]", t.Column, strings.Join(t.Values, " "))
	case IndexAnd, IndexOr:
		parts := make([]string, len(t.Terms))
		for i, s := range t.Terms {
			parts[i] = renderTerm(s)
		}
		op := "and"
		if t.Kind == IndexOr {
			op = "or"
		}
		return op + "(" + strings.Join(parts, ", ") + ")"
	}
	return "other"
}

func checkedForIndex(t testing.TB, text string, params ...string) *Expr {
	t.Helper()
	e, err := Parse(text, params)
	if err != nil {
		t.Fatalf("parse %q: %v", text, err)
	}
	c, err := e.Check(indexCols)
	if err != nil {
		t.Fatalf("check %q: %v", text, err)
	}
	return c
}

func TestIndexTerms(t *testing.T) {
	t.Parallel()
	cases := []struct {
		where  string
		params []string
		want   string
	}{
		{"id = 5", nil, "c0=5"},
		{"5 = id", nil, "c0=5"},
		{"id = '007'", nil, "c0=7"},
		{"id = 2 + 3", nil, "c0=5"},
		{"id = $1", []string{" 42"}, "c0=42"},
		{"big = 5", nil, "c1=5"},                   // the constant is cast, not the column
		{"big = 9000000000", nil, "c1=9000000000"}, // an int8 literal
		{"small = 5", nil, "c2=5"},                 // int2 column widened to int4 keeps its text
		{"small::int8 = 7", nil, "c2=7"},           // so does an explicit widening
		{"id::int2 = 7", nil, "other"},             // narrowing can fail or wrap: not indexed
		{"small = '5'", nil, "c2=5"},               // untyped literal takes int2
		{"id = 9000000000", nil, "c0=9000000000"},  // int4 column widened to int8: exact, matches no row
		{"name = 'Ab c'", nil, "c3=Ab c"},
		{"v = 'x'", nil, "c4=x"},
		{"v = 'x'::text", nil, "c4=x"}, // varchar column cast to text keeps its bytes
		{"name::int4 = 5", nil, "other"},
		{"u = 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'", nil, "c5=a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"},
		{"u = '{a0eebc999c0b4ef8bb6d6bb9bd380a11}'", nil, "c5=a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"},
		{"flag = true", nil, "c6=t"},
		{"flag = 'no'", nil, "c6=f"},
		{"flag", nil, "c6=t"},
		{"NOT flag", nil, "c6=f"},
		{"flag IS TRUE", nil, "c6=t"},
		{"flag IS FALSE", nil, "c6=f"},
		{"flag IS NOT FALSE", nil, "other"},
		{"amount = 5", nil, "other"}, // numeric text is not canonical (5 vs 5.0)
		{"id IN (1, 2, 3)", nil, "c0 in [1 2 3]"},
		{"id IN (1)", nil, "c0=1"},
		{"id IN (1, NULL, 2)", nil, "c0 in [1 2]"},
		{"id = ANY('{4,5}')", nil, "c0 in [4 5]"},
		{"id = ANY($1)", []string{"{6,NULL,7}"}, "c0 in [6 7]"},
		{"id = ANY('{}')", nil, "c0 in []"},
		{"name IN ('a', 'b')", nil, "c3 in [a b]"},
		{"id IN (1, big)", nil, "or(c0=1, other)"},
		{"id <> ALL('{1}')", nil, "other"},
		{"id NOT IN (1, 2)", nil, "other"},
		{"id IS NOT DISTINCT FROM 3", nil, "c0=3"},
		{"id IS NOT DISTINCT FROM NULL", nil, "other"},
		{"id IS DISTINCT FROM 3", nil, "other"},
		{"id = NULL", nil, "or()"},
		{"id > 5", nil, "other"},
		{"id = 1 AND name = 'a'", nil, "and(c0=1, c3=a)"},
		{"id = 1 OR id = 2", nil, "or(c0=1, c0=2)"},
		{"(id = 1 OR id = 2) AND name LIKE 'a%'", nil, "and(or(c0=1, c0=2), other)"},
		{"NOT (id = 1)", nil, "other"},
		{"id = 1 AND 1 = 1", nil, "c0=1"}, // folding drops the true arm
		{"id = 1 OR 1 = 0", nil, "c0=1"},  // and the false one
		{"id = 1 AND NULL", nil, "and(c0=1, or())"},
		{"1 = 1", nil, "and()"},
		{"1 = 0", nil, "or()"},
		{"'a' = ANY(tags)", nil, "other"},
		{"id = id", nil, "other"},
		{"1/0 = 1 OR id = 1", nil, "other"}, // fails at plan time for every row
	}
	for _, c := range cases {
		got := renderTerm(checkedForIndex(t, c.where, c.params...).IndexTerms())
		if got != c.want {
			t.Errorf("%q: %s, want %s", c.where, got, c.want)
		}
	}
	if got := (*Expr)(nil).IndexTerms(); got.Kind != IndexOther {
		t.Errorf("nil expression: %s, want other", renderTerm(got))
	}
	if e, err := Parse("id = 1", nil); err != nil || e.IndexTerms().Kind != IndexOther {
		t.Errorf("unchecked expression: want other (err %v)", err)
	}
}

// holds is the term tree's meaning on a text row.
func indexHolds(t IndexTerm, row []*string) bool {
	switch t.Kind {
	case IndexEq, IndexIn:
		v := row[t.Column]
		return v != nil && slices.Contains(t.Values, *v)
	case IndexAnd:
		for _, s := range t.Terms {
			if !indexHolds(s, row) {
				return false
			}
		}
		return true
	case IndexOr:
		for _, s := range t.Terms {
			if indexHolds(s, row) {
				return true
			}
		}
		return false
	}
	return true
}

// TestIndexTermsNecessary checks the contract on random rows: wherever
// Eval says true, the term tree holds.
func TestIndexTermsNecessary(t *testing.T) {
	t.Parallel()
	clauses := []string{
		"id = 1", "id = 1 AND name = 'a'", "id = 1 OR name = 'b'", "id IN (1, 2) AND (flag OR name = 'a')",
		"NOT flag AND big = 2", "u = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11' OR id IN (2, 3)",
		"(id = 1 OR id = 2) AND name LIKE 'a%'", "id = ANY('{1,NULL,3}') OR small = '2'",
		"flag IS TRUE AND v = 'x'", "id IS NOT DISTINCT FROM 2 OR big > 1",
		"id = 1 AND amount > 2", "coalesce(id, 1) = 1 OR id = 2",
	}
	exprs := make([]*Expr, len(clauses))
	for i, c := range clauses {
		exprs[i] = checkedForIndex(t, c)
	}
	rapid.Check(t, func(rt *rapid.T) {
		pick := func(label string, values ...string) *string {
			i := rapid.IntRange(-1, len(values)-1).Draw(rt, label)
			if i < 0 {
				return nil
			}
			return &values[i]
		}
		row := []*string{
			pick("id", "1", "2", "3"),
			pick("big", "1", "2"),
			pick("small", "1", "2"),
			pick("name", "a", "b", "ab"),
			pick("v", "x", "y"),
			pick("u", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "00000000-0000-0000-0000-000000000000"),
			pick("flag", "t", "f"),
			pick("amount", "1", "2.5", "3"),
			pick("tags", "{a,b}", "{}"),
		}
		read := func(i int) (string, bool) {
			if row[i] == nil {
				return "", true
			}
			return *row[i], false
		}
		for i, e := range exprs {
			v, err := e.Eval(read)
			if err == nil && v.IsTrue() && !indexHolds(e.IndexTerms(), row) {
				rt.Fatalf("%q is true on %v but its index terms %s do not hold", clauses[i], renderIndexRow(row), renderTerm(e.IndexTerms()))
			}
		}
	})
}

func renderIndexRow(row []*string) string {
	parts := make([]string, len(row))
	for i, v := range row {
		parts[i] = "NULL"
		if v != nil {
			parts[i] = *v
		}
	}
	return strings.Join(parts, "|")
}
