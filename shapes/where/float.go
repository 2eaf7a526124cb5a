package where

import (
	"math"
	"strconv"
	"strings"
)

// float4 and float8 follow Postgres 15 (float.c): a float4 value is held
// as the float64 of a float32 and every float4 operation rounds to
// float32; NaN equals NaN and sorts above +Infinity; + - * / raise
// "value out of range: overflow/underflow" when a finite computation
// leaves the range, and division by zero is an error unless the dividend
// is NaN. Casts to integers round half to even (rint); casts to numeric go
// through "%.15g" ("%.6g" for float4), as float8_numeric does.

const (
	Float4 Type = "float4"
	Float8 Type = "float8"
)

func isFloat(t Type) bool { return t == Float4 || t == Float8 }

func floatName(t Type) string {
	if t == Float4 {
		return "real"
	}
	return "double precision"
}

func floatValue(t Type, f float64) Value {
	if t == Float4 {
		f = float64(float32(f))
	}
	return Value{t: t, f: f}
}

var (
	errFloatOverflow  = &EvalError{Msg: "value out of range: overflow"}
	errFloatUnderflow = &EvalError{Msg: "value out of range: underflow"}
	errDivByZero      = &EvalError{Msg: "division by zero"}
)

// parseFloat is float8in / float4in of Postgres 15: C-locale whitespace
// around what glibc's strtod (strtof) accepts: decimal and hexadecimal
// numbers, inf, infinity and nan (nan(chars)), case-insensitive, with a
// sign. A nonzero number that rounds to zero or to infinity is out of
// range.
func parseFloat(s string, t Type) (Value, error) {
	bad := func() (Value, error) {
		return Value{}, evalErr("invalid input syntax for type %s: %q", floatName(t), s)
	}
	i := 0
	for i < len(s) && isCSpace(s[i]) {
		i++
	}
	tok, n := strtodToken(s[i:])
	if n == 0 {
		return bad()
	}
	j := i + n
	for j < len(s) && isCSpace(s[j]) {
		j++
	}
	if j != len(s) {
		return bad()
	}
	bits := 64
	if t == Float4 {
		bits = 32
	}
	neg := strings.HasPrefix(tok, "-")
	body := strings.TrimLeft(tok, "+-")
	lower := strings.ToLower(body)
	switch {
	case strings.HasPrefix(lower, "nan"):
		return Value{t: t, f: math.NaN()}, nil
	case strings.HasPrefix(lower, "inf"):
		if neg {
			return Value{t: t, f: math.Inf(-1)}, nil
		}
		return Value{t: t, f: math.Inf(1)}, nil
	}
	f, err := strconv.ParseFloat(tok, bits)
	if err != nil && !math.IsInf(f, 0) {
		return bad()
	}
	if math.IsInf(f, 0) || f == 0 && hasNonzeroDigit(body) {
		return Value{}, evalErr("%q is out of range for type %s", s, floatName(t))
	}
	return floatValue(t, f), nil
}

// hasNonzeroDigit reports whether a number's mantissa is nonzero (its
// exponent, after e or p, does not count).
func hasNonzeroDigit(body string) bool {
	l := strings.ToLower(body)
	hex := strings.HasPrefix(l, "0x")
	if hex {
		l = l[2:]
	}
	for _, c := range l {
		switch {
		case hex && c == 'p', !hex && c == 'e':
			return false
		case c >= '1' && c <= '9', hex && c >= 'a' && c <= 'f':
			return true
		}
	}
	return false
}

// strtodToken is the longest prefix of s that strtod consumes, rewritten
// so that strconv.ParseFloat reads the same number (a hexadecimal
// mantissa without exponent gets "p0"); n is its length in s, 0 if strtod
// consumes nothing.
func strtodToken(s string) (tok string, n int) {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	sign := s[:i]
	rest := strings.ToLower(s[i:])
	switch {
	case strings.HasPrefix(rest, "infinity"):
		return sign + "inf", i + 8
	case strings.HasPrefix(rest, "inf"):
		return sign + "inf", i + 3
	case strings.HasPrefix(rest, "nan"):
		j := 3
		if strings.HasPrefix(rest[j:], "(") {
			k := j + 1
			for k < len(rest) && (rest[k] >= '0' && rest[k] <= '9' || rest[k] >= 'a' && rest[k] <= 'z' || rest[k] == '_') {
				k++
			}
			if k < len(rest) && rest[k] == ')' {
				j = k + 1
			}
		}
		return sign + "nan", i + j
	}
	if strings.HasPrefix(rest, "0x") {
		j, digits := 2, 0
		for j < len(rest) && hexVal(rest[j]) >= 0 {
			j, digits = j+1, digits+1
		}
		if j < len(rest) && rest[j] == '.' {
			j++
			for j < len(rest) && hexVal(rest[j]) >= 0 {
				j, digits = j+1, digits+1
			}
		}
		if digits > 0 {
			mant := rest[:j]
			if e := expLen(rest[j:], 'p'); e > 0 {
				return sign + rest[:j+e], i + j + e
			}
			return sign + mant + "p0", i + j
		}
		// "0x" without digits: strtod reads the 0 alone.
		return sign + "0", i + 1
	}
	j, digits := 0, 0
	for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
		j, digits = j+1, digits+1
	}
	if j < len(rest) && rest[j] == '.' {
		j++
		for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
			j, digits = j+1, digits+1
		}
	}
	if digits == 0 {
		return "", 0
	}
	j += expLen(rest[j:], 'e')
	return sign + rest[:j], i + j
}

// expLen is the length of an exponent part (e or p, optional sign,
// decimal digits) at the start of s, 0 if there is none.
func expLen(s string, letter byte) int {
	if len(s) == 0 || s[0] != letter {
		return 0
	}
	j := 1
	if j < len(s) && (s[j] == '+' || s[j] == '-') {
		j++
	}
	start := j
	for j < len(s) && s[j] >= '0' && s[j] <= '9' {
		j++
	}
	if j == start {
		return 0
	}
	return j
}

// floatText is float8out / float4out with extra_float_digits = 1: the
// shortest digits that read back to the same value (floatShortest), in
// fixed notation for decimal exponents -4 up to 14 (float4: 5), else as
// d.ddde±XX.
func floatText(t Type, f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
		if math.Signbit(f) {
			return "-0"
		}
		return "0"
	}
	bits, maxFixed := 64, 15
	if t == Float4 {
		bits, maxFixed = 32, 6
	}
	digits, exp := floatShortest(f, bits)
	var b strings.Builder
	if f < 0 {
		b.WriteByte('-')
	}
	switch {
	case exp >= -4 && exp < maxFixed && exp < 0:
		b.WriteString("0.")
		b.WriteString(strings.Repeat("0", -exp-1))
		b.WriteString(digits)
	case exp >= -4 && exp < maxFixed:
		if len(digits) <= exp+1 {
			b.WriteString(digits)
			b.WriteString(strings.Repeat("0", exp+1-len(digits)))
		} else {
			b.WriteString(digits[:exp+1])
			b.WriteByte('.')
			b.WriteString(digits[exp+1:])
		}
	default:
		b.WriteByte(digits[0])
		if len(digits) > 1 {
			b.WriteByte('.')
			b.WriteString(digits[1:])
		}
		b.WriteByte('e')
		if exp < 0 {
			b.WriteByte('-')
			exp = -exp
		} else {
			b.WriteByte('+')
		}
		if exp < 10 {
			b.WriteByte('0')
		}
		b.WriteString(strconv.Itoa(exp))
	}
	return b.String()
}

// floatCmp is float8_cmp_internal: NaN equals NaN and is above all else.
func floatCmp(a, b float64) int {
	an, bn := math.IsNaN(a), math.IsNaN(b)
	switch {
	case an && bn:
		return 0
	case an:
		return 1
	case bn:
		return -1
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// floatArith is float4pl/mi/mul/div and float8pl/mi/mul/div.
func floatArith(op string, a, b float64, t Type) (Value, error) {
	var r float64
	if t == Float4 {
		x, y := float32(a), float32(b)
		switch op {
		case "+":
			r = float64(float32(x + y))
		case "-":
			r = float64(float32(x - y))
		case "*":
			r = float64(float32(x * y))
		case "/":
			if y == 0 && !math.IsNaN(a) {
				return Value{}, errDivByZero
			}
			r = float64(float32(x / y))
		}
	} else {
		switch op {
		case "+":
			r = float64(a + b)
		case "-":
			r = float64(a - b)
		case "*":
			r = float64(a * b)
		case "/":
			if b == 0 && !math.IsNaN(a) {
				return Value{}, errDivByZero
			}
			r = float64(a / b)
		}
	}
	aInf, bInf := math.IsInf(a, 0), math.IsInf(b, 0)
	switch op {
	case "+", "-":
		if math.IsInf(r, 0) && !aInf && !bInf {
			return Value{}, errFloatOverflow
		}
	case "*":
		if math.IsInf(r, 0) && !aInf && !bInf {
			return Value{}, errFloatOverflow
		}
		if r == 0 && a != 0 && b != 0 {
			return Value{}, errFloatUnderflow
		}
	case "/":
		if math.IsInf(r, 0) && !aInf {
			return Value{}, errFloatOverflow
		}
		if r == 0 && a != 0 && !bInf {
			return Value{}, errFloatUnderflow
		}
	}
	return Value{t: t, f: r}, nil
}

// unionType is commonType for coalesce, greatest, least, ARRAY[…] and IN
// lists (select_common_type): numbers take the widest type of the
// implicit-cast chain int2→int4→int8→numeric→float4→float8, so float4
// with an integer stays float4 there while an operator makes it float8.
func unionType(a, b Type) (Type, bool) {
	if t, ok := unionTextLike(a, b); ok {
		return t, true
	}
	if isNumber(a) && isNumber(b) {
		if numberRank(a) >= numberRank(b) {
			return a, true
		}
		return b, true
	}
	return commonType(a, b)
}
