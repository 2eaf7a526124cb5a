package api

import (
	"strings"
	"testing"
	"unicode/utf8"

	"pgregory.net/rapid"
)

func TestParseRelation(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("a", 63)
	ok := []struct{ in, schema, table string }{
		{"items", "public", "items"},
		{"Items", "public", "items"},
		{"MySchema.Items", "myschema", "items"},
		{`"Items"`, "public", "Items"},
		{`"my.schema"."a.b"`, "my.schema", "a.b"},
		{`"has""quote"`, "public", `has"quote`},
		{`"a"""`, "public", `a"`},
		{`"with space"`, "public", "with space"},
		{"_x$1", "public", "_x$1"},
		{"ÜBER", "public", "Über"}, // only ASCII is folded
		{"café", "public", "café"},
		{"e\u0301t\u0301", "public", "e\u0301t\u0301"}, // combining marks after the first rune
		{long, "public", long},
		{`"` + long + `"`, "public", long},
		{`s."T"`, "s", "T"},
	}
	for _, c := range ok {
		s, tb, err := ParseRelation(c.in)
		if err != nil || s != c.schema || tb != c.table {
			t.Errorf("ParseRelation(%q) = %q, %q, %v; want %q, %q", c.in, s, tb, err, c.schema, c.table)
		}
	}
	bad := []struct{ in, msg string }{
		{"a.b.c", "Invalid relation identifier, too many delimiters: a.b.c"},
		{`"a".b."c"`, `Invalid relation identifier, too many delimiters: "a".b."c"`},
		{"my-table", "Invalid unquoted identifier contains special characters: my-table"},
		{"1abc", "Invalid unquoted identifier contains special characters: 1abc"},
		{"with space", "Invalid unquoted identifier contains special characters: with space"},
		{"public.", "Invalid unquoted identifier contains special characters: "},
		{".items", "Invalid unquoted identifier contains special characters: "},
		{`"abc`, `Invalid unquoted identifier contains special characters: "abc`},
		{`"`, `Invalid unquoted identifier contains special characters: "`},
		{"$x", "Invalid unquoted identifier contains special characters: $x"},
		{`""`, "Invalid zero-length delimited identifier"},
		{`public.""`, "Invalid zero-length delimited identifier"},
		{`"a"b"`, `Invalid identifier with unescaped quote: a"b`},
		{`"a""""`, `Invalid identifier with unescaped quote: a"""`},
		{long + "a", "Identifier is too long (max length is 63)"},
		{`"` + long + `b"`, "Identifier is too long (max length is 63)"},
		{"\x00", "Invalid unquoted identifier contains special characters: \x00"},
		{"\"a\x00b\"", `Invalid identifier contains a NUL byte or invalid UTF-8: a\0b`},
		{"\"a\xffb\"", "Invalid identifier contains a NUL byte or invalid UTF-8: a\uFFFDb"},
	}
	for _, c := range bad {
		_, _, err := ParseRelation(c.in)
		if err == nil || err.Error() != c.msg {
			t.Errorf("ParseRelation(%q) error = %v; want %q", c.in, err, c.msg)
		}
	}
}

// quoteIdent is the inverse of the quoted form: any name that Postgres could
// hold round-trips through it.
func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

func TestParseRelationQuotedRoundTrip(t *testing.T) {
	t.Parallel()
	name := rapid.StringMatching(`[a-zA-Z0-9 ."_$\-é]{1,63}`)
	rapid.Check(t, func(t *rapid.T) {
		schema, table := name.Draw(t, "schema"), name.Draw(t, "table")
		s, tb, err := ParseRelation(quoteIdent(schema) + "." + quoteIdent(table))
		if err != nil || s != schema || tb != table {
			t.Fatalf("round trip of %q.%q gave %q.%q, %v", schema, table, s, tb, err)
		}
		s, tb, err = ParseRelation(quoteIdent(table))
		if err != nil || s != "public" || tb != table {
			t.Fatalf("round trip of %q gave %q.%q, %v", table, s, tb, err)
		}
	})
}

func FuzzParseRelation(f *testing.F) {
	for _, s := range []string{"items", `"A"."B"`, `a.b.c`, `""`, `"a""b"`, `"a"b"`, "ÜBER", "\x00", "\"\xff\"", `"x.y".z`, strings.Repeat("z", 64)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		schema, table, err := ParseRelation(in)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error text")
			}
			return
		}
		for _, n := range []string{schema, table} {
			if n == "" || !utf8.ValidString(n) || strings.IndexByte(n, 0) >= 0 || utf8.RuneCountInString(n) > maxIdentifierLength {
				t.Fatalf("ParseRelation(%q) accepted bad name %q", in, n)
			}
		}
		// Whatever was accepted must come back unchanged through quoting.
		s2, t2, err := ParseRelation(quoteIdent(schema) + "." + quoteIdent(table))
		if err != nil || s2 != schema || t2 != table {
			t.Fatalf("re-quoting %q.%q gave %q.%q, %v", schema, table, s2, t2, err)
		}
	})
}
