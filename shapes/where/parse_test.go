package where

import (
	"errors"
	"strings"
	"testing"
)

var testColumns = []Column{
	{"id", "int8"}, {"n", "int4"}, {"small", "int2"}, {"price", "numeric"}, {"title", "text"},
	{"name", "varchar"}, {"done", "bool"}, {"uid", "uuid"}, {"tags", "_text"}, {"ids", "int4[]"},
	{"Mixed Case", "text"}, {"created", "timestamptz"},
	{"day", "date"}, {"at", "timestamp"}, {"clock", "time"}, {"span", "interval"},
}

func parseCheck(text string, params ...string) (*Expr, error) {
	e, err := Parse(text, params)
	if err != nil {
		return nil, err
	}
	return e.Check(testColumns)
}

// TestAccepted checks accepted clauses and the SQL they render to.
func TestAccepted(t *testing.T) {
	t.Parallel()
	cases := []struct {
		where  string
		params []string
		sql    string
		args   []any
	}{
		{"id = 1", nil, `("id" = ($1::text::int4)::int8)`, []any{"1"}},
		{"title = 'it''s'", nil, `("title" = $1::text)`, []any{"it's"}},
		{`"Mixed Case" ILIKE $1`, []string{"%a%"}, `("Mixed Case" ILIKE $1::text)`, []any{"%a%"}},
		{"n IN (1, 2, 3)", nil, `("n" = ANY (ARRAY[$1::text::int4, $2::text::int4, $3::text::int4]))`, []any{"1", "2", "3"}},
		{"n BETWEEN 1 AND 10", nil, `(("n" >= $1::text::int4) AND ("n" <= $2::text::int4))`, []any{"1", "10"}},
		{"id = ANY($1)", []string{"{1,2}"}, `("id" = ANY ($1::text::int8[]))`, []any{"{1,2}"}},
		{"price > 1.5 AND NOT done", nil, `(("price" > $1::text::numeric) AND (NOT "done"))`, []any{"1.5"}},
		{"n + small > 2147483648", nil, `((("n" + ("small")::int4))::int8 > $1::text::int8)`, []any{"2147483648"}},
		{"done IS NOT TRUE OR title IS NULL", nil, `(("done" IS NOT TRUE) OR ("title" IS NULL))`, nil},
		{"uid = '0B5C8F3E-1D2A-4C5B-9E8F-7A6B5C4D3E2F'", nil, `("uid" = $1::text::uuid)`, []any{"0B5C8F3E-1D2A-4C5B-9E8F-7A6B5C4D3E2F"}},
		{"lower(name) || 'x' = concat(title, n)", nil, `((lower(("name")::text) || $1::text) = concat("title", "n"))`, []any{"x"}},
		{"coalesce(n, 0) IS DISTINCT FROM greatest(small, 3)", nil, `(coalesce("n", $1::text::int4) IS DISTINCT FROM greatest(("small")::int4, $2::text::int4))`, []any{"0", "3"}},
		{"tags[1] = 'a'", nil, `((("tags")[$1::text::int4]) = $2::text)`, []any{"1", "a"}},
		{"done", nil, `"done"`, nil},
		{"$1::int4 = n AND $1::int4 > 0", []string{"5"}, `(($1::text::int4 = "n") AND ($2::text::int4 > $3::text::int4))`, []any{"5", "5", "0"}},
	}
	for _, c := range cases {
		e, err := parseCheck(c.where, c.params...)
		if err != nil {
			t.Errorf("%q: %v", c.where, err)
			continue
		}
		sql, args := e.SQL()
		if sql != c.sql || !sameArgs(args, c.args) {
			t.Errorf("%q:\n got %s %q\nwant %s %q", c.where, sql, args, c.sql, c.args)
		}
	}
}

func sameArgs(a, b []any) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestRejected checks the exact message, position included, of clauses
// outside the language or ill-typed (SHAPE_API §20.7).
func TestRejected(t *testing.T) {
	t.Parallel()
	cases := []struct {
		where  string
		params []string
		msg    string
	}{
		{"1 x 1", nil, `At location 2: syntax error at or near "x"`},
		{"'éé' x 1", nil, `At location 5: syntax error at or near "x"`},
		{"nope = 1", nil, "At location 0: unknown reference nope"},
		{`id = 1 AND "Title" = 'a'`, nil, "At location 11: unknown reference Title"},
		{"'0x10'::int4 = 16", nil, "At location 0: invalid syntax for type int4: 0x10"},
		{"(SELECT 1) = 1", nil, "At location 0: subqueries are not supported (shapesync does not support them yet)"},
		{"id IN (SELECT id FROM t)", nil, "At location 3: subqueries are not supported (shapesync does not support them yet)"},
		{"EXISTS (SELECT 1)", nil, "At location 0: subqueries are not supported (shapesync does not support them yet)"},
		{"pg_sleep(10) IS NULL", nil, "At location 0: unknown or unsupported function pg_sleep/1"},
		{"now() > created", nil, "At location 0: unknown or unsupported function now/0"},
		{"random() < 0.5", nil, "At location 0: unknown or unsupported function random/0"},
		{"count(*) > 1", nil, "At location 0: aggregation is not supported in this context"},
		{"CASE WHEN done THEN true END", nil, "At location 0: CaseExpr is not supported in this context"},
		{"n = 1 AND CASE WHEN done THEN true END", nil, "At location 10: CaseExpr is not supported in this context"},
		{"n = 1 AND '1' = ANY (ARRAY[n]) AND x'1F' IS NULL", nil, "At location 35: bit-string literals are not supported"},
		{"id::money = 1", nil, "At location 4: unsupported type money"},
		{"id::varchar(3) = '1'", nil, "At location 4: type modifiers are not supported (varchar)"},
		{"created::timetz IS NULL", nil, "At location 9: unsupported type timetz"},
		{"id = $1", nil, "At location 5: parameter $1 was not provided"},
		{"n = $1 AND title = $1", []string{"1"}, "At location 19: type conflict for $1: int4 and text"},
		{"n = 'abc'", nil, "At location 4: invalid syntax for type int4: abc"},
		{"n", nil, "At location 0: WHERE clause must return a boolean"},
		{"n = 1 AND title", nil, "At location 10: argument of AND must be type boolean, not type text"},
		{"n = title", nil, "At location 0: operator does not exist: int4 = text"},
		{"'1' + '2' = 3", nil, "At location 4: operator is not unique: unknown + unknown"},
		{"done::uuid IS NULL", nil, "At location 4: unknown cast from type bool to type uuid"},
		{"n = 1; DROP TABLE x", nil, `At location 5: unescaped ";" causing statement split`},
		{"n = 1 -- x", nil, "At location 6: comments are not supported"},
		{"n = /* c */ 1", nil, "At location 4: comments are not supported"},
		{"n = 1 ORDER BY 1", nil, "At location 0: malformed query ending with SQL clauses"},
		{"n = 1 UNION SELECT 2", nil, "At location 0: malformed query ending with SQL clauses"},
		{"title SIMILAR TO 'a'", nil, "At location 6: SIMILAR TO is not supported"},
		{"title LIKE 'a' ESCAPE '!'", nil, "At location 6: LIKE with ESCAPE is not supported; the escape character is backslash"},
		{"title ~ 'a'", nil, "At location 6: unknown binary operator ~"},
		{"price ^ 2 > 1", nil, "At location 6: operator ^ on numeric is not supported; cast an operand to float8"},
		{"n % 1.5::float8 > 1", nil, "At location 2: operator does not exist: int4 % float8"},
		{"~ '1' = 1", nil, "At location 0: operator is not unique: ~ unknown"},
		{"n << 2::int8 = 1", nil, "At location 2: operator does not exist: int4 << int8"},
		{"||/ n = 1", nil, "At location 0: unknown unary operator ||/"},
		{"B'101' IS NULL", nil, "At location 0: bit-string literals are not supported"},
		{"t.n = 1", nil, "At location 0: only plain column references are supported"},
		{"é = 1 AND ü = 2", nil, "At location 0: unknown reference é"},
		{"n = 1 AND ü = 2", nil, "At location 10: unknown reference ü"},
		{"n = 1 AND 'é' = title AND x = 1", nil, "At location 26: unknown reference x"},
		{"nullif(n, 1) IS NULL", nil, "At location 0: NULLIF is not supported"},
		{"ids[1][1][1][1][1][1][1:2] IS NULL", nil, "At location 0: number of array dimensions (7) exceeds the maximum allowed (6)"},
		{"ARRAY[] = ids", nil, "At location 0: cannot determine type of empty array"},
	}
	for _, c := range cases {
		_, err := parseCheck(c.where, c.params...)
		var we *Error
		if !errors.As(err, &we) {
			t.Errorf("%q: got %v (%T), want *Error %q", c.where, err, err, c.msg)
			continue
		}
		if err.Error() != c.msg {
			t.Errorf("%q:\n got %s\nwant %s", c.where, err, c.msg)
		}
	}
}

// TestHostile feeds RELIABILITY F2's inputs: each is rejected with an
// *Error, nothing panics, nothing recurses without bound.
func TestHostile(t *testing.T) {
	t.Parallel()
	hostile := []string{
		"1=1; DROP TABLE x", "1=1 -- x", "/* */ 1=1", "1=1 /* unterminated", "'a''; DROP TABLE x; --' = title OR",
		`title = '\'; DROP TABLE x; --'`, `"title"" = 1`, "title = $$a$$; select 1",
		"pg_sleep(10) IS NULL", "(SELECT 1) = 1", "id IN (SELECT id FROM pg_class)", "1=1 UNION ALL SELECT 1",
		"pg_catalog.pg_sleep(1) IS NULL", "id = 1::regclass", "current_user = 'x'", "title = E'\\x00'",
		"lower(VARIADIC ARRAY['a']) = 'a'", "id = ALL(SELECT 1)", "ROW(1,2) = ROW(1,2)", "done OR",
		strings.Repeat("x", 100_000), strings.Repeat("(", 10_000) + "done" + strings.Repeat(")", 10_000),
		strings.Repeat("NOT ", 4000) + "done", strings.Repeat("- ", 5000) + "n = 1", "n = " + strings.Repeat("1 + ", 3000) + "1",
		strings.Repeat("[", 70) + "1" + strings.Repeat("]", 70) + " = n", "ids" + strings.Repeat("[1]", 100) + " = 1",
		"title = 'a\x00b'", "", " ", ";", "\xff\xfe = 1",
	}
	for _, h := range hostile {
		_, err := parseCheck(h)
		var we *Error
		if !errors.As(err, &we) {
			short := h
			if len(short) > 60 {
				short = short[:60] + "…"
			}
			t.Errorf("%q: got %v, want an *Error", short, err)
		}
	}
}

// TestEvalSemantics pins Postgres results the differential test found
// or that matter most for membership.
func TestEvalSemantics(t *testing.T) {
	t.Parallel()
	row := map[string]string{"id": "9223372036854775807", "n": "-2147483648", "small": "32767", "price": "12.340",
		"title": `a\b%`, "name": "Ab", "done": "t", "uid": "0b5c8f3e-1d2a-4c5b-9e8f-7a6b5c4d3e2f", "tags": `{a,"b c",NULL}`, "ids": "{1,NULL,3}"}
	get := func(i int) (string, bool) {
		v, ok := row[testColumns[i].Name]
		return v, !ok
	}
	cases := []struct{ where, want string }{
		{"id + 1 > 0", "error"},
		{"n - 1 < 0", "error"},
		{"- n > 0", "error"},
		{"n / -1 > 0", "error"},
		{"n % -1 = 0", "true"},
		{"small + small::int2 > 0", "error"},
		{"small + 1 = 32768", "true"},
		{"price / 0 = 1", "error"},
		{"price = 12.34", "true"},
		{"price::text = '12.340'", "true"},
		{"(price / 3)::text = '4.1133333333333333'", "true"},
		{"(1 / 3.0)::text = '0.33333333333333333333'", "true"},
		{"(price * 2)::text = '24.680'", "true"},
		{"(price % 5)::text = '2.340'", "true"},
		{"price::int4 = 12", "true"},
		{"2.5::int4 = 3 AND (-2.5)::int4 = -3", "true"},
		{"'NaN'::numeric > price", "true"},
		{`title LIKE 'a\\b\%'`, "true"},
		{`title LIKE 'a_b%'`, "true"},
		{`title LIKE 'a_c%'`, "false"},
		{`title LIKE '%\'`, "error"},
		{`title LIKE 'x\'`, "false"},
		{"name ILIKE 'aB'", "true"},
		{"lower('É') = 'É'", "true"},
		{"title || done = 'a\\b%true'", "true"},
		{"concat(title, done, NULL) = 'a\\b%t'", "true"},
		{"uid = '{0B5C8F3E1D2A4C5B9E8F7A6B5C4D3E2F}'", "true"},
		{"tags[2] = 'b c' AND tags[3] IS NULL AND tags[4] IS NULL", "true"},
		{"3 = ANY(ids)", "true"},
		{"2 = ANY(ids)", "null"},
		{"2 <> ALL(ids)", "null"},
		{"0 > ALL(ids)", "false"},
		{"NULL::int4 = ANY('{}')", "false"},
		{"n IN (1, 2, NULL)", "null"},
		{"n NOT IN (1, 2)", "true"},
		{"NULL AND FALSE", "false"},
		{"NULL OR TRUE", "true"},
		{"NULL::bool IS UNKNOWN", "true"},
		{"NULL IS DISTINCT FROM 1", "true"},
		{"coalesce(NULL, n) = n", "true"},
		{"greatest(NULL, 1, 3) = 3 AND least(NULL, 1, 3) = 1", "true"},
		{"n > 0 AND 1/0 = 1", "error"},                                       // folded at plan time by Postgres
		{"false AND 1/0 = 1", "false"},                                       // folding stops at the constant false
		{"id / 0 = 1 AND false", "false"},                                    // the constant arm decides before any row
		{"coalesce(1, 1/0) = 1", "true"},                                     // coalesce stops at its first constant
		{"coalesce(n, 1/0) = 1", "error"},                                    // but folds the rest after a column
		{"concat('a') = 'b' AND 1/0 = 1", "error"},                           // concat is stable, never folded
		{"((price * 1e10)::int4 = 1) = (1 <> ANY ('{1,NULL}'))", "error"},    // array_in is stable: no folding to NULL
		{"((price * 1e10)::int4 = 1) = (1 <> ANY (ARRAY[1, NULL]))", "null"}, // ARRAY[…] folds
		{"n BETWEEN 5 AND 1", "false"},
		{"n BETWEEN SYMMETRIC 5 AND -2147483648", "true"},
		{"'yes'::bool AND ' of '::bool = false", "true"},
		{"' 12 '::int4 = 12", "true"},
		{"'1e3'::numeric = 1000", "true"},
	}
	for _, c := range cases {
		e, err := parseCheck(c.where)
		if err != nil {
			t.Errorf("%q: %v", c.where, err)
			continue
		}
		v, err := e.Eval(get)
		got := "false"
		switch {
		case err != nil:
			got = "error"
		case v.IsNull():
			got = "null"
		case v.IsTrue():
			got = "true"
		}
		if got != c.want {
			t.Errorf("%q = %s (%v), want %s", c.where, got, err, c.want)
		}
	}
}

// TestUncheckedExpr: an expression that did not pass Check renders no SQL
// and does not evaluate.
func TestUncheckedExpr(t *testing.T) {
	t.Parallel()
	e, err := Parse("id = 1", nil)
	if err != nil {
		t.Fatal(err)
	}
	if sql, args := e.SQL(); sql != "" || args != nil {
		t.Errorf("unchecked SQL = %q %v", sql, args)
	}
	if _, err := e.Eval(func(int) (string, bool) { return "", true }); err == nil {
		t.Error("unchecked Eval succeeded")
	}
}
