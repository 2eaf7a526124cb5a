package where

import (
	"errors"
	"strings"
	"testing"

	pg "github.com/pganalyze/pg_query_go/v6"
)

var fuzzRow = map[string]string{"id": "42", "n": "-7", "small": "3", "price": "1.50", "title": "Abc%",
	"name": "x", "done": "f", "uid": "0b5c8f3e-1d2a-4c5b-9e8f-7a6b5c4d3e2f", "tags": "{a,NULL}", "ids": "{1,2}",
	"created": "2024-01-31 12:34:56.789+00", "day": "2024-02-29", "at": "2024-03-31 23:59:59.999999", "clock": "24:00:00", "span": "P-1Y2M-3DT4H-5.5S"}

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
		"'NaN'::float8 > n::real", "2 ^ 3 ^ 2 = 64 AND price::float4 ^ 0.5::float8 > 1", "|/ n > @ small", "(n & 3) << 2 = ~ id # 1",
		`'\x01'::bytea || '\x02' = title::bytea`, "title::bpchar = 'a ' AND name::name LIKE 'x%'", "1e23::float8::text = title",
		"' -inf '::double precision < n", "(n / 3.0)::float4::int2 = 0", "n % 2::float = 1",
		"created > '2024-01-31'", "day + 1 = date '2024-02-01'", "at - interval 'P1M' < created", "span * 1.5 > '1 day'",
		"justify_interval(span) = 'P1M'", "created AT TIME ZONE 'UTC' = at", "timezone(interval '05:30', at) > created",
		"day - day = 0 AND day - 1 < day", "clock + span = '12:00'", "'today'::date = day", "day = $1 OR at > $1", "- span < 'PT0S'",
		"created::text LIKE '2024%'", "timestamp 'infinity' > at", "day::timestamptz BETWEEN '-infinity' AND created",
		"span = 'P1Y2M3DT4H5M6S' OR span = '1 year 2 mons 3 days 04:05:06'", "(at - created::timestamp) > 'PT0S'", "day + clock <= at",
		"date '5874897-12-31' + 1 > day", "created AT TIME ZONE 'Europe/Paris' = at", "justify_hours(span) IS NULL", "day IN ('2024-02-29', 'infinity')",
	} {
		f.Add(s, "1")
	}
	f.Add("id = $1 AND title = $2", "{1,2}")
	for _, s := range []string{ // arrays
		"ids @> $1", "ids <@ '{1,2,NULL}' OR tags && ARRAY['a', NULL]", "ids[1:2] = ids[:1] || ids[2:]", "ids[2][1:1] IS NULL",
		"(ids || n || $1)[0] = 1", "array_ndims(ARRAY[[1, 2], [n, 3]]) = 2", `array_cat(tags, '{b,"\\","{,}",\"}') @> $1`,
		"array_prepend(title, tags) < array_append(tags, name)", "ARRAY[ids, ids] = '[0:1][1:2]={{1,2},{3,4}}'", "ARRAY[]::int8[] <@ ids::int8[]",
		"(ARRAY[1.5, n] || ids)[n:n + 1] = '{}'", "ids[NULL:] IS NULL AND ids[:2147483647] IS NOT NULL", "tags::text = '{a,NULL}'",
	} {
		f.Add(s, "{{1,2},{3,4}}")
	}
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
