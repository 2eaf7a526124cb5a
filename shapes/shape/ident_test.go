package shape

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"pgregory.net/rapid"
)

func TestParseRelation(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("a", 64)
	cases := []struct {
		in, schema, table, err string
	}{
		{in: "foo", schema: "public", table: "foo"},
		{in: "FooBar", schema: "public", table: "foobar"},
		{in: "foo.bar", schema: "foo", table: "bar"},
		{in: `"foo"."bar"`, schema: "foo", table: "bar"},
		{in: `"foo.woah"."bar"`, schema: "foo.woah", table: "bar"},
		{in: `"foo".bar`, schema: "foo", table: "bar"},
		{in: `"FooBar"`, schema: "public", table: "FooBar"},
		{in: `"Foo""Bar"`, schema: "public", table: `Foo"Bar`},
		{in: `" "`, schema: "public", table: " "},
		{in: `"a,b"`, schema: "public", table: "a,b"},
		{in: "Ünïcödé_1$", schema: "public", table: "Ünïcödé_1$"}, // only ASCII is lower-cased
		{in: "_x", schema: "public", table: "_x"},
		{in: "é\u0301", schema: "public", table: "é\u0301"}, // combining mark after a letter
		{in: strings.Repeat("é", 63), schema: "public", table: strings.Repeat("é", 63)},
		{in: "foo.bar.baz", err: "Invalid relation identifier, too many delimiters: foo.bar.baz"},
		{in: `"a"."b".c`, err: `Invalid relation identifier, too many delimiters: "a"."b".c`},
		{in: `"foo"."bar`, err: `Invalid unquoted identifier contains special characters: "bar`},
		{in: `Foo"Bar"`, err: `Invalid unquoted identifier contains special characters: Foo"Bar"`},
		{in: " ", err: "Invalid unquoted identifier contains special characters:  "},
		{in: "foob@r", err: "Invalid unquoted identifier contains special characters: foob@r"},
		{in: "1abc", err: "Invalid unquoted identifier contains special characters: 1abc"},
		{in: "$abc", err: "Invalid unquoted identifier contains special characters: $abc"},
		{in: "a-b", err: "Invalid unquoted identifier contains special characters: a-b"},
		{in: `"Foo"Bar"`, err: `Invalid identifier with unescaped quote: Foo"Bar`},
		{in: `"a"""`, schema: "public", table: `a"`},
		{in: `"a"""b"`, err: `Invalid identifier with unescaped quote: a"""b`},
		{in: `""`, err: "Invalid zero-length delimited identifier"},
		{in: `"`, err: "Invalid zero-length delimited identifier"},
		{in: "", err: "Invalid zero-length delimited identifier"},
		{in: "foo.", err: "Invalid zero-length delimited identifier"},
		{in: ".foo", err: "Invalid zero-length delimited identifier"},
		{in: long, err: "Identifier is too long (max length is 63)"},
		{in: `"` + long + `"`, err: "Identifier is too long (max length is 63)"},
		{in: "s." + long, err: "Identifier is too long (max length is 63)"},
		{in: "\"a\x00b\"", err: "Invalid identifier contains a NUL byte or invalid UTF-8"},
		{in: "\"a\xffb\"", err: "Invalid identifier contains a NUL byte or invalid UTF-8"},
		{in: "a\xffb", err: "Invalid unquoted identifier contains special characters: a\xffb"},
	}
	for _, c := range cases {
		schema, table, err := ParseRelation(c.in)
		if c.err != "" {
			var pe *ParseError
			if err == nil || err.Error() != c.err || !errors.As(err, &pe) {
				t.Errorf("ParseRelation(%q) = %q, %q, %v; want error %q", c.in, schema, table, err, c.err)
			}
			continue
		}
		if err != nil || schema != c.schema || table != c.table {
			t.Errorf("ParseRelation(%q) = %q, %q, %v; want %q, %q", c.in, schema, table, err, c.schema, c.table)
		}
	}
	if _, _, err := ParseRelation(""); !errors.Is(err, ErrZeroLengthIdentifier) {
		t.Errorf("empty table: %v is not ErrZeroLengthIdentifier", err)
	}
}

func TestParseColumns(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   string
		want []string
		err  string
	}{
		{in: "id", want: []string{"id"}},
		{in: "beta,alpha", want: []string{"beta", "alpha"}},
		{in: `"PoT@To",PoTaTo`, want: []string{"PoT@To", "potato"}},
		{in: `"PoTaTo,sunday",foo`, want: []string{"PoTaTo,sunday", "foo"}},
		{in: `"fo""o",bar`, want: []string{`fo"o`, "bar"}},
		{in: `"id","has,comma","has""quote"`, want: []string{"id", "has,comma", `has"quote`}},
		{in: `"a, b",c`, want: []string{"a, b", "c"}},
		{in: "a,a", want: []string{"a", "a"}},
		{in: "", err: "Invalid zero-length delimited identifier"},
		{in: "foo,", err: "Invalid zero-length delimited identifier"},
		{in: ",foo", err: "Invalid zero-length delimited identifier"},
		{in: "a,,b", err: "Invalid zero-length delimited identifier"},
		{in: `"id,"name"`, err: `Invalid unquoted identifier contains special characters: "id`},
		{in: "a b", err: "Invalid unquoted identifier contains special characters: a b"},
	}
	for _, c := range cases {
		got, err := ParseColumns(c.in)
		if c.err != "" {
			if err == nil || err.Error() != c.err {
				t.Errorf("ParseColumns(%q) = %q, %v; want error %q", c.in, got, err, c.err)
			}
			continue
		}
		if err != nil || strings.Join(got, "|") != strings.Join(c.want, "|") || len(got) != len(c.want) {
			t.Errorf("ParseColumns(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
}

func TestEffectiveColumns(t *testing.T) {
	t.Parallel()
	got := EffectiveColumns([]string{"title", "id", "title"}, []string{"id", "a"})
	if strings.Join(got, ",") != "a,id,title" {
		t.Fatalf("EffectiveColumns = %q", got)
	}
}

// validName draws any name ParseIdentifier must accept once quoted.
func validName(t *rapid.T, label string) string {
	return rapid.StringOfN(rapid.RuneFrom([]rune{'"', '.', ',', ' ', 'A', 'z', '$', '_', '0', 'é', '\u0301', '😀'}), 1, MaxIdentifierLength, -1).
		Filter(func(s string) bool { return utf8.RuneCountInString(s) <= MaxIdentifierLength }).Draw(t, label)
}

func TestQuoteRoundTrip(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(t *rapid.T) {
		schema, table := validName(t, "schema"), validName(t, "table")
		s, tb, err := ParseRelation(QuoteIdentifier(schema) + "." + QuoteIdentifier(table))
		if err != nil || s != schema || tb != table {
			t.Fatalf("round trip of %q.%q gave %q.%q, %v", schema, table, s, tb, err)
		}
		cols := rapid.SliceOfN(rapid.Custom(func(t *rapid.T) string { return validName(t, "col") }), 1, 5).Draw(t, "cols")
		quoted := make([]string, len(cols))
		for i, c := range cols {
			quoted[i] = QuoteIdentifier(c)
		}
		got, err := ParseColumns(strings.Join(quoted, ","))
		if err != nil || strings.Join(got, "\x00") != strings.Join(cols, "\x00") {
			t.Fatalf("columns %q gave %q, %v", cols, got, err)
		}
	})
}

// FuzzParseRelation: no panics, and an accepted input means the same
// relation as its parsed names re-quoted.
func FuzzParseRelation(f *testing.F) {
	for _, s := range []string{"foo", "Foo.Bar", `"a.b"."c""d"`, `"foo"."bar`, "a.b.c", `""`, `"`, "", "é\u0301", strings.Repeat("x", 64), "\"\xff\""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		schema, table, err := ParseRelation(s)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a ParseError", err)
			}
			return
		}
		s2, t2, err := ParseRelation(QuoteIdentifier(schema) + "." + QuoteIdentifier(table))
		if err != nil || s2 != schema || t2 != table {
			t.Fatalf("%q parsed to %q.%q, re-quoted to %q.%q, %v", s, schema, table, s2, t2, err)
		}
		if !strings.Contains(s, ".") && schema != DefaultSchema {
			t.Fatalf("%q without a dot got schema %q", s, schema)
		}
	})
}

// FuzzParseColumns: no panics, and accepted names re-quote to the same list.
func FuzzParseColumns(f *testing.F) {
	for _, s := range []string{"id", `"id","has,comma","has""quote"`, `"id,"name"`, "a,,b", ",", `"""`, `"a""b",C`, ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		cols, err := ParseColumns(s)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a ParseError", err)
			}
			return
		}
		if len(cols) != strings.Count(s, ",")-strings.Count(strings.Join(cols, ""), ",")+1 {
			t.Fatalf("%q: %d columns do not account for its commas: %q", s, len(cols), cols)
		}
		quoted := make([]string, len(cols))
		for i, c := range cols {
			quoted[i] = QuoteIdentifier(c)
		}
		again, err := ParseColumns(strings.Join(quoted, ","))
		if err != nil || strings.Join(again, "\x00") != strings.Join(cols, "\x00") {
			t.Fatalf("%q parsed to %q, re-quoted to %q, %v", s, cols, again, err)
		}
	})
}
