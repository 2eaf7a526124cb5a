package where

import (
	"context"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"pgregory.net/rapid"

	"github.com/shapesync/shapesync/replication/pgcluster"
	"github.com/shapesync/shapesync/replication/pgcluster/pgtest"
)

// hostileNames are identifiers that break naive quoting (RELIABILITY F2,
// F3): quotes, statement separators, comments, keywords, case, spaces,
// dots, backslashes, non-ASCII, 63 bytes.
var hostileNames = []string{
	`"`, `""`, `a"b`, `"quoted"`, `'`, `a'b`, `\`, `\"`, `$1`, `$$`, `?`,
	`x"; DROP TABLE victim; --`, `x'); DROP TABLE victim; --`, `/* c */`, `--`, `;`,
	`select`, `FROM`, `user`, `Mixed`, `UPPER`, ` `, ` lead`, `trail `, `two  spaces`,
	`a.b`, `.`, `schema.table`, "tab\tnew\nline", "\r", `ünïcödé`, `日本語`, `😀`, `€$`, `É`,
	"\u00a0", "\u200b", `a/b`, `%s`, `%`, `_`, `1abc`, `a-b`,
	strings.Repeat("x", 63), strings.Repeat("é", 31) + "x",
}

func TestQuoteIdentRejects(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"", "\x00", "a\x00b", "\x00\""} {
		if q, ok := QuoteIdent(name); ok {
			t.Errorf("QuoteIdent(%q) = %q, ok", name, q)
		}
	}
	if q, ok := QualifiedName("public", ""); ok {
		t.Errorf("QualifiedName with an empty name = %q, ok", q)
	}
	if q, ok := QualifiedName("a\x00", "t"); ok {
		t.Errorf("QualifiedName with a NUL = %q, ok", q)
	}
	if q, ok := QualifiedName(`s"`, `t.u`); !ok || q != `"s"""."t.u"` {
		t.Errorf(`QualifiedName("s\"", "t.u") = %q, %v`, q, ok)
	}
}

// TestQuoteIdentAgainstPostgres checks, for hostile and random names, that
// Postgres reads our quoted form back as exactly the raw name: as a parsed
// identifier, as a column alias and as a table name found in pg_class; and
// that whenever quote_ident quotes a name it quotes it exactly as we do.
func TestQuoteIdentAgainstPostgres(t *testing.T) {
	t.Parallel()
	c := pgtest.Start(t, pgcluster.Options{})
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, c.DSN("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE TABLE victim (id int)"); err != nil {
		t.Fatal(err)
	}

	check := func(t failer, name string) {
		t.Helper()
		quoted, ok := QuoteIdent(name)
		if !ok {
			t.Fatalf("QuoteIdent(%q) refused a valid name", name)
		}
		var pgQuoted, parsed string
		if err := conn.QueryRow(ctx, "SELECT quote_ident($1), (parse_ident($2))[1]", name, quoted).Scan(&pgQuoted, &parsed); err != nil {
			t.Fatalf("%q: %v", name, err)
		}
		if parsed != name {
			t.Fatalf("parse_ident(%s) = %q; want %q", quoted, parsed, name)
		}
		if strings.HasPrefix(pgQuoted, `"`) {
			if pgQuoted != quoted {
				t.Fatalf("quote_ident(%q) = %s, we give %s", name, pgQuoted, quoted)
			}
		} else if pgQuoted != name {
			t.Fatalf("quote_ident(%q) left it unquoted as %q", name, pgQuoted)
		}

		tx, err := conn.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback(ctx)
		rows, err := tx.Query(ctx, "SELECT 1 AS "+quoted)
		if err != nil {
			t.Fatalf("alias %s: %v", quoted, err)
		}
		alias := rows.FieldDescriptions()[0].Name
		rows.Close()
		if alias != name {
			t.Fatalf("alias %s came back as %q", quoted, alias)
		}
		rel, _ := QualifiedName("public", name)
		if _, err := tx.Exec(ctx, "CREATE TABLE "+rel+" ("+quoted+" int)"); err != nil {
			t.Fatalf("CREATE TABLE %s: %v", rel, err)
		}
		var tables, columns int
		err = tx.QueryRow(ctx, `SELECT
			(SELECT count(*) FROM pg_class WHERE relname = $1 AND relnamespace = 'public'::regnamespace),
			(SELECT count(*) FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
			  WHERE c.relname = $1 AND c.relnamespace = 'public'::regnamespace AND a.attname = $1)`, name).Scan(&tables, &columns)
		if err != nil || tables != 1 || columns != 1 {
			t.Fatalf("table %s: found %d tables, %d columns by the raw name (%v)", rel, tables, columns, err)
		}
	}

	for _, name := range hostileNames {
		check(t, name)
	}
	rapid.Check(t, func(rt *rapid.T) {
		check(rt, rapid.Custom(identifier).Draw(rt, "name"))
	})

	var victims int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM pg_class WHERE relname = 'victim'").Scan(&victims); err != nil || victims != 1 {
		t.Fatalf("victim table: %d, %v", victims, err)
	}

	// What quoting cannot do, and callers must validate (SHAPE_API §5.2):
	// Postgres truncates names past 63 bytes, and refuses invalid UTF-8
	// with an error of its own rather than misreading it.
	long := strings.Repeat("y", 70)
	q, _ := QuoteIdent(long)
	var got string
	if err := conn.QueryRow(ctx, "SELECT (parse_ident($1))[1]::name::text", q).Scan(&got); err != nil || got != long[:63] {
		t.Errorf("a 70-byte name became %q (%v); want truncation to 63 bytes", got, err)
	}
	q, _ = QuoteIdent("bad\xffutf8")
	_, err = conn.Exec(ctx, "SELECT 1 AS "+q)
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "22021" {
		t.Errorf("invalid UTF-8 identifier: %v; want SQLSTATE 22021", err)
	}
}

// failer is what testing.T and rapid.T have in common.
type failer interface {
	Helper()
	Fatal(args ...any)
	Fatalf(format string, args ...any)
}

// identifier draws a name Postgres keeps as is: valid UTF-8, no NUL,
// 1 to 63 bytes, often built from the characters that matter to quoting.
func identifier(t *rapid.T) string {
	var s string
	if rapid.Bool().Draw(t, "hostile") {
		s = rapid.StringOf(rapid.SampledFrom([]rune{'"', '\'', '\\', ' ', '.', ';', '-', '$', '/', '*', 'A', 'z', '_', '0', 'é', '€', '😀', '\n'})).Draw(t, "chars")
	} else {
		s = rapid.String().Draw(t, "any")
	}
	s = strings.ReplaceAll(s, "\x00", "")
	for len(s) > 63 {
		_, size := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-size]
	}
	if s == "" {
		s = `"`
	}
	return s
}
