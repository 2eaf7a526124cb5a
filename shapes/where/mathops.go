package where

import (
	"math"
	"strconv"

	"github.com/cockroachdb/apd/v3"
)

// The operators beyond + - * / %: ^ (dpow), the prefix |/ (dsqrt), @
// (abs) and ~ (bitwise not), and the integer operators & | # << >>. They
// are arith nodes with these op names; precedence and associativity come
// from libpg_query's grammar. The operand types follow Postgres's operator
// resolution (verified against Postgres 15): ^ is float8 unless an operand
// is numeric and none is a float (numeric ^ numeric, which is not
// evaluated here: its result scale rules are not reproduced); |/ takes
// float8; @ keeps its operand's numeric type; & | # take both integers to
// one type; << >> keep the left integer type and take an int4 count.

func isExtOp(op string) bool {
	switch op {
	case "^", "&", "|", "#", "<<", ">>", "||":
		return true
	}
	return false
}

func isPrefixOp(op string) bool { return op == "|/" || op == "@" || op == "~" }

func (c *checker) checkExtOp(x *arith) (node, error) {
	r, err := c.check(x.r)
	if err != nil {
		return nil, err
	}
	if x.l == nil {
		return c.checkPrefix(x, r)
	}
	l, err := c.check(x.l)
	if err != nil {
		return nil, err
	}
	lt, rt := l.typ(), r.typ()
	noOp := func() (node, error) {
		if lt == Unknown && rt == Unknown {
			return nil, errAt(x, "operator is not unique: unknown %s unknown", x.op)
		}
		return nil, errAt(x, "operator does not exist: %s %s %s", lt, x.op, rt)
	}
	mk := func(t, lt, rt Type) (node, error) {
		if l, err = c.coerce(l, lt); err != nil {
			return nil, err
		}
		if r, err = c.coerce(r, rt); err != nil {
			return nil, err
		}
		return &arith{pos: x.pos, op: x.op, l: l, r: r, t: t}, nil
	}
	numOrUnknown := func(t Type) bool { return t == Unknown || isNumber(t) }
	switch x.op {
	case "^":
		if !numOrUnknown(lt) || !numOrUnknown(rt) {
			return noOp()
		}
		if (lt == Numeric || rt == Numeric) && !isFloat(lt) && !isFloat(rt) {
			return nil, errAt(x, "operator ^ on numeric is not supported; cast an operand to float8")
		}
		return mk(Float8, Float8, Float8)
	case "<<", ">>":
		if lt == Unknown && rt == Int4 {
			lt = Int4
		}
		if !isInteger(lt) || rt != Unknown && rt != Int2 && rt != Int4 {
			return noOp()
		}
		return mk(lt, lt, Int4)
	}
	t, ok := commonType(lt, rt)
	if !ok || !isInteger(t) {
		return noOp()
	}
	return mk(t, t, t)
}

func (c *checker) checkPrefix(x *arith, r node) (node, error) {
	rt := r.typ()
	t := rt
	switch {
	case x.op == "|/" && (rt == Unknown || isNumber(rt)):
		t = Float8
	case x.op == "@" && rt == Unknown:
		t = Float8
	case x.op == "@" && isNumber(rt), x.op == "~" && isInteger(rt):
	case x.op == "~" && rt == Unknown:
		return nil, errAt(x, "operator is not unique: %s unknown", x.op)
	default:
		return nil, errAt(x, "operator does not exist: %s %s", x.op, rt)
	}
	r, err := c.coerce(r, t)
	if err != nil {
		return nil, err
	}
	return &arith{pos: x.pos, op: x.op, r: r, t: t}, nil
}

// prefixOp evaluates |/, @ and ~ on a non-NULL operand of type t.
func prefixOp(op string, v Value, t Type) (Value, error) {
	switch op {
	case "|/":
		if v.f < 0 {
			return Value{}, evalErr("cannot take square root of a negative number")
		}
		return Value{t: t, f: math.Sqrt(v.f)}, nil
	case "~":
		i, _ := checkRange(^v.i, t) // ~ never leaves the type's range
		return Value{t: t, i: i}, nil
	}
	switch {
	case isFloat(t):
		return Value{t: t, f: math.Abs(v.f)}, nil
	case t == Numeric:
		d := new(apd.Decimal).Set(v.d)
		if d.Form != apd.NaN && d.Form != apd.NaNSignaling {
			d.Negative = false
		}
		return Value{t: t, d: d}, nil
	}
	if v.i >= 0 {
		return v, nil
	}
	if v.i == math.MinInt64 {
		return Value{}, outOfRange(t)
	}
	i, err := checkRange(-v.i, t)
	return Value{t: t, i: i}, err
}

// infixOp evaluates ^ and the bitwise operators on non-NULL operands.
func infixOp(op string, l, r Value, t Type) (Value, error) {
	switch op {
	case "||":
		return Value{t: Bytea, s: l.s + r.s}, nil
	case "^":
		f, err := floatPow(l.f, r.f)
		return Value{t: Float8, f: f}, err
	}
	var i int64
	switch op {
	case "&":
		i = l.i & r.i
	case "|":
		i = l.i | r.i
	case "#":
		i = l.i ^ r.i
	default:
		i = shift(op, l.i, r.i, t)
	}
	return Value{t: t, i: i}, nil
}

// shift is int2shl/int4shl/int8shl and the right shifts as compiled on
// x86-64: the count is taken modulo 32 (int2 and int4, which shift as C
// int) or 64, the right shift is arithmetic, and an int2 result is
// truncated to 16 bits.
func shift(op string, a, n int64, t Type) int64 {
	if t == Int8 {
		k := uint(n & 63)
		if op == "<<" {
			return a << k
		}
		return a >> k
	}
	k := uint(n & 31)
	var r int32
	if op == "<<" {
		r = int32(a) << k
	} else {
		r = int32(a) >> k
	}
	if t == Int2 {
		return int64(int16(r))
	}
	return int64(r)
}

// floatPow is dpow of Postgres 15, with its own handling of NaN, infinite
// and domain-error arguments; finite powers are computed to 40 digits and
// rounded once, the correctly rounded result glibc's pow gives.
func floatPow(x, y float64) (float64, error) {
	switch {
	case math.IsNaN(x):
		if math.IsNaN(y) || y != 0 {
			return math.NaN(), nil
		}
		return 1, nil
	case math.IsNaN(y):
		if x != 1 {
			return math.NaN(), nil
		}
		return 1, nil
	case x == 0 && y < 0:
		return 0, evalErr("zero raised to a negative power is undefined")
	case x < 0 && math.Floor(y) != y:
		return 0, evalErr("a negative number raised to a non-integer power yields a complex result")
	case math.IsInf(y, 0):
		ax := math.Abs(x)
		switch {
		case ax == 1:
			return 1, nil
		case y > 0 && ax > 1, y < 0 && ax < 1:
			return math.Inf(1), nil
		}
		return 0, nil
	case math.IsInf(x, 0):
		switch {
		case y == 0:
			return 1, nil
		case x > 0 && y > 0:
			return x, nil
		case x > 0:
			return 0, nil
		}
		odd := math.Floor(y/2) != y/2
		switch {
		case y > 0 && odd:
			return x, nil
		case y > 0:
			return -x, nil
		case odd:
			return math.Copysign(0, -1), nil
		}
		return 0, nil
	}
	r := finitePow(x, y)
	if math.IsInf(r, 0) {
		return 0, errFloatOverflow
	}
	if r == 0 && x != 0 {
		return 0, errFloatUnderflow
	}
	return r, nil
}

// finitePow is pow(x, y) for finite x and y, x ≥ 0 or y an integer.
func finitePow(x, y float64) float64 {
	neg := x < 0 && math.Floor(y/2) != y/2
	ax := math.Abs(x)
	switch {
	case y == 0, ax == 1 && !neg:
		return 1
	case ax == 1:
		return -1
	case ax == 0:
		if neg {
			return math.Copysign(0, -1)
		}
		return 0
	}
	sign := 1.0
	if neg {
		sign = -1
	}
	// The exponent of the result decides overflow and underflow long
	// before precision matters.
	if e := y * math.Log2(ax); e > 1100 {
		return sign * math.Inf(1)
	} else if e < -1200 {
		return sign * 0
	}
	ctx := apd.BaseContext.WithPrecision(40)
	bx, _, err1 := apd.NewFromString(strconv.FormatFloat(ax, 'e', 45, 64))
	by, _, err2 := apd.NewFromString(strconv.FormatFloat(y, 'e', 45, 64))
	var d apd.Decimal
	if err1 != nil || err2 != nil {
		return math.NaN()
	}
	if _, err := ctx.Pow(&d, bx, by); err != nil {
		return math.NaN()
	}
	f, err := strconv.ParseFloat(d.Text('e'), 64)
	if err != nil && !math.IsInf(f, 0) {
		return math.NaN()
	}
	return sign * f
}
