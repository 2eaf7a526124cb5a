package where

import (
	"math"
	"strconv"

	"github.com/cockroachdb/apd/v3"
)

// floatToInt is float8_int2/4/8 and float4_int2/4/8: rint, then a range
// check that refuses NaN.
func floatToInt(f float64, t Type) (int64, error) {
	r := math.RoundToEven(f)
	var lo, hi float64 // hi exclusive, as FLOAT8_FITS_IN_INT*
	switch t {
	case Int2:
		lo, hi = math.MinInt16, -math.MinInt16
	case Int4:
		lo, hi = math.MinInt32, -math.MinInt32
	default:
		lo, hi = math.MinInt64, -math.MinInt64
	}
	if math.IsNaN(r) || r < lo || r >= hi {
		return 0, outOfRange(t)
	}
	return int64(r), nil
}

// floatToNumeric is float8_numeric / float4_numeric of Postgres 15.
func floatToNumeric(f float64, t Type) (Value, error) {
	switch {
	case math.IsNaN(f):
		return nan(), nil
	case math.IsInf(f, 1):
		return infinity(1), nil
	case math.IsInf(f, -1):
		return infinity(-1), nil
	}
	digits := 15
	if t == Float4 {
		digits = 6
	}
	d, _, err := apd.NewFromString(strconv.FormatFloat(f, 'g', digits, 64))
	if err != nil {
		return Value{}, evalErr("cannot convert %v to numeric", f)
	}
	return normNumeric(d)
}

// numericToFloat is numeric_float8 / numeric_float4: numeric_out read
// back by the float input function.
func numericToFloat(d *apd.Decimal, t Type) (Value, error) {
	switch {
	case isNaN(d):
		return Value{t: t, f: math.NaN()}, nil
	case d.Form == apd.Infinite && d.Negative:
		return Value{t: t, f: math.Inf(-1)}, nil
	case d.Form == apd.Infinite:
		return Value{t: t, f: math.Inf(1)}, nil
	}
	return parseFloat(numericText(d), t)
}

// castFloat is every cast to or from float4 and float8 other than text.
func castFloat(v Value, t Type) (Value, error) {
	switch {
	case isFloat(v.t) && isFloat(t):
		if t == Float8 {
			return Value{t: t, f: v.f}, nil
		}
		r := float64(float32(v.f))
		if math.IsInf(r, 0) && !math.IsInf(v.f, 0) {
			return Value{}, errFloatOverflow
		}
		if r == 0 && v.f != 0 {
			return Value{}, errFloatUnderflow
		}
		return Value{t: t, f: r}, nil
	case isInteger(v.t) && isFloat(t):
		if t == Float4 {
			return Value{t: t, f: float64(float32(v.i))}, nil
		}
		return Value{t: t, f: float64(v.i)}, nil
	case v.t == Numeric && isFloat(t):
		r, err := numericToFloat(v.d, t)
		return r, err
	case isFloat(v.t) && isInteger(t):
		i, err := floatToInt(v.f, t)
		return Value{t: t, i: i}, err
	case isFloat(v.t) && t == Numeric:
		r, err := floatToNumeric(v.f, v.t)
		return r, err
	}
	return Value{}, evalErr("unknown cast from type %s to type %s", v.t, t)
}
