package where

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/shapesync/shapesync/replication/pgcluster"
	"github.com/shapesync/shapesync/replication/pgcluster/pgtest"
)

var enumColumns = []Column{{"id", "int4"}, {"h", EnumColumnType("Hue")}, {"hs", "_" + EnumColumnType("Hue")}, {"s", "text"}}

// TestEnumsMatchPostgres evaluates clauses on enum columns in Go, in
// Postgres as written, and in Postgres as SQL renders them (what the
// snapshot runs): all three must agree on every row; what shapesync rejects
// is ordering, which follows the enum's declaration order.
func TestEnumsMatchPostgres(t *testing.T) {
	t.Parallel()
	c := pgtest.Start(t, pgcluster.Options{})
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, c.DSN("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close(ctx) }()
	for _, sql := range []string{
		`CREATE TYPE "Hue" AS ENUM ('red', 'green', 'blue', 'a b', 'x,y')`,
		`CREATE TABLE t (id int4 PRIMARY KEY, h "Hue", hs "Hue"[], s text)`,
		`INSERT INTO t VALUES (1, 'red', '{red,blue}', 'red'), (2, 'green', '{}', 'x'), (3, 'blue', '{green,NULL}', NULL),
			(4, NULL, NULL, 'red'), (5, 'a b', '{"a b","x,y"}', 'a b'), (6, 'x,y', '{red}', 'x,y')`,
	} {
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	type row struct{ id, h, hs, s *string }
	var rows []row
	rs, err := conn.Query(ctx, "SELECT id::text, h::text, hs::text, s FROM t ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	for rs.Next() {
		var r row
		if err := rs.Scan(&r.id, &r.h, &r.hs, &r.s); err != nil {
			t.Fatal(err)
		}
		rows = append(rows, r)
	}
	if rs.Err() != nil {
		t.Fatal(rs.Err())
	}
	outcomes := func(sql string, args []any) []string {
		t.Helper()
		rs, err := conn.Query(ctx, "SELECT ("+sql+") FROM t ORDER BY id", args...)
		if err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		defer rs.Close()
		var out []string
		for rs.Next() {
			var b *bool
			if err := rs.Scan(&b); err != nil {
				t.Fatal(err)
			}
			switch {
			case b == nil:
				out = append(out, "null")
			case *b:
				out = append(out, "true")
			default:
				out = append(out, "false")
			}
		}
		if err := rs.Err(); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		return out
	}
	accepted := []struct {
		where  string
		params []string
	}{
		{"h = 'red'", nil}, {"h <> 'green'", nil}, {"'red' = h", nil}, {"h IN ('red', 'blue')", nil}, {"h NOT IN ('red', 'a b')", nil},
		{"h IS DISTINCT FROM 'red'", nil}, {"h IS NOT DISTINCT FROM NULL", nil}, {"h = $1", []string{"blue"}},
		{"h::text = 'red'", nil}, {"h::text < 'c'", nil}, {"h = ANY('{red,green}')", nil}, {"h = ANY($1)", []string{`{"a b",blue}`}},
		{"h <> ALL('{red}')", nil}, {"hs @> '{red}'", nil}, {"hs && '{blue,green}'", nil}, {"hs <@ '{red,blue,green}'", nil},
		{"coalesce(h, 'red') = 'red'", nil}, {"concat(h, '!') = 'red!'", nil}, {"h || '!' = 'blue!'", nil}, {"h IS NULL", nil},
		{"hs = '{red,blue}'", nil}, {"hs[1] = 'red'", nil}, {"hs = '{}'", nil}, {"h = hs[2]", nil}, {"h::text = s", nil},
		{"hs IS NULL OR array_ndims(hs) = 1", nil},
	}
	for _, a := range accepted {
		p, err := Parse(a.where, a.params)
		if err != nil {
			t.Fatalf("%q: %v", a.where, err)
		}
		e, err := p.Check(enumColumns)
		if err != nil {
			t.Errorf("%q rejected: %v", a.where, err)
			continue
		}
		var ours []string
		for _, r := range rows {
			vals := []*string{r.id, r.h, r.hs, r.s}
			ours = append(ours, evalOutcome(e.Eval(func(i int) (string, bool) {
				if vals[i] == nil {
					return "", true
				}
				return *vals[i], false
			})))
		}
		params := make([]any, len(a.params))
		for i, p := range a.params {
			params[i] = p
		}
		asWritten := outcomes(a.where, params)
		sql, args := e.SQL()
		rendered := outcomes(sql, args)
		if strings.Join(ours, " ") != strings.Join(asWritten, " ") || strings.Join(rendered, " ") != strings.Join(asWritten, " ") {
			t.Errorf("%q: Go %v, Postgres %v, rendered SQL %v (%s)", a.where, ours, asWritten, rendered, sql)
		}
	}
	for _, w := range []string{"h < 'green'", "h >= 'red'", "greatest(h, 'red') = 'red'", "h BETWEEN 'red' AND 'blue'", "h < ANY('{red}')", "hs > '{red}'", "h = s", "lower(h) = 'red'", "h LIKE 'r%'"} {
		p, err := Parse(w, nil)
		if err != nil {
			t.Fatalf("%q: %v", w, err)
		}
		if _, err := p.Check(enumColumns); err == nil {
			t.Errorf("%q accepted; ordering enums (or treating them as text) must be rejected", w)
		}
	}
}
