package where

import (
	"math"
	"math/big"
	"strconv"
)

// floatShortest is the digit string and decimal exponent (of the first
// digit) that Postgres 15's float8out / float4out print with
// extra_float_digits > 0: Ryu's round-trip digits (d2s.c / f2s.c, with
// Postgres's exact path for integers below 2^53 (2^24)). Postgres's Ryu
// never accepts a half-way point between two floats as the answer
// (verified on random values of every exponent: 2.0567e21 prints as
// 2.0567000000000001e+21, 1e23 as 9.999999999999999e+22), where strconv
// accepts both when the mantissa is even; so Ryu is reproduced step by
// step, with the products it takes from its tables computed exactly with
// math/big, which is what the tables are proven to give.
func floatShortest(f float64, bits int) (string, int) {
	var mant uint64
	var exp, mbits, bias int
	if bits == 32 {
		b := math.Float32bits(float32(f))
		mant, exp, mbits, bias = uint64(b&(1<<23-1)), int(b>>23&0xff), 23, 127
	} else {
		b := math.Float64bits(f)
		mant, exp, mbits, bias = b&(1<<52-1), int(b>>52&0x7ff), 52, 1023
	}
	if out, e, ok := smallInt(mant, exp, mbits, bias); ok {
		return out, e
	}
	var e2 int
	var m2 uint64
	if exp == 0 {
		e2, m2 = 1-bias-mbits-2, mant
	} else {
		e2, m2 = exp-bias-mbits-2, 1<<mbits|mant
	}
	mv, mp := 4*m2, 4*m2+2
	mmShift := uint64(0)
	if mant != 0 || exp <= 1 {
		mmShift = 1 // the gap below a normal power of two is half as wide
	}
	mm := 4*m2 - 1 - mmShift
	var vr, vp, vm uint64
	var e10 int
	vrTrailingZeros := false
	lastRemoved := uint64(0)
	if e2 >= 0 {
		q := log10Pow2(e2)
		if bits == 64 && e2 > 3 {
			q--
		}
		e10 = q
		vr, vp, vm = scaleDown(mv, e2, q), scaleDown(mp, e2, q), scaleDown(mm, e2, q)
		if bits == 32 && q != 0 && (vp-1)/10 <= vm/10 {
			lastRemoved = scaleDown(mv, e2, q-1) % 10
		}
		limit := 21
		if bits == 32 {
			limit = 9
		}
		if q <= limit {
			switch {
			case mv%5 == 0:
				vrTrailingZeros = multipleOfPow5(mv, q)
			case multipleOfPow5(mp, q):
				vp-- // the upper bound is excluded
			}
		}
	} else {
		q := log10Pow5(-e2)
		if bits == 64 && -e2 > 1 {
			q--
		}
		e10 = q + e2
		i := -e2 - q
		vr, vp, vm = scaleUp(mv, i, q), scaleUp(mp, i, q), scaleUp(mm, i, q)
		if bits == 32 && q != 0 && (vp-1)/10 <= vm/10 {
			lastRemoved = scaleUp(mv, i+1, q-1) % 10
		}
		switch {
		case q <= 1:
			vrTrailingZeros = true
			vp--
		case bits == 64 && q < 63:
			vrTrailingZeros = mv&(1<<uint(q)-1) == 0
		case bits == 32 && q < 31:
			vrTrailingZeros = mv&(1<<uint(q-1)-1) == 0
		}
	}
	removed := 0
	for vp/10 > vm/10 {
		vrTrailingZeros = vrTrailingZeros && lastRemoved == 0
		lastRemoved = vr % 10
		vr, vp, vm = vr/10, vp/10, vm/10
		removed++
	}
	if vrTrailingZeros && lastRemoved == 5 && vr%2 == 0 {
		lastRemoved = 4 // exactly half-way: round to even
	}
	out := vr
	if vr == vm || lastRemoved >= 5 {
		out++ // vr is below the interval, or the removed digits round up
	}
	s := strconv.FormatUint(out, 10)
	return s, e10 + removed + len(s) - 1
}

// smallInt is Postgres's d2d_small_int / f2d_small_int: an integer value
// below 2^(mbits+1) prints its exact digits.
func smallInt(mant uint64, exp, mbits, bias int) (string, int, bool) {
	e2 := exp - bias - mbits
	if exp == 0 || e2 < -mbits || e2 > 0 {
		return "", 0, false
	}
	if mant&(1<<uint(-e2)-1) != 0 {
		return "", 0, false
	}
	v := (1<<uint(mbits) | mant) >> uint(-e2)
	s := strconv.FormatUint(v, 10)
	n := len(s)
	for len(s) > 1 && s[len(s)-1] == '0' {
		s = s[:len(s)-1]
	}
	return s, n - 1, true
}

func log10Pow2(e int) int { return int(uint32(e) * 78913 >> 18) }

func log10Pow5(e int) int { return int(uint32(e) * 732923 >> 20) }

// scaleDown is floor(m × 2^e2 / 10^q), e2 ≥ 0.
func scaleDown(m uint64, e2, q int) uint64 {
	n := new(big.Int).Lsh(new(big.Int).SetUint64(m), uint(e2))
	return n.Quo(n, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(q)), nil)).Uint64()
}

// scaleUp is floor(m × 5^i / 2^q).
func scaleUp(m uint64, i, q int) uint64 {
	n := new(big.Int).Mul(new(big.Int).SetUint64(m), new(big.Int).Exp(big.NewInt(5), big.NewInt(int64(i)), nil))
	return n.Rsh(n, uint(q)).Uint64()
}

func multipleOfPow5(m uint64, q int) bool {
	for ; q > 0; q-- {
		if m%5 != 0 {
			return false
		}
		m /= 5
	}
	return true
}
