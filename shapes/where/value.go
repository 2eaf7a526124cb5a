package where

import (
	"math"
	"strconv"
	"strings"

	"github.com/cockroachdb/apd/v3"
)

// Value is the result of evaluating an expression or a subexpression: a
// typed SQL value or NULL.
type Value struct {
	t    Type
	null bool
	b    bool
	i    int64
	f    float64 // float4 (rounded to float32) and float8
	d    *apd.Decimal
	s    string
	arr  []Value
	dims []arrayDim // array dimensions; nil: none when arr is empty, else [1:len(arr)]
	iv   ival       // interval (date and time types use i)
}

// IsNull reports whether v is SQL NULL.
func (v Value) IsNull() bool { return v.null }

// IsTrue reports whether v is a non-NULL true boolean: the only result
// that puts a row in a shape.
func (v Value) IsTrue() bool { return v.t == Bool && !v.null && v.b }

// Type is v's type.
func (v Value) Type() Type { return v.t }

func nullOf(t Type) Value { return Value{t: t, null: true} }

func boolValue(b bool) Value { return Value{t: Bool, b: b} }

func intName(t Type) string {
	switch t {
	case Int2:
		return "smallint"
	case Int8:
		return "bigint"
	}
	return "integer"
}

func outOfRange(t Type) error { return evalErr("%s out of range", intName(t)) }

func checkRange(i int64, t Type) (int64, error) {
	switch t {
	case Int2:
		if i < math.MinInt16 || i > math.MaxInt16 {
			return 0, outOfRange(t)
		}
	case Int4:
		if i < math.MinInt32 || i > math.MaxInt32 {
			return 0, outOfRange(t)
		}
	}
	return i, nil
}

// parseInt is pg_strtoint16/32/64 of Postgres 15: C-locale whitespace
// around an optional sign and decimal digits, nothing else.
func parseInt(s string, t Type) (Value, error) {
	bad := func() (Value, error) {
		return Value{}, evalErr("invalid input syntax for type %s: %q", intName(t), s)
	}
	i := 0
	for i < len(s) && isCSpace(s[i]) {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		neg = s[i] == '-'
		i++
	}
	start := i
	var acc uint64
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		acc = acc*10 + uint64(s[i]-'0')
		if acc > 1<<63 {
			return Value{}, evalErr("value %q is out of range for type %s", s, intName(t))
		}
		i++
	}
	if i == start {
		return bad()
	}
	for i < len(s) && isCSpace(s[i]) {
		i++
	}
	if i != len(s) {
		return bad()
	}
	if !neg && acc > math.MaxInt64 {
		return Value{}, evalErr("value %q is out of range for type %s", s, intName(t))
	}
	n := int64(acc) // 1<<63 wraps to MinInt64, right for "-9223372036854775808"
	if neg {
		n = -n
	}
	if _, err := checkRange(n, t); err != nil {
		return Value{}, evalErr("value %q is out of range for type %s", s, intName(t))
	}
	return Value{t: t, i: n}, nil
}

// parseBool is boolin: case-insensitive unique prefixes of true, false,
// yes, no; on, off; 1, 0; surrounding whitespace ignored.
func parseBool(s string) (Value, error) {
	v := strings.ToLower(trimCSpace(s))
	prefix := func(word string, minLen int) bool {
		return len(v) >= minLen && len(v) <= len(word) && word[:len(v)] == v
	}
	switch {
	case v == "":
	case prefix("true", 1), prefix("yes", 1), prefix("on", 2), v == "1":
		return boolValue(true), nil
	case prefix("false", 1), prefix("no", 1), prefix("off", 2), v == "0":
		return boolValue(false), nil
	}
	return Value{}, evalErr("invalid input syntax for type boolean: %q", s)
}

func hexVal(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// parseUUID is uuid_in: 32 hex digits, optionally in braces, with an
// optional hyphen after any group of four; stored in canonical form.
func parseUUID(s string) (Value, error) {
	bad := func() (Value, error) { return Value{}, evalErr("invalid input syntax for type uuid: %q", s) }
	src := s
	braces := strings.HasPrefix(src, "{")
	if braces {
		src = src[1:]
	}
	var out []byte
	for i := 0; i < 16; i++ {
		if len(src) < 2 || hexVal(src[0]) < 0 || hexVal(src[1]) < 0 {
			return bad()
		}
		out = append(out, "0123456789abcdef"[hexVal(src[0])], "0123456789abcdef"[hexVal(src[1])])
		src = src[2:]
		if i%2 == 1 && i < 15 && strings.HasPrefix(src, "-") {
			src = src[1:]
		}
	}
	if braces {
		if !strings.HasPrefix(src, "}") {
			return bad()
		}
		src = src[1:]
	}
	if src != "" {
		return bad()
	}
	c := string(out)
	return Value{t: UUID, s: c[:8] + "-" + c[8:12] + "-" + c[12:16] + "-" + c[16:20] + "-" + c[20:]}, nil
}

// parseValue is the input function of t.
func parseValue(t Type, s string) (Value, error) {
	switch {
	case t.IsArray():
		return parseArray(t, s)
	case t == Bool:
		return parseBool(s)
	case isInteger(t):
		return parseInt(s, t)
	case t == Numeric:
		return parseNumeric(s)
	case isFloat(t):
		return parseFloat(s, t)
	case t == Bytea:
		return parseBytea(s)
	case t == Name:
		return Value{t: t, s: clipName(s)}, nil
	case t == UUID:
		return parseUUID(s)
	case isDateTime(t):
		return parseDateTime(t, s)
	case isTextual(t), t == Unknown, isEnum(t):
		return Value{t: t, s: s}, nil
	}
	return Value{}, evalErr("unsupported type %s", t)
}

// outputText is the output function of v's type (bool gives t/f).
func outputText(v Value) string {
	switch {
	case v.t == Bool:
		if v.b {
			return "t"
		}
		return "f"
	case isInteger(v.t):
		return strconv.FormatInt(v.i, 10)
	case v.t == Numeric:
		return numericText(v.d)
	case isFloat(v.t):
		return floatText(v.t, v.f)
	case v.t == Bytea:
		return byteaText(v.s)
	case isDateTime(v.t):
		return dateTimeText(v)
	case v.t.IsArray():
		return arrayText(v)
	}
	return v.s
}

// castToText is the cast to text, which differs from the output function
// only for bool ("true"/"false").
func castToText(v Value) string {
	if v.t == Bool {
		return strconv.FormatBool(v.b)
	}
	if v.t == Bpchar {
		return trimBpchar(v.s)
	}
	return outputText(v)
}

// castValue converts v to t as Postgres's cast (explicit or implicit)
// does. Check has already refused impossible casts.
func castValue(v Value, t Type) (Value, error) {
	if v.null {
		return nullOf(t), nil
	}
	switch {
	case v.t == t:
		return v, nil
	case t == Name:
		return castToName(v), nil
	case isTextual(t):
		return Value{t: t, s: castToText(v)}, nil
	case isTextual(v.t) || v.t == Unknown:
		return parseValue(t, v.s)
	case v.t.IsArray() && t.IsArray():
		return castArray(v, t)
	case isDateTime(v.t) || isDateTime(t):
		return castDateTime(v, t)
	case isFloat(v.t) || isFloat(t):
		return castFloat(v, t)
	case isInteger(v.t) && isInteger(t):
		i, err := checkRange(v.i, t)
		return Value{t: t, i: i}, err
	case isInteger(v.t) && t == Numeric:
		return numericFromInt(v.i), nil
	case v.t == Numeric && isInteger(t):
		i, err := numericToInt(v.d, t)
		return Value{t: t, i: i}, err
	case v.t == Int4 && t == Bool:
		return boolValue(v.i != 0), nil
	case v.t == Bool && t == Int4:
		if v.b {
			return Value{t: Int4, i: 1}, nil
		}
		return Value{t: Int4, i: 0}, nil
	}
	return Value{}, evalErr("unknown cast from type %s to type %s", v.t, t)
}

// compareValues orders two non-NULL values of the same type.
func compareValues(a, b Value) int {
	switch {
	case a.t == Bool:
		switch {
		case a.b == b.b:
			return 0
		case b.b:
			return -1
		}
		return 1
	case isInteger(a.t):
		switch {
		case a.i < b.i:
			return -1
		case a.i > b.i:
			return 1
		}
		return 0
	case a.t == Numeric:
		return numericCmp(a.d, b.d)
	case isFloat(a.t):
		return floatCmp(a.f, b.f)
	case a.t == Bpchar:
		return strings.Compare(trimBpchar(a.s), trimBpchar(b.s))
	case isDateTime(a.t):
		return compareDateTime(a, b)
	case a.t.IsArray():
		return compareArrays(a, b)
	}
	return strings.Compare(a.s, b.s)
}
