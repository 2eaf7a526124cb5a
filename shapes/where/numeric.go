package where

import (
	"strconv"
	"strings"

	"github.com/cockroachdb/apd/v3"
)

// Numeric values follow Postgres's numeric type exactly: a finite value
// keeps its display scale (dscale) as the negated apd exponent, never a
// positive exponent, so "1.50" stays "1.50"; NaN and ±Infinity compare and
// propagate as in Postgres 15.

// Limits of Postgres's numeric (numeric.c).
const (
	numericMaxWeightDigits = 131072
	numericMaxDscale       = 16383
	numericMaxInputExp     = 1000
	numericMinSigDigits    = 16
	numericMaxDisplayScale = 1000
)

// exactCtx adds, subtracts and multiplies without rounding; the precision
// only bounds work on hostile input, and Inexact means overflow.
func exactCtx() *apd.Context {
	return &apd.Context{Precision: numericMaxWeightDigits + numericMaxDscale + 10, MaxExponent: apd.MaxExponent, MinExponent: apd.MinExponent, Traps: 0}
}

func isCSpace(b byte) bool {
	return b == ' ' || b == '\t' || b == '\n' || b == '\v' || b == '\f' || b == '\r'
}

func trimCSpace(s string) string {
	for len(s) > 0 && isCSpace(s[0]) {
		s = s[1:]
	}
	for len(s) > 0 && isCSpace(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}

func numericSpecial(form apd.Form, neg bool) Value {
	d := &apd.Decimal{Form: form, Negative: neg}
	return Value{t: Numeric, d: d}
}

// parseNumeric is numeric_in of Postgres 15.
func parseNumeric(s string) (Value, error) {
	bad := func() (Value, error) {
		return Value{}, evalErr("invalid input syntax for type numeric: %q", s)
	}
	body := trimCSpace(s)
	switch strings.ToLower(body) {
	case "nan":
		return numericSpecial(apd.NaN, false), nil
	case "infinity", "+infinity", "inf", "+inf":
		return numericSpecial(apd.Infinite, false), nil
	case "-infinity", "-inf":
		return numericSpecial(apd.Infinite, true), nil
	}
	i := 0
	if i < len(body) && (body[i] == '+' || body[i] == '-') {
		i++
	}
	digits, afterPoint, seenPoint := 0, 0, false
	for ; i < len(body); i++ {
		c := body[i]
		switch {
		case c >= '0' && c <= '9':
			digits++
			if seenPoint {
				afterPoint++
			}
			continue
		case c == '.' && !seenPoint:
			seenPoint = true
			continue
		}
		break
	}
	if digits == 0 {
		return bad()
	}
	if i < len(body) && (body[i] == 'e' || body[i] == 'E') {
		j := i + 1
		if j < len(body) && (body[j] == '+' || body[j] == '-') {
			j++
		}
		start := j
		for j < len(body) && body[j] >= '0' && body[j] <= '9' {
			j++
		}
		if j == start || j-start > 6 {
			return bad()
		}
		e := 0
		for _, c := range body[start:j] {
			e = e*10 + int(c-'0')
		}
		if body[i+1] == '-' {
			e = -e
		}
		if e > numericMaxInputExp || e < -numericMaxInputExp {
			return bad()
		}
		i = j
	}
	if i != len(body) {
		return bad()
	}
	d, _, err := apd.NewFromString(body)
	if err != nil {
		return bad()
	}
	return normNumeric(d)
}

// normNumeric brings a finite decimal to the dscale form (exponent ≤ 0),
// turns -0 into 0 and enforces Postgres's range.
func normNumeric(d *apd.Decimal) (Value, error) {
	if d.Form != apd.Finite {
		return Value{t: Numeric, d: d}, nil
	}
	if d.Exponent > 0 {
		var ten apd.BigInt
		ten.SetInt64(10)
		var p apd.BigInt
		p.Exp(&ten, apd.NewBigInt(int64(d.Exponent)), nil)
		d.Coeff.Mul(&d.Coeff, &p)
		d.Exponent = 0
	}
	if d.Coeff.Sign() == 0 {
		d.Negative = false
	}
	if -d.Exponent > numericMaxDscale || int64(d.NumDigits())+int64(d.Exponent) > numericMaxWeightDigits {
		return Value{}, evalErr("value overflows numeric format")
	}
	return Value{t: Numeric, d: d}, nil
}

func numericFromInt(i int64) Value {
	return Value{t: Numeric, d: apd.New(i, 0)}
}

// numericText is numeric_out: all dscale digits, no exponent.
func numericText(d *apd.Decimal) string {
	switch d.Form {
	case apd.NaN, apd.NaNSignaling:
		return "NaN"
	case apd.Infinite:
		if d.Negative {
			return "-Infinity"
		}
		return "Infinity"
	}
	digits := d.Coeff.String()
	digits = strings.TrimPrefix(digits, "-")
	scale := int(-d.Exponent)
	if scale > 0 {
		if len(digits) <= scale {
			digits = strings.Repeat("0", scale-len(digits)+1) + digits
		}
		digits = digits[:len(digits)-scale] + "." + digits[len(digits)-scale:]
	}
	if d.Negative && d.Coeff.Sign() != 0 {
		return "-" + digits
	}
	return digits
}

func isNaN(d *apd.Decimal) bool { return d.Form == apd.NaN || d.Form == apd.NaNSignaling }

// numericCmp orders as Postgres: NaN equals NaN and sorts above +Infinity.
func numericCmp(a, b *apd.Decimal) int {
	an, bn := isNaN(a), isNaN(b)
	switch {
	case an && bn:
		return 0
	case an:
		return 1
	case bn:
		return -1
	}
	return a.Cmp(b)
}

func numericSign(d *apd.Decimal) int {
	if d.Form == apd.Infinite {
		if d.Negative {
			return -1
		}
		return 1
	}
	return d.Sign()
}

func nan() Value { return numericSpecial(apd.NaN, false) }

func infinity(sign int) Value { return numericSpecial(apd.Infinite, sign < 0) }

// numericArith is numeric_add/sub/mul/div/mod of Postgres 15.
func numericArith(op string, a, b *apd.Decimal) (Value, error) {
	if isNaN(a) || isNaN(b) {
		return nan(), nil
	}
	aInf, bInf := a.Form == apd.Infinite, b.Form == apd.Infinite
	sa, sb := numericSign(a), numericSign(b)
	if aInf || bInf {
		switch op {
		case "+":
			if aInf && bInf && sa != sb {
				return nan(), nil
			}
			if aInf {
				return infinity(sa), nil
			}
			return infinity(sb), nil
		case "-":
			if aInf && bInf && sa == sb {
				return nan(), nil
			}
			if aInf {
				return infinity(sa), nil
			}
			return infinity(-sb), nil
		case "*":
			if sa == 0 || sb == 0 {
				return nan(), nil
			}
			return infinity(sa * sb), nil
		case "/":
			if aInf {
				if bInf {
					return nan(), nil
				}
				if sb == 0 {
					return Value{}, evalErr("division by zero")
				}
				return infinity(sa * sb), nil
			}
			return numericFromInt(0), nil
		case "%":
			if aInf {
				if sb == 0 {
					return Value{}, evalErr("division by zero")
				}
				return nan(), nil
			}
			return normNumeric(new(apd.Decimal).Set(a))
		}
	}
	ctx := exactCtx()
	d := new(apd.Decimal)
	var cond apd.Condition
	var err error
	switch op {
	case "+":
		cond, err = ctx.Add(d, a, b)
	case "-":
		cond, err = ctx.Sub(d, a, b)
	case "*":
		cond, err = ctx.Mul(d, a, b)
	case "/":
		if sb == 0 {
			return Value{}, evalErr("division by zero")
		}
		return normNumeric(divRound(a, b, divScale(a, b)))
	case "%":
		if sb == 0 {
			return Value{}, evalErr("division by zero")
		}
		q := divTrunc(a, b)
		var prod apd.Decimal
		if cond, err = ctx.Mul(&prod, b, q); err == nil && !cond.Inexact() {
			cond, err = ctx.Sub(d, a, &prod)
		}
	}
	if err != nil || cond.Inexact() || cond.Overflow() {
		return Value{}, evalErr("value overflows numeric format")
	}
	return normNumeric(d)
}

// weightAndFirst are a finite value's weight and first digit in
// Postgres's base-10000 representation (0, 0 for zero).
func weightAndFirst(d *apd.Decimal) (int, int64) {
	if d.Coeff.Sign() == 0 {
		return 0, 0
	}
	// The leading decimal digit has exponent p; base-10000 digit weight
	// w = floor(p/4); the first digit is trunc(|d| / 10^(4w)).
	p := int(d.NumDigits()) - 1 + int(d.Exponent)
	w := p / 4
	if p < 0 && p%4 != 0 {
		w--
	}
	shift := int(d.Exponent) - 4*w // |d| / 10^(4w) = coeff * 10^shift
	var c apd.BigInt
	c.Abs(&d.Coeff)
	if shift >= 0 {
		c.Mul(&c, pow10(shift))
	} else {
		c.Quo(&c, pow10(-shift))
	}
	return w, c.Int64()
}

func pow10(n int) *apd.BigInt {
	var r apd.BigInt
	return r.Exp(apd.NewBigInt(10), apd.NewBigInt(int64(n)), nil)
}

// divScale is select_div_scale: the result scale of numeric division.
func divScale(a, b *apd.Decimal) int {
	w1, f1 := weightAndFirst(a)
	w2, f2 := weightAndFirst(b)
	q := w1 - w2
	if f1 <= f2 {
		q--
	}
	r := numericMinSigDigits - q*4
	r = max(r, int(-a.Exponent), int(-b.Exponent), 0)
	return min(r, numericMaxDisplayScale)
}

// divRound is a/b rounded half away from zero to scale digits.
func divRound(a, b *apd.Decimal, scale int) *apd.Decimal {
	// a/b * 10^scale = ca/cb * 10^(ea-eb+scale)
	var num, den apd.BigInt
	num.Abs(&a.Coeff)
	den.Abs(&b.Coeff)
	k := int(a.Exponent) - int(b.Exponent) + scale
	if k >= 0 {
		num.Mul(&num, pow10(k))
	} else {
		den.Mul(&den, pow10(-k))
	}
	var q, r apd.BigInt
	q.QuoRem(&num, &den, &r)
	r.Mul(&r, apd.NewBigInt(2))
	if r.Cmp(&den) >= 0 {
		q.Add(&q, apd.NewBigInt(1))
	}
	d := &apd.Decimal{Exponent: int32(-scale), Negative: a.Negative != b.Negative}
	d.Coeff.Set(&q)
	return d
}

// divTrunc is trunc(a/b) as an integer-valued decimal.
func divTrunc(a, b *apd.Decimal) *apd.Decimal {
	var num, den apd.BigInt
	num.Abs(&a.Coeff)
	den.Abs(&b.Coeff)
	k := int(a.Exponent) - int(b.Exponent)
	if k >= 0 {
		num.Mul(&num, pow10(k))
	} else {
		den.Mul(&den, pow10(-k))
	}
	var q apd.BigInt
	q.Quo(&num, &den)
	d := &apd.Decimal{Negative: a.Negative != b.Negative}
	d.Coeff.Set(&q)
	return d
}

// numericToInt rounds half away from zero, as numeric_int4 and friends.
func numericToInt(d *apd.Decimal, t Type) (int64, error) {
	if isNaN(d) {
		return 0, evalErr("cannot convert NaN to %s", intName(t))
	}
	if d.Form == apd.Infinite {
		return 0, evalErr("cannot convert infinity to %s", intName(t))
	}
	r := divRound(d, apd.New(1, 0), 0)
	s := r.Coeff.String()
	if r.Negative {
		s = "-" + s
	}
	i, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, outOfRange(t)
	}
	return checkRange(i, t)
}
