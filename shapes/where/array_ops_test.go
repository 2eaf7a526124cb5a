package where

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// arrayValueColumns are the row of TestArrayValuesMatchPostgres.
var arrayValueColumns = []Column{{"ia", "_int4"}, {"ib", "_int4"}, {"ta", "_text"}, {"na", "_numeric"}, {"i4", "int4"}, {"s", "text"}, {"v", "varchar"}, {"i8", "int8"}}

var arrayValueRows = [][]*string{
	arrayRow("{1,2,3}", "{2,NULL}", `{a,"b,c",NULL,"\\"}`, "{1.5,NaN}", "1", "a", "b", "2"),
	arrayRow("{{1,2},{3,4}}", "[0:1]={1,2}", `{{a},{"{"}}`, "{}", "0", "", "x", "9223372036854775807"),
	arrayRow("{}", "{{1,2}}", "{}", "{{1.50},{NULL}}", "-1", "b", "", "-1"),
	arrayRow("[2:3]={7,NULL}", "{NULL}", `{" ",""}`, "[-1:0]={0,1}", "2147483647", `"`, "NULL", "3"),
	arrayRow("[2147483646:2147483646]={5}", "[-2147483648:-2147483648]={6}", `{{{x}}}`, "{1}", "3", "{}", "{a}", "0"),
	{nil, nil, nil, nil, nil, nil, nil, nil},
}

func arrayRow(vals ...string) []*string {
	out := make([]*string, len(vals))
	for i := range vals {
		out[i] = &vals[i]
	}
	return out
}

// arrayValueExprs are array-valued and other expressions whose text
// Postgres and Eval must agree on, row by row.
var arrayValueExprs = []string{
	"ia", "ib", "ta", "na", "ia || ib", "ib || ia", "ia || i4", "i4 || ia", "ia || NULL", "NULL || ia", "ia || NULL::int4",
	"NULL::int4 || ia", "ia || '{9}'", "'{9}' || ia", "ia || i8", "ia || 1.5", "na || ia", "ta || s", "s || ta", "ta || v",
	"v || ta", "ta || ARRAY[v]", "ta || '{}'", "array_cat(ia, ib)", "array_cat(ib, NULL)", "array_cat('{1}', '{2}')",
	"array_append(ia, i4)", "array_append(ib, NULL)", "array_prepend(i4, ib)", "array_prepend(NULL, ib)", "array_append(NULL::int8[], 3)",
	"array_ndims(ia)", "array_ndims(ta)", "array_ndims(ia || ib)", "ia[1]", "ia[2]", "ia[i4]", "ib[0]", "ia[1][2]", "ia[2][1]",
	"ta[1][1]", "ia[1:1]", "ia[2:]", "ia[:1]", "ia[:]", "ia[:][2:]", "ia[1:2][2]", "ib[0:0]", "ib[-5:5]", "ia[i4:i4 + 1]",
	"ia[NULL:1]", "ia[1:2][1:1][1:1]", "ta[2:3]", "(ia || ib)[1:2]", "ia[1.6]", "ia['2']", "ia[i8]", "ia[2147483647:]",
	"ARRAY[ia, ia]", "ARRAY[ia, ib]", "ARRAY[[1, 2], [3, i4]]", "ARRAY[ARRAY[i4], NULL]", "ARRAY[NULL::int4[], NULL]",
	"ARRAY['{1,2}', ARRAY[3, 4]]", "ARRAY[ia[1:1], ib[1:1]]", "ARRAY[]::int4[]", "ARRAY[i4, NULL]::int8[]", "ARRAY[s, '1']::int4[]",
	"ARRAY[[1.5], [i4]]::int4[]", "ARRAY[ARRAY[]::int4[]]", "ia::int8[]", "na::int4[]", "ia::numeric[]", "ta::varchar[]", "ia::text",
	"ia @> ib", "ib @> ia", "ia <@ ib", "ia && ib", "ta @> ARRAY[s]", "ta && '{a,NULL}'", "ia @> '{}'", "'{}' <@ ia", "na @> ARRAY[1.50]",
	"ia @> NULL", "ia = ib", "ia < ib", "ia >= ib", "ia = ARRAY[1, 2, 3, 4]", "ia IS DISTINCT FROM ib", "greatest(ia, ib)",
	"i4 = ANY (ia)", "3 = ALL (ia)", "s = ANY (ta)", "ia <> ib", "ia || ARRAY[[8, 9]]", "array_cat(ARRAY[[1]], ia)",
}

// TestArrayValuesMatchPostgres: array-valued expressions (||, array_cat,
// array_append, array_prepend, array_ndims, subscripts, slices, ARRAY
// constructors of arrays, casts) and array predicates give, on rows with
// multi-dimensional arrays, non-default lower bounds, NULL elements and
// bounds at the int32 limits, the same text (or error, or NULL) as
// Postgres.
func TestArrayValuesMatchPostgres(t *testing.T) {
	t.Parallel()
	conn := arrayTestConn(t)
	ctx := context.Background()
	if _, err := conn.Exec(ctx, `CREATE FUNCTION try_value(q text, args text[]) RETURNS text LANGUAGE plpgsql AS $f$
DECLARE r text;
BEGIN
	EXECUTE q INTO r USING args;
	RETURN coalesce(r, 'NULL');
EXCEPTION WHEN others THEN
	RETURN 'error ' || SQLSTATE;
END $f$`); err != nil {
		t.Fatal(err)
	}
	type probe struct {
		expr, ours string
		row        []*string
	}
	var probes []probe
	batch := &pgx.Batch{}
	for _, src := range arrayValueExprs {
		parsed, err := Parse("("+src+") IS NULL", nil)
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		e, err := parsed.Check(arrayValueColumns)
		if err != nil {
			t.Errorf("%s: %v", src, err)
			continue
		}
		node := e.root.(*nullTest).arg
		r := &renderer{next: 1}
		r.render(node)
		sql, args := r.b.String(), r.args
		sql = placeholder.ReplaceAllString(sql, `($$1[$1])::text`)
		var cols, names []string
		for i, col := range arrayValueColumns {
			typ, _ := columnType(col.Type)
			cols = append(cols, fmt.Sprintf("($1[%d])::text::%s", len(args)+1+i, typ))
			names = append(names, col.Name)
		}
		q := "SELECT (" + sql + ")::text FROM (SELECT * FROM (VALUES (" + strings.Join(cols, ", ") + ")) AS v OFFSET 0) AS t(" + strings.Join(names, ", ") + ")"
		for _, row := range arrayValueRows {
			ev := &evaluator{row: func(i int) (string, bool) {
				if row[i] == nil {
					return "", true
				}
				return *row[i], false
			}, cache: make([]Value, len(arrayValueColumns)), loaded: make([]bool, len(arrayValueColumns))}
			ours := "error"
			if v, err := ev.eval(node); err == nil {
				ours = "NULL"
				if !v.null {
					ours = castToText(v)
				}
			}
			var bound []*string
			for _, a := range args {
				s := a.(string)
				bound = append(bound, &s)
			}
			probes = append(probes, probe{src, ours, row})
			batch.Queue("SELECT try_value($1, $2)", q, append(bound, row...))
		}
	}
	br := conn.SendBatch(ctx, batch)
	defer br.Close()
	for _, p := range probes {
		var theirs string
		if err := br.QueryRow().Scan(&theirs); err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(theirs, "error 42") {
			t.Errorf("%s: Postgres rejects the rendering: %s", p.expr, theirs)
			continue
		}
		if strings.HasPrefix(theirs, "error") {
			theirs = "error"
		}
		if theirs != p.ours {
			t.Errorf("%s on %s: Postgres %q, Go %q", p.expr, showArrayRow(p.row), theirs, p.ours)
		}
	}
}

func showArrayRow(row []*string) string {
	var parts []string
	for i, v := range row {
		if v == nil {
			parts = append(parts, arrayValueColumns[i].Name+"=NULL")
		} else {
			parts = append(parts, fmt.Sprintf("%s=%q", arrayValueColumns[i].Name, *v))
		}
	}
	return strings.Join(parts, " ")
}

// TestArrayTyping: the array operators and functions resolve their
// operand types as Postgres 15 does, and refuse what Postgres refuses
// (with our message), instead of guessing.
func TestArrayTyping(t *testing.T) {
	cases := []struct{ where, err string }{
		{"ia @> '{1}'", ""},
		{"'{1}' <@ ia", ""},
		{"ia && ib", ""},
		{"ia < ib", ""},
		{"ia || '{3}' = ib", ""},
		{"(ia || 1.5) @> na", ""},
		{"(ia || i8) @> ARRAY[i8]", ""},
		{"ARRAY[[1, 2], [3, 4]] = ia", ""},
		{"ARRAY[]::int4[] = ia", ""},
		{"ARRAY[1.5]::int4[] = ia", ""},
		{"ia[1:2][2:] IS NULL", ""},
		{"ia[:] IS NULL", ""},
		{"ia[1][2] = 1", ""},
		{"array_ndims(ia) = 1", ""},
		{"array_cat('{1}', '{2}') = ta", ""},
		{"ia::text = s", ""},
		{"ia::numeric[] = na", ""},
		{"'{1}' @> '{1}'", "operator is not unique: unknown @> unknown"},
		{"ia @> '{1}'::int8[]", "operator does not exist: int4[] @> int8[]"},
		{"ARRAY[v] @> ta", "operator does not exist: varchar[] @> text[]"},
		{"i4 @> ia", "operator does not exist: int4 @> int4[]"},
		{"ia || 'x' IS NULL", "invalid syntax for type int4[]"},
		{"ta || 'x' IS NULL", "invalid syntax for type text[]"},
		{"ia || s IS NULL", "operator does not exist: int4[] || text"},
		{"s || ia IS NULL", "operator does not exist: text || int4[]"},
		{"array_append(ia, '{2}') IS NULL", "invalid syntax for type int4"},
		{"array_append(ia, ia) IS NULL", "function array_append(int4[], int4[]) does not exist"},
		{"array_ndims('{1}') = 1", "could not determine polymorphic type because input has type unknown"},
		{"array_ndims(i4) = 1", "function array_ndims(int4) does not exist"},
		{"ARRAY[ARRAY[1], 2] IS NULL", "cannot be matched"},
		{"ARRAY[] = ia", "cannot determine type of empty array"},
		{"ia[s] = 1", "array subscript must have type integer"},
		{"i4[1] = 1", "cannot subscript type int4"},
		{"ia::text[] IS NULL", "unknown cast from type int4[] to type text[]"},
	}
	for _, c := range cases {
		p, err := Parse(c.where, nil)
		if err == nil {
			_, err = p.Check(arrayValueColumns)
		}
		switch {
		case c.err == "" && err != nil:
			t.Errorf("%s: %v", c.where, err)
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%s: got %v, want an error with %q", c.where, err, c.err)
		}
	}
}
