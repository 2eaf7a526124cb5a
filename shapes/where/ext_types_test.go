package where

import (
	"errors"
	"testing"
)

var extColumns = []Column{{"f4", "float4"}, {"f8", "float8"}, {"by", "bytea"}, {"c", "bpchar"}, {"nm", "name"}, {"i4", "int4"},
	{"i2", "int2"}, {"n", "numeric"}, {"s", "text"}, {"v", "varchar"}, {"fs", "_float8"}}

// extRow is in Postgres's output form, as the stream gives it (char(4)
// arrives padded).
var extRow = map[string]string{"f4": "0.1", "f8": "9.999999999999999e+22", "by": `\x0102`, "c": "ab  ", "nm": "ab",
	"i4": "-2147483648", "i2": "-32768", "n": "1.5", "s": "ab  ", "v": "ab  ", "fs": "{1.5,NaN,-Infinity}"}

func extOutcome(t *testing.T, where string) (string, error) {
	t.Helper()
	e, err := Parse(where, []string{"2.5"})
	if err == nil {
		e, err = e.Check(extColumns)
	}
	if err != nil {
		return "", err
	}
	v, err := e.Eval(func(i int) (string, bool) {
		s, ok := extRow[extColumns[i].Name]
		return s, !ok
	})
	switch {
	case err != nil:
		return "error", nil
	case v.IsNull():
		return "null", nil
	case v.IsTrue():
		return "true", nil
	}
	return "false", nil
}

// TestExtTypeSemantics pins Postgres 15 results for float4/float8, the
// operators ^ |/ @ & | # ~ << >>, bytea, bpchar and name (each checked
// in psql; the differential test covers them at random).
func TestExtTypeSemantics(t *testing.T) {
	t.Parallel()
	cases := []struct{ where, want string }{
		{"'NaN'::float8 = 'NaN'::float8 AND 'NaN'::float8 > 'Infinity'::float8", "true"},
		{"'-0'::float8 = 0 AND NOT ('-0'::float8 < 0)", "true"},
		{"16777217::float4 = 16777217", "false"},          // float48eq: compared as float8
		{"16777217::float4 IN (16777217, 1)", "true"},     // IN: float4 is the common type
		{"coalesce(f4, 1)::text = '0.1'", "true"},         // coalesce keeps float4
		{"(f4 + 1)::text = '1.1000000014901161'", "true"}, // float4 + int is float8
		{"(f4 + f4)::text = '0.2'", "true"},
		{"f4::float8::text = '0.10000000149011612'", "true"},
		{"f8::text = '9.999999999999999e+22' AND 1e23::float8 = f8", "true"},
		{"2.0567e21::float8::text = '2.0567000000000001e+21'", "true"},
		{"1e15::float8::text = '1e+15' AND 1e14::float8::text = '100000000000000'", "true"},
		{"1e-5::float8::text = '1e-05' AND 0.0001::float8::text = '0.0001' AND 1e6::float4::text = '1e+06'", "true"},
		{"(-(0::float8))::text = '-0'", "true"},
		{"'0x10'::float8 = 16 AND ' -iNf '::float8 = '-Infinity'", "true"},
		{"'1e-46'::float4 IS NULL", "error-check"},
		{"2.5::float8::int4 = 2 AND 3.5::float8::int4 = 4 AND (-2.5)::float8::int2 = -2", "true"},
		{"2147483647.5::float8::int4 = 0", "error"},
		{"'NaN'::float8::int8 = 0", "error"},
		{"f8::numeric::text = '100000000000000000000000'", "true"}, // %.15g
		{"'Infinity'::float4::numeric = 'Infinity'::numeric", "true"},
		{"1e300::float8 * 1e10::float8 > 0", "error"},
		{"1e-300::float8 * 1e-300::float8 = 0", "error"},
		{"'NaN'::float8 / 0 IS NULL", "false"},
		{"'Infinity'::float8 / 0 > 0", "error"},
		{"1e308::float8::float4 > 0", "error"},
		{"f8 % 2 = 0", "error-check"},
		{"2 ^ 2 ^ 3 = 64 AND 2 + 3 << 1 = 10 AND (1 | 2 & 3) = 3 AND 5 # 3 * 2 = 3", "true"},
		{"- 2 ^ 2 = 4 AND ~ 1 + 1 = -3 AND |/ 16 + 9 = 5 AND @ - 3 ^ 2 = 9", "true"},
		{"1 << 32 = 1 AND 1 << -1 = -2147483648 AND 1::int2 << 16 = 0 AND (-8) >> 33 = -4 AND 1::int8 << 64 = 1", "true"},
		{"@ i2 > 0", "error"},
		{"@ i4 > 0", "error"},
		{"0::float8 ^ -1 = 0", "error"},
		{"(-8)::float8 ^ (1.0/3)::float8 > 0", "error"},
		{"2::float8 ^ 1024 > 0", "error"},
		{"2::float8 ^ -1075 = 0", "error"},
		{"(10::float8 ^ -310)::text = '1e-310' AND ('-Infinity'::float8 ^ -3)::text = '-0'", "true"},
		{"'NaN'::float8 ^ 0 = 1 AND 1 ^ 'NaN'::float8 = 1 AND (-1)::float8 ^ 'Infinity' = 1", "true"},
		{"(1.1::float8 ^ 3.7)::text = '1.4228297427836396'", "true"},
		{"|/ (-1) > 0", "error"},
		{"(|/ '-0'::float8)::text = '-0'", "true"},
		{"fs[2] > 'Infinity' AND fs[3] < 0", "true"},
		{`by = '\x0102' AND by < '\x010200'::bytea AND by > '\x01'::bytea AND '\xff'::bytea > by`, "true"},
		{`by || '\x03' = '\x010203' AND (by || '\x03')::text = '\x010203'`, "true"},
		{`'a\\b'::bytea = '\x615c62' AND '\001\377'::bytea = '\x01ff' AND '\x 01 02 '::bytea = by`, "true"},
		{`'\X41'::bytea IS NULL`, "error-check"},
		{`'\x0g'::bytea IS NULL`, "error-check"},
		{`s::bytea IS NULL`, "false"},
		{`('a\'::text)::bytea IS NULL`, "error"},
		{"c = 'ab' AND c = 'ab   ' AND c = 'ab'::text AND c = v AND c::text = 'ab'", "true"},
		{"c = s", "false"}, // text: the stripped bpchar against the padded text
		{"c LIKE 'ab'", "false"},
		{"c LIKE 'ab  ' AND concat(c, '|') = 'ab  |' AND c || '|' = 'ab|' AND lower(c) = 'ab'", "true"},
		{"coalesce(c, s) = 'ab'", "true"}, // bpchar
		{"coalesce(s, c) = 'ab'", "false"},
		{"nm = 'ab' AND nm = 'ab'::text AND nm < s AND nm || 'x' = 'abx' AND nm LIKE 'a%'", "true"},
		{"nm = c", "error-check"},
		{"('x' || s || s || s || s || s || s || s || s || s || s || s || s || s || s || s || s)::name = s", "false"},
		{"length_is_not_a_function(nm) = 1", "error-check"},
	}
	for _, c := range cases {
		got, err := extOutcome(t, c.where)
		if err != nil {
			var we *Error
			if !errors.As(err, &we) {
				t.Errorf("%q: error %v is not an *Error", c.where, err)
			}
			got = "error-check"
		}
		if got != c.want {
			t.Errorf("%q = %s (%v), want %s", c.where, got, err, c.want)
		}
	}
}

// TestExtTypeSQL: constants and casts of the new types render as bound
// text with explicit casts, and implicit widening becomes a visible cast.
func TestExtTypeSQL(t *testing.T) {
	t.Parallel()
	cases := []struct{ where, sql string }{
		{"f8 > 1.5", `("f8" > ($1::text::numeric)::float8)`},
		{"f4 = 1", `(("f4")::float8 = ($1::text::int4)::float8)`},
		{"f4 = '0.1'", `("f4" = $1::text::float4)`},
		{"f4 IN (1, 2)", `("f4" = ANY (ARRAY[($1::text::int4)::float4, ($2::text::int4)::float4]))`},
		{"i4 ^ 2 > f8", `((("i4")::float8 ^ ($1::text::int4)::float8) > "f8")`},
		{"|/ i4 = @ f4", `((|/ ("i4")::float8) = ((@ "f4"))::float8)`},
		{"(i2 & 3) << 2 = ~ i4", `(((("i2")::int4 & $1::text::int4) << $2::text::int4) = (~ "i4"))`},
		{`by || '\x01' = by`, `(("by" || $1::text::bytea) = "by")`},
		{"c = 'ab' AND c = s AND c LIKE 'a%'", `(("c" = $1::text::bpchar) AND (("c")::text = "s") AND ("c" LIKE $2::text))`},
		{"nm::bpchar = '1'::real::text", `((("nm")::bpchar)::text = ($1::text::float4)::text)`},
	}
	for _, c := range cases {
		e, err := Parse(c.where, nil)
		if err == nil {
			e, err = e.Check(extColumns)
		}
		if err != nil {
			t.Errorf("%q: %v", c.where, err)
			continue
		}
		if sql, _ := e.SQL(); sql != c.sql {
			t.Errorf("%q:\n got %s\nwant %s", c.where, sql, c.sql)
		}
	}
}
