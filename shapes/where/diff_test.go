package where

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
	"pgregory.net/rapid"
)

// diffColumns are the typed columns of the differential test's rows.
var diffColumns = append(append([]Column{{"i4", "int4"}, {"i8", "int8"}, {"n", "numeric"}, {"s", "text"}, {"b", "bool"}, {"i2", "int2"}, {"arr", "_int4"}, {"v", "varchar"}, {"u", "uuid"},
	{"f4", "float4"}, {"f8", "float8"}, {"by", "bytea"}, {"c", "bpchar"}, {"nm", "name"}}, dateTimeDiffColumns...), arrayDiffColumns...)

// Row values in Postgres's own text output form, as the stream gives them.
var diffValues = append(append([][]string{
	{"0", "1", "-1", "2", "7", "-7", "100", "2147483647", "-2147483648", "46341", "65536"},
	{"0", "1", "-1", "3", "9223372036854775807", "-9223372036854775808", "3000000000", "4294967296", "-12"},
	{"0", "1.5", "-2.25", "0.001", "100", "3", "-7", "12.340", "NaN", "Infinity", "-Infinity", "0.3333", "99999999999999999999", "2147483647.5"},
	{"", "a", "abc", "A", "Abc", "%", "_", `a\`, "12", " 7 ", "é", "É", "t", "true", "abc%", "a_c", "-3", "1.5", "NaN", "{1,2}", " -Inf ", "1e400", "0x1p3", "1e-46"},
	{"t", "f"},
	{"0", "1", "-1", "32767", "-32768", "300"},
	{"{}", "{1,2,3}", "{NULL,1}", "{-2147483648,7}", "{0}"},
	{"", "a", "abc", "B", "12", "a%", "é"},
	{"00000000-0000-0000-0000-000000000000", "0b5c8f3e-1d2a-4c5b-9e8f-7a6b5c4d3e2f", "ffffffff-ffff-ffff-ffff-ffffffffffff", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"},
	{"0", "1", "-1", "1.5", "-0", "NaN", "Infinity", "-Infinity", "3.4028235e+38", "-3.4028235e+38", "1e-45", "1.1754944e-38", "0.1",
		"2.5", "3.5", "16777216", "16777218", "1e+10", "32767.5", "7", "0.3", "2.1474836e+09"},
	{"0", "1", "-1", "1.5", "-0", "NaN", "Infinity", "-Infinity", "1.7976931348623157e+308", "-1e+308", "5e-324", "1e-300", "0.1",
		"2.5", "3.5", "-2.5", "2147483647.5", "2147483648", "-2147483648.5", "9.223372036854776e+18", "16777217", "9007199254740992",
		"0.30000000000000004", "9.999999999999999e+22", "32767.5", "100", "7", "0.001", "1e+16"},
	{`\x`, `\x00`, `\x0102`, `\xff`, `\x7f`, `\x010203`, `\x41`, `\x6162`, `\x00ff`, `\x5c`},
	{"ab  ", "a   ", "    ", "abcd", "é   ", "", "ab", "a\t  ", "A   ", "12  "},
	{"ab", "", "a b", "Abc", "é", strings.Repeat("x", 63), "ab ", "12"},
}, dateTimeDiffValues...), arrayDiffValues...)

// exprGen writes random where clauses of the supported subset, mostly
// well typed, over diffColumns and a parameter list.
type exprGen struct {
	r      *rand.Rand
	params []string
}

func (g *exprGen) pick(xs ...string) string { return xs[g.r.IntN(len(xs))] }

func (g *exprGen) param() string {
	if len(g.params) == 0 {
		return "1"
	}
	return fmt.Sprintf("$%d", 1+g.r.IntN(len(g.params)))
}

func (g *exprGen) num(d int) string {
	if d <= 0 {
		return g.pick("i4", "i8", "n", "i2", "1", "0", "-1", "2", "3", "2147483647", "2147483648", "-2147483648",
			"9223372036854775807", "1.5", "0.001", "-2.5", "100", "i4", "n", "i8", "f4", "f8")
	}
	switch g.r.IntN(14) {
	case 0, 1, 2:
		return "(" + g.num(d-1) + " " + g.pick("+", "-", "*", "/", "%") + " " + g.num(d-1) + ")"
	case 10:
		return g.float(d)
	case 11:
		return g.mathExpr(d)
	case 3:
		return "(- " + g.num(d-1) + ")"
	case 4:
		return "(" + g.num(d-1) + ")::" + g.pick("int2", "int4", "int8", "numeric", "integer", "bigint")
	case 5:
		return g.pick("coalesce", "greatest", "least") + "(" + g.num(d-1) + ", " + g.num(d-1) + ")"
	case 6:
		return "(" + g.text(d-1) + ")::" + g.pick("int4", "int8", "numeric", "int2", "float4", "float8")
	case 7:
		return g.param() + "::" + g.pick("int4", "int8", "numeric")
	case 8:
		return "(" + g.boolean(d-1) + ")::int4"
	case 9:
		return "arr[1]"
	}
	return g.num(0)
}

func (g *exprGen) text(d int) string {
	if d <= 0 {
		return g.pick("s", "s", "v", "c", "nm", "'abc'", "'a%'", "'%'", "'_'", "'A'", "''", "'12'", `'a\%'`, `'\'`, "'é'", "'t'", "NULL")
	}
	switch g.r.IntN(8) {
	case 0:
		return g.pick("lower", "upper") + "(" + g.text(d-1) + ")"
	case 1:
		return "(" + g.text(d-1) + " || " + g.pick(g.text(d-1), g.num(d-1), "b") + ")"
	case 2:
		return "concat(" + g.text(d-1) + ", " + g.pick(g.num(d-1), "b", "NULL", g.text(d-1)) + ")"
	case 3:
		return "(" + g.pick(g.num(d-1), g.boolean(d-1)) + ")::text"
	case 4:
		return "coalesce(" + g.text(d-1) + ", " + g.text(d-1) + ")"
	case 5:
		return g.param() + "::text"
	}
	return g.text(0)
}

func (g *exprGen) cmp() string { return g.pick("=", "<>", "!=", "<", ">", "<=", ">=") }

func (g *exprGen) boolean(d int) string {
	if d > 0 {
		return "(" + g.boolean1(d) + ")"
	}
	return g.boolean1(d)
}

func (g *exprGen) boolean1(d int) string {
	if d <= 0 {
		return g.pick("b", "TRUE", "FALSE", "NULL", "(i4 > 0)", "(s = 'a')", "(n IS NULL)", "(b IS NOT TRUE)")
	}
	switch g.r.IntN(31) {
	case 28, 29, 30:
		return g.arrayBool(d - 1)
	case 21, 22, 23:
		return g.dateTimeBool(min(d-1, 1)) // deeper ones: TestDateTimeEvalMatchesPostgres
	case 24, 25:
		return g.textLikeCmp(d)
	case 26:
		return g.byteaCmp(d)
	case 0, 1:
		return g.num(d-1) + " " + g.cmp() + " " + g.num(d-1)
	case 2:
		return g.text(d-1) + " " + g.cmp() + " " + g.text(d-1)
	case 3:
		return "(" + g.boolean(d-1) + ") " + g.pick("AND", "OR") + " (" + g.boolean(d-1) + ")"
	case 4:
		return "NOT (" + g.boolean(d-1) + ")"
	case 5:
		return "(" + g.boolean(d-1) + ") IS " + g.pick("", "NOT ") + g.pick("TRUE", "FALSE", "UNKNOWN")
	case 6:
		return "(" + g.pick(g.num(d-1), g.text(d-1)) + ") IS " + g.pick("", "NOT ") + "NULL"
	case 7:
		return g.num(d-1) + " IS " + g.pick("", "NOT ") + "DISTINCT FROM " + g.num(d-1)
	case 8:
		items := []string{}
		for range 1 + g.r.IntN(4) {
			items = append(items, g.num(d-1))
		}
		return g.num(d-1) + g.pick(" IN (", " NOT IN (") + strings.Join(items, ", ") + ")"
	case 9:
		return g.num(d-1) + g.pick(" BETWEEN ", " NOT BETWEEN ", " BETWEEN SYMMETRIC ", " NOT BETWEEN SYMMETRIC ") + g.num(d-1) + " AND " + g.num(d-1)
	case 10:
		return g.text(d-1) + g.pick(" LIKE ", " ILIKE ", " NOT LIKE ", " NOT ILIKE ", " ~~ ", " !~~* ") + g.text(d-1)
	case 11:
		return g.pick("i4", "1", "NULL::int4", "(i4 + 1)") + " " + g.cmp() + g.pick(" ANY (", " ALL (") +
			g.pick("arr", "ARRAY[1, 2, i4]", "'{1,NULL}'", "'{}'", g.param(), "ARRAY[i4 * 2, NULL]") + ")"
	case 12:
		return g.boolean(d-1) + " " + g.pick("=", "<>", "<") + " " + g.boolean(d-1)
	case 13:
		return "(" + g.text(d-1) + ")::" + g.pick("bool", "boolean")
	case 14:
		return g.param() + " " + g.cmp() + " " + g.pick("i4", "n", "s", "i8")
	case 15:
		return g.text(d-1) + " IN (" + g.text(d-1) + ", " + g.text(d-1) + ", s)"
	case 16:
		return "like(" + g.text(d-1) + ", " + g.text(d-1) + ")"
	case 17:
		return "coalesce(" + g.boolean(d-1) + ", " + g.boolean(d-1) + ")"
	case 18:
		return g.pick("u", "(s)::uuid", "(v)::uuid") + " " + g.cmp() + " " + g.pick("u", "'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'",
			"'{a0eebc999c0b4ef8bb6d6bb9bd380a11}'", "'a0ee-bc99-9c0b-4ef8-bb6d-6bb9-bd38-0a11'", "'0b5c8f3e-1d2a-4c5b-9e8f-7a6b5c4d3e2'")
	case 19:
		return "(u)::text " + g.cmp() + " " + g.text(d-1)
	}
	return g.boolean(0)
}

func (g *exprGen) paramValue() string {
	return g.pick(append(append(dateTimeParamValues(), arrayParamValues()...), "1", "-5", "2.5", "abc", "0", "{1,2}", "t", "%a%", "2147483648", " 3 ", "NaN", "-Infinity", "1e-320", "0x10")...)
}

// diffCase is one expression on one row.
type diffCase struct {
	where  string
	params []string
	row    []*string
	ours   string
	sql    string
	args   []*string
}

var placeholder = regexp.MustCompile(`\$(\d+)::text`)

// prepare evaluates c in Go and builds the Postgres side: the rendered
// expression over a one-row VALUES list of typed columns, with every
// value (literals, parameters, row) bound through try_eval's text[].
func prepare(c *diffCase, expr *Expr) {
	v, err := expr.Eval(func(i int) (string, bool) {
		if c.row[i] == nil {
			return "", true
		}
		return *c.row[i], false
	})
	switch {
	case err != nil:
		c.ours = "error"
	case v.IsNull():
		c.ours = "null"
	case v.IsTrue():
		c.ours = "true"
	default:
		c.ours = "false"
	}
	sql, args := expr.SQL()
	for _, a := range args {
		s := a.(string)
		c.args = append(c.args, &s)
	}
	sql = placeholder.ReplaceAllString(sql, `($$1[$1])::text`)
	var cols, names []string
	for i, col := range diffColumns {
		t, _ := columnType(col.Type)
		cols = append(cols, fmt.Sprintf("($1[%d])::text::%s", len(c.args)+1+i, t))
		names = append(names, col.Name)
	}
	c.args = append(c.args, c.row...)
	c.sql = "SELECT " + sql + " FROM (SELECT * FROM (VALUES (" + strings.Join(cols, ", ") + ")) AS v OFFSET 0) AS t(" + strings.Join(names, ", ") + ")"
}

const tryEval = `CREATE FUNCTION try_eval(q text, args text[]) RETURNS text LANGUAGE plpgsql AS $f$
DECLARE r bool;
BEGIN
	EXECUTE q INTO r USING args;
	RETURN CASE WHEN r IS NULL THEN 'null' WHEN r THEN 'true' ELSE 'false' END;
EXCEPTION WHEN others THEN
	RETURN 'error ' || SQLSTATE || ': ' || SQLERRM;
END $f$`

// TestEvalMatchesPostgres is the differential test of SHAPE_API §20.6:
// random rows and random expressions, evaluated by Eval and by Postgres
// (on SQL from SQL()), must agree on true / false / null / error.
// SHAPESYNC_LONG=1 runs ten times as many cases.
func TestEvalMatchesPostgres(t *testing.T) {
	t.Parallel()
	conn := connectWithDisplaySettings(t) // SHAPE_API §12.6, as every value-producing connection
	ctx := context.Background()
	if _, err := conn.Exec(ctx, tryEval); err != nil {
		t.Fatal(err)
	}
	perCheck := 200
	if os.Getenv("SHAPESYNC_LONG") == "1" {
		perCheck = 2000
	}
	var compared, rejected, errorsAgreed atomic.Int64
	outcomes := map[string]int{}
	rapid.Check(t, func(rt *rapid.T) {
		seed := rapid.Uint64().Draw(rt, "seed")
		r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
		var cases []*diffCase
		for len(cases) < perCheck {
			g := &exprGen{r: r}
			for range r.IntN(3) {
				g.params = append(g.params, g.paramValue())
			}
			dc := &diffCase{where: g.boolean(1 + r.IntN(4)), params: g.params}
			for i := range diffColumns {
				if r.IntN(6) == 0 {
					dc.row = append(dc.row, nil)
					continue
				}
				vals := diffValues[i]
				s := vals[r.IntN(len(vals))]
				dc.row = append(dc.row, &s)
			}
			parsed, err := Parse(dc.where, dc.params)
			if err != nil {
				rt.Fatalf("the generator wrote %q, which Parse rejects: %v", dc.where, err)
			}
			expr, err := parsed.Check(diffColumns)
			if err != nil {
				rejected.Add(1)
				continue
			}
			prepare(dc, expr)
			cases = append(cases, dc)
		}
		batch := &pgx.Batch{}
		for _, dc := range cases {
			batch.Queue("SELECT try_eval($1, $2)", dc.sql, dc.args)
		}
		br := conn.SendBatch(ctx, batch)
		defer br.Close()
		for _, dc := range cases {
			var pgResult string
			if err := br.QueryRow().Scan(&pgResult); err != nil {
				rt.Fatalf("try_eval: %v", err)
			}
			compared.Add(1)
			theirs := pgResult
			if strings.HasPrefix(pgResult, "error ") {
				theirs = "error"
				errorsAgreed.Add(1)
			}
			outcomes[theirs]++
			if theirs != dc.ours || strings.HasPrefix(pgResult, "error 42") {
				rt.Fatalf("disagreement on %q params %q row %s:\n  Go: %s\n  Postgres: %s\n  SQL: %s", dc.where, dc.params, showRow(dc.row), dc.ours, pgResult, dc.sql)
			}
		}
	})
	t.Logf("compared %d cases (outcomes %v), %d generated expressions rejected by Check", compared.Load(), outcomes, rejected.Load())
	if n := compared.Load(); n < int64(perCheck)*100 && !t.Failed() {
		t.Errorf("compared only %d cases", n)
	}
}

func showRow(row []*string) string {
	var parts []string
	for i, v := range row {
		if v == nil {
			parts = append(parts, diffColumns[i].Name+"=NULL")
		} else {
			parts = append(parts, fmt.Sprintf("%s=%q", diffColumns[i].Name, *v))
		}
	}
	return strings.Join(parts, " ")
}
