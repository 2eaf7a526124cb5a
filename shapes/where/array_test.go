package where

import (
	"context"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/shapesync/shapesync/replication/pgcluster"
	"github.com/shapesync/shapesync/replication/pgcluster/pgtest"
)

// arrayTryText runs q with one text argument and gives its text result,
// or "error" when Postgres raises one.
const arrayTryText = `CREATE FUNCTION try_text(q text, arg text) RETURNS text LANGUAGE plpgsql AS $f$
DECLARE r text;
BEGIN
	EXECUTE q INTO r USING arg;
	RETURN coalesce(r, 'NULL');
EXCEPTION WHEN others THEN
	RETURN 'error';
END $f$`

func arrayTestConn(t *testing.T) *pgx.Conn {
	t.Helper()
	c := pgtest.Start(t, pgcluster.Options{})
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, c.DSN("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	if _, err := conn.Exec(ctx, arrayTryText); err != nil {
		t.Fatal(err)
	}
	return conn
}

// arrayLiteral writes a random, often malformed, array literal: nested
// braces, quoting, escapes, NULL spellings, whitespace and dimension
// decorations, biased towards the shapes Postgres accepts.
func arrayLiteral(r *rand.Rand) string {
	pick := func(xs ...string) string { return xs[r.IntN(len(xs))] }
	var b strings.Builder
	if r.IntN(4) == 0 {
		for range 1 + r.IntN(2) {
			b.WriteString(pick("[1:2]", "[0:1]", "[2]", "[-1:0]", "[1:1]", "[3:4]", "[1:3]", "[+1:2]", "[1:-1]", "[1:]", "[:2]",
				"[a]", "[2147483647:2147483647]", "[2147483646:2147483647]", "[99999999999:99999999999]", "[1-1:2]", " [1:2] "))
		}
		b.WriteString(pick("=", "=", " = ", "", " ="))
	}
	var elem func(depth int)
	elem = func(depth int) {
		if depth < 3 && r.IntN(3) == 0 {
			b.WriteString(pick("{", "{", " {"))
			n := r.IntN(4)
			for i := range n {
				if i > 0 {
					b.WriteString(pick(",", ",", " , ", ",,"))
				}
				elem(depth + 1)
			}
			b.WriteString(pick("}", "}", "} "))
			return
		}
		b.WriteString(pick("1", "2", "-3", "a", "NULL", "null", `"NULL"`, `""`, `"a,b"`, `"{}"`, `"\""`, `\,`, `a\ b`, " 1 ", "  ",
			`"a"b`, `a"b"`, "2147483648", "x y", `"\\"`, `\`, "{", "}", "1}", "[1]", "1 2", "NuLl", `" "`, `"`, "é"))
	}
	b.WriteByte('{')
	n := r.IntN(4)
	for i := range n {
		if i > 0 {
			b.WriteString(pick(",", ",", ", ", " ,"))
		}
		elem(1)
	}
	b.WriteString(pick("}", "}", "}", "} ", "}x", "}}", ""))
	return b.String()
}

// TestArrayInputMatchesPostgres: array_in accepts, rejects and reads the
// same literals as Postgres 15 (dimension decorations, nested and ragged
// braces, quoting, escapes, NULL spellings, bounds), for integer and text
// elements, and array_out writes them back identically.
func TestArrayInputMatchesPostgres(t *testing.T) {
	t.Parallel()
	conn := arrayTestConn(t)
	ctx := context.Background()
	inputs := []string{"{}", " { } ", "{{}}", "{{},{}}", "{1,{2}}", "{{1},2}", "{{1},{{2}}}", "{{1,2},{3}}", "{{1,2},{3,4}}",
		"{ {1} , {2} }", "[1:2]={1,2}", "[0:1]={1,2}", "[0:1][1:1]={{1},{2}}", "[1:2]={1}", "[1:0]={}", "[1:1]={}", "{{{{{{{1}}}}}}}",
		"{{{{{{1}}}}}}", "[1][1][1][1][1][1][1]={1}", `{"a\"b",c\,d,"{x}",NULL,"NULL",null,""}`, `{a b ,  c  }`, `{"a" ,b}`, `{"a" b}`,
		`{\}`, `{a\}`, `{a,}`, `{,a}`, `{a}}`, `{a} x`, `{a`, ``, `1`, `[1:2]`, `[1:2]=`, `[1:2]={1,2`, "[2147483647:2147483647]={1}",
		"[-2147483648:-2147483647]={1,2}", "[99999999999:99999999999]={1}", "{\t1\n}", "{\v1\f}", `{"}`, `{\"}`, "{{1} , {2}}", "{{1}{2}}",
		"{ {}}", "{{ }}", "{1 2}", "{ NULL }", `{"",""}`, `{{"a","b"},{"c","d"}}`, "{{NULL,NULL},{NULL,NULL}}", "[1:1]={{1}}"}
	r := rand.New(rand.NewPCG(7, 11))
	n := 1500
	if os.Getenv("SHAPESYNC_LONG") == "1" {
		n = 15000
	}
	for range n {
		inputs = append(inputs, arrayLiteral(r))
	}
	types := []Type{arrayOf(Int4), arrayOf(Text)}
	batch := &pgx.Batch{}
	for _, in := range inputs {
		for _, typ := range types {
			batch.Queue("SELECT try_text($1, $2)", "SELECT ($1::text::"+string(typ)+")::text", in)
		}
	}
	br := conn.SendBatch(ctx, batch)
	defer br.Close()
	accepted := 0
	for _, in := range inputs {
		for _, typ := range types {
			var theirs string
			if err := br.QueryRow().Scan(&theirs); err != nil {
				t.Fatal(err)
			}
			ours := "error"
			if v, err := parseArray(typ, in); err == nil {
				ours = arrayText(v)
				accepted++
			}
			if ours != theirs {
				t.Errorf("%q::%s: Postgres %q, Go %q", in, typ, theirs, ours)
			}
		}
	}
	t.Logf("%d literals, %d readings accepted by both", len(inputs), accepted)
	if accepted < n/4 {
		t.Errorf("only %d of %d literals were valid arrays: the generator is too hostile to test reading", accepted, 2*len(inputs))
	}
}
