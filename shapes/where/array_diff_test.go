package where

// The array part of the differential test (diff_test.go): array columns
// of several element types with adversarial values, and a generator of
// array expressions and predicates.

import "strings"

var arrayDiffColumns = []Column{{"ia", "_int4"}, {"ta", "_text"}, {"na", "_numeric"}, {"fa", "_float8"}, {"da", "_date"}}

// arrayDiffValues are array_out texts: empty arrays, NULL elements,
// duplicates, elements needing quotes (commas, braces, backslashes,
// spaces, the word NULL), multi-dimensional arrays and non-default lower
// bounds (including ones at the int32 limit).
var arrayDiffValues = [][]string{
	{"{}", "{1,2,3}", "{{1,2},{3,4}}", "[0:1]={1,2}", "{NULL,NULL}", "{2,2,1}", "[2:3]={3,NULL}", "{{NULL}}", "{7}",
		"[2147483646:2147483646]={1}", "{{1},{2}}", "[-2:-1][1:2]={{1,2},{3,4}}", "{-2147483648,2147483647}", "{1,NULL,3}"},
	{"{}", `{a,"b,c",NULL}`, `{"",NULL}`, `{"NULL",NULL}`, `{"\\",a}`, `{"{}","a b"}`, "{{a,b},{c,d}}", "[0:0]={a}", "{a,a}",
		"{A,é}", `{"\""}`, "{abc,12}", "{{a}}"},
	{"{}", "{1.5,NaN}", "{1.50,2}", "{NULL}", "{{1,2},{3,4}}", "{0.0,0}", "{3,-7}", "[5:6]={1,2}", "{99999999999999999999}"},
	{"{}", "{NaN,1}", "{-0,0}", "{Infinity,NULL}", "{1.5,2.5}", "{{1},{2}}", "{0.1,0.30000000000000004}", "{1}"},
	{"{}", "{2024-01-31,NULL}", "{infinity,-infinity}", "{2024-01-31,2024-02-29}", "[0:0]={2000-01-01}", "{{1970-01-01}}"},
}

func arrayParamValues() []string {
	return []string{"{1,NULL}", "{{1,2},{3,4}}", "[0:1]={1,2}", `{a,"b,c"}`, "{}", "{2,2}"}
}

// arrayFamily is an element type family of the generator: an int4,
// text, numeric, float8 or date array.
type arrayFamily int

const (
	famInt arrayFamily = iota
	famText
	famNumeric
	famFloat
	famDate
	numFamilies
)

// elem is a scalar of the family's element type.
func (g *exprGen) arrayElem(f arrayFamily, d int) string {
	switch f {
	case famInt:
		return g.pick("i4", "1", "2", "NULL::int4", "(i4 + 1)", "i2", "arr[1]", "ia[1]", "0", "2147483647")
	case famText:
		return g.pick("s", "'a'", "'b,c'", "NULL::text", "v", "''", "'NULL'", "ta[1]", `'\'`, "lower(s)")
	case famNumeric:
		return g.pick("n", "1.5", "1.50", "NULL::numeric", "2", "'NaN'::numeric", "na[1]")
	case famFloat:
		return g.pick("f8", "1.5", "'NaN'::float8", "NULL::float8", "'-0'::float8", "fa[1]", "0.1")
	}
	return g.pick("d", "'2024-01-31'::date", "NULL::date", "da[1]", "'infinity'::date")
}

// array is an array expression of family f.
func (g *exprGen) array(f arrayFamily, d int) string {
	col := [...]string{"ia", "ta", "na", "fa", "da"}[f]
	typ := [...]string{"int4[]", "text[]", "numeric[]", "float8[]", "date[]"}[f]
	if d <= 0 {
		leaves := []string{col, col, "ARRAY[" + g.arrayElem(f, 0) + ", " + g.arrayElem(f, 0) + "]", "ARRAY[]::" + typ,
			"ARRAY[[" + g.arrayElem(f, 0) + "], [" + g.arrayElem(f, 0) + "]]", "NULL::" + typ}
		switch f {
		case famInt:
			leaves = append(leaves, "arr", "'{{1,2},{3,4}}'::int4[]", "'[0:2]={1,NULL,3}'::int4[]", g.param()+"::int4[]", "'{2,2}'::int4[]")
		case famText:
			leaves = append(leaves, `'{a,"b,c",NULL}'::text[]`, "(s)::text[]", "'{{a},{b}}'::text[]", "ARRAY[s, v]")
		case famNumeric:
			leaves = append(leaves, "(arr)::numeric[]", "'{1.5,NaN,NULL}'::numeric[]", "(arr || 1.5)")
		case famFloat:
			leaves = append(leaves, "'{NaN,-0}'::float8[]", "(na)::float8[]", "(ia)::float8[]")
		}
		return g.pick(leaves...)
	}
	a := func() string { return g.array(f, d-1) }
	switch g.r.IntN(11) {
	case 0:
		return "(" + a() + " || " + a() + ")"
	case 1:
		return "(" + a() + " || " + g.arrayElem(f, d-1) + ")"
	case 2:
		return "(" + g.arrayElem(f, d-1) + " || " + a() + ")"
	case 3:
		return g.pick("array_cat(", "array_cat(") + a() + ", " + a() + ")"
	case 4:
		return "array_append(" + a() + ", " + g.arrayElem(f, d-1) + ")"
	case 5:
		return "array_prepend(" + g.arrayElem(f, d-1) + ", " + a() + ")"
	case 6:
		return "(" + a() + ")" + g.slice()
	case 7:
		return "ARRAY[" + a() + ", " + a() + "]"
	case 8:
		return "(" + a() + " || " + g.pick("'{}'", "NULL", "'{1}'", "'{{1}}'") + ")"
	case 9:
		return "coalesce(" + a() + ", " + a() + ")"
	}
	return g.array(f, 0)
}

func (g *exprGen) index() string {
	return g.pick("1", "2", "0", "i4", "-1", "3", "NULL", "(i4 + 1)", "2147483647", "i2", "'2'")
}

func (g *exprGen) slice() string {
	one := func() string {
		switch g.r.IntN(4) {
		case 0:
			return "[" + g.index() + "]"
		case 1:
			return "[" + g.index() + ":]"
		case 2:
			return "[:" + g.index() + "]"
		}
		return "[" + g.index() + ":" + g.index() + "]"
	}
	s := one()
	if g.r.IntN(3) == 0 {
		s += one()
	}
	if !strings.Contains(s, ":") {
		return s[:len(s)-1] + ":]" // keep it a slice: the result must stay an array
	}
	return s
}

// arrayBool is a predicate over arrays.
func (g *exprGen) arrayBool(d int) string {
	f := arrayFamily(g.r.IntN(int(numFamilies)))
	a := func() string { return g.array(f, g.r.IntN(d+1)) }
	switch g.r.IntN(12) {
	case 0, 1:
		return a() + g.pick(" @> ", " <@ ", " && ") + a()
	case 2:
		return a() + " " + g.cmp() + " " + a()
	case 3:
		return a() + " IS " + g.pick("", "NOT ") + "DISTINCT FROM " + a()
	case 4:
		return "array_ndims(" + a() + ")" + g.pick(" = 1", " = 2", " IS NULL", " < 2", " > i4")
	case 5:
		sub := "[" + g.index() + "]"
		if g.r.IntN(2) == 0 {
			sub += "[" + g.index() + "]"
		}
		return "(" + a() + ")" + sub + " " + g.cmp() + " " + g.arrayElem(f, 0)
	case 6:
		return g.arrayElem(f, 0) + " " + g.cmp() + g.pick(" ANY (", " ALL (") + a() + ")"
	case 7:
		return "(" + a() + ") IS " + g.pick("", "NOT ") + "NULL"
	case 8:
		return "((" + a() + ")" + g.slice() + ")" + "[1] IS NULL"
	case 9:
		return "(" + a() + ")::text " + g.cmp() + " " + g.pick("s", "'{}'", "'{1,2}'", "("+a()+")::text")
	case 10:
		if f == famInt {
			return a() + g.pick(" @> ", " && ", " = ") + g.pick(g.param(), "'{1,2}'", "'{{1,2},{3,4}}'", "'[0:1]={1,2}'", "'{NULL}'")
		}
	}
	return g.arrayElem(f, 0) + " IS NULL"
}
