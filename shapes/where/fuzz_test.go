package where

import (
	"errors"
	"strings"
	"testing"

	pg "github.com/pganalyze/pg_query_go/v6"
)

var fuzzRow = map[string]string{"id": "42", "n": "-7", "small": "3", "price": "1.50", "title": "Abc%",
	"name": "x", "done": "f", "uid": "0b5c8f3e-1d2a-4c5b-9e8f-7a6b5c4d3e2f", "tags": "{a,NULL}", "ids": "{1,2}"}

func fuzzGet(i int) (string, bool) {
	v, ok := fuzzRow[testColumns[i].Name]
	return v, !ok
}

func outcome(e *Expr) string {
	v, err := e.Eval(fuzzGet)
	switch {
	case err != nil:
		return "error"
	case v.IsNull():
		return "null"
	case v.IsTrue():
		return "true"
	}
	return "false"
}

// FuzzParseAndCheck: no input panics; every rejection is an *Error; an
// accepted clause renders SQL without any literal text (no quote,
// backslash or semicolon: every value is a bound argument) that
// libpg_query parses again and that,
// parsed and checked by us with its arguments as parameters, evaluates to
// the same outcome on a fixed row.
func FuzzParseAndCheck(f *testing.F) {
	for _, s := range []string{
		"id = 1", "title ILIKE $1", "n IN (1, 2, NULL)", "price / 0 > 1", "done IS NOT TRUE", "id = ANY($1)",
		"n BETWEEN SYMMETRIC 1 AND $2", "coalesce(n, 1/0) = 1", "lower(title) || 'x' LIKE '%\\%'",
		"1=1; DROP TABLE x", "1=1 -- x", "/* */ 1=1", "pg_sleep(10) IS NULL", "(SELECT 1) = 1",
		"id IN (SELECT id FROM t)", "'it''s' = title", `"Mixed Case" = 'a'`, "tags[1] = 'a'",
		strings.Repeat("(", 80) + "done" + strings.Repeat(")", 80), "greatest(n, small, 3) > least(1, 2)",
		"concat(title, done, NULL, n) = 'x'", "- n > 2147483647", "'NaN'::numeric = price",
	} {
		f.Add(s, "1")
	}
	f.Add("id = $1 AND title = $2", "{1,2}")
	f.Fuzz(func(t *testing.T, text, param string) {
		params := []string{param, "2"}
		e, err := Parse(text, params)
		if err == nil {
			e, err = e.Check(testColumns)
		}
		if err != nil {
			var we *Error
			if !errors.As(err, &we) {
				t.Fatalf("%q: error %v is not an *Error", text, err)
			}
			return
		}
		want := outcome(e)
		sql, args := e.SQL()
		if strings.ContainsAny(sql, "';\\") {
			t.Fatalf("%q renders %q: a literal or separator reached the SQL text", text, sql)
		}
		if _, err := pg.Parse(wrapPrefix + sql); err != nil {
			t.Fatalf("%q renders %q, which does not parse: %v", text, sql, err)
		}
		var again []string
		for _, a := range args {
			again = append(again, a.(string))
		}
		e2, err := Parse(sql, again)
		if err == nil {
			e2, err = e2.Check(testColumns)
		}
		if err != nil {
			t.Fatalf("%q renders %q, which we reject: %v", text, sql, err)
		}
		if got := outcome(e2); got != want {
			t.Fatalf("%q is %s but its rendering %q is %s", text, want, sql, got)
		}
	})
}
