package where

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/shapesync/shapesync/replication/pgcluster"
	"github.com/shapesync/shapesync/replication/pgcluster/pgtest"
)

var collationColumns = []Column{{"title", "text"}, {"code", "varchar"}, {"n", "int4"}}

func TestTextOrderingNeedsAByteOrderedCollation(t *testing.T) {
	t.Parallel()
	en := TextRules{DefaultCollation: "en_US.UTF-8"}
	titleC := TextRules{DefaultCollation: "en_US.UTF-8", ColumnCollations: map[int]string{0: "C"}}
	codeEn := TextRules{DefaultCollation: "C", ColumnCollations: map[int]string{1: "de_DE.utf8"}}
	cases := []struct {
		rules  TextRules
		where  string
		reject bool
	}{
		{en, "title > 'a'", true},
		{en, "title BETWEEN 'a' AND 'm'", true},
		{en, "lower(title) <= 'b'", true},
		{en, "greatest(title, 'x') = 'x'", true},
		{en, "title < ANY('{a,b}')", true},
		{en, "'a' < 'b'", true},
		{en, "title = 'a' OR code <> 'b'", false},
		{en, "title IN ('a', 'b')", false},
		{en, "title ILIKE 'a%' AND upper(code) LIKE 'X%'", false},
		{en, "n > 5", false},
		{titleC, "title > 'a'", false},
		{titleC, "title > code", true}, // code has the default (en_US) collation
		{titleC, "'a' < 'b'", true},
		{codeEn, "title > 'a'", false},
		{codeEn, "code > 'a'", true},
		{TextRules{DefaultCollation: "POSIX"}, "title > 'a'", false},
		{TextRules{DefaultCollation: "C.UTF-8"}, "title > 'a'", false},
		{TextRules{}, "title > 'a' AND code < 'z'", false},
	}
	for _, c := range cases {
		p, err := Parse(c.where, nil)
		if err != nil {
			t.Fatalf("%q: %v", c.where, err)
		}
		_, err = p.CheckWith(collationColumns, c.rules)
		switch {
		case c.reject && err == nil:
			t.Errorf("%q under %+v: accepted", c.where, c.rules)
		case c.reject && !strings.Contains(err.Error(), "is not supported: shapesync compares text byte-wise"):
			t.Errorf("%q: %v", c.where, err)
		case !c.reject && err != nil:
			t.Errorf("%q under %+v: %v", c.where, c.rules, err)
		}
	}
}

// TestCaseFoldingMatchesPostgres compares lower, upper and ILIKE with
// Postgres in a database whose LC_CTYPE is C.UTF-8 (Unicode case mapping)
// and in the cluster's C database (ASCII only).
func TestCaseFoldingMatchesPostgres(t *testing.T) {
	t.Parallel()
	c := pgtest.Start(t, pgcluster.Options{})
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, c.DSN("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = admin.Close(ctx) }()
	if _, err := admin.Exec(ctx, `CREATE DATABASE unicode_ctype TEMPLATE template0 ENCODING 'UTF8' LC_CTYPE 'C.UTF-8' LC_COLLATE 'C'`); err != nil {
		t.Fatalf("create a C.UTF-8 database (glibc ships that locale built in): %v", err)
	}
	words := []string{"", "abc", "ABC", "É", "é", "straße", "STRASSE", "ǅ", "ǆ", "Ǆ", "İstanbul", "ıi", "ΣΑΣ", "σας", "ﬁ", "Ⅻ", "ⅻ", "Ａ", "ａ", "𐐀", "𐐨", "µ", "Μ", "ÿ", "Ÿ", "ǰ", "ẞ", "ß", "Ω", "ω", "Ω", "K", "k", "Å", "å", "ﬀ", "日本", "a\u0301", "Ǳ", "ǲ"}
	patterns := []string{"%é%", "É%", "%SS%", "_", "%Σ%", "%ǆ%", "%k%", "%å%", "ǲ", "%İ%", "%ω", "%𐐨%"}
	for _, db := range []struct {
		name  string
		rules TextRules
	}{{"unicode_ctype", TextRulesFor("C.UTF-8", "C")}, {"postgres", TextRulesFor("C", "C")}} {
		conn, err := pgx.Connect(ctx, c.DSN(db.name))
		if err != nil {
			t.Fatal(err)
		}
		var checked int
		for _, w := range words {
			for _, expr := range []string{"lower($1)", "upper($1)"} {
				var want string
				if err := conn.QueryRow(ctx, "SELECT "+expr, w).Scan(&want); err != nil {
					t.Fatal(err)
				}
				p, err := Parse(strings.Replace(expr, "$1", "$1::text", 1)+" = $2", []string{w, want})
				if err != nil {
					t.Fatal(err)
				}
				e, err := p.CheckWith([]Column{{"x", "text"}}, db.rules)
				if err != nil {
					t.Fatal(err)
				}
				v, err := e.Eval(func(int) (string, bool) { return "", true })
				if err != nil || !v.IsTrue() {
					got := db.rules.lower(w)
					if strings.HasPrefix(expr, "upper") {
						got = db.rules.upper(w)
					}
					t.Errorf("%s: %s of %q: Postgres %q, Go %q", db.name, expr, w, want, got)
				}
				checked++
			}
			for _, pat := range patterns {
				var want bool
				if err := conn.QueryRow(ctx, "SELECT $1::text ILIKE $2::text", w, pat).Scan(&want); err != nil {
					t.Fatal(err)
				}
				p, err := Parse("x ILIKE $1", []string{pat})
				if err != nil {
					t.Fatal(err)
				}
				e, err := p.CheckWith([]Column{{"x", "text"}}, db.rules)
				if err != nil {
					t.Fatal(err)
				}
				v, err := e.Eval(func(int) (string, bool) { return w, false })
				if err != nil || v.IsTrue() != want {
					t.Errorf("%s: %q ILIKE %q: Postgres %v, Go %v (%v)", db.name, w, pat, want, v.IsTrue(), err)
				}
				checked++
			}
		}
		_ = conn.Close(ctx)
		if checked < len(words)*(2+len(patterns)) {
			t.Fatalf("checked only %d cases", checked)
		}
	}
}
