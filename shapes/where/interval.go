package where

import (
	"math"
	"strconv"
	"strings"
)

// ival is Postgres's interval: months and days are int32 and kept apart
// from the microseconds, because their length depends on the calendar.
type ival struct {
	months, days int32
	micros       int64
}

const daysPerMonth = 30

// spanDays is interval_cmp_value split into whole days and a remainder:
// months count 30 days and days 24 hours, and the sum is exact.
func (v ival) spanDays() (int64, int64) {
	d := int64(v.months)*daysPerMonth + int64(v.days) + floorDiv(v.micros, usecsPerDay)
	return d, v.micros - floorDiv(v.micros, usecsPerDay)*usecsPerDay
}

func compareInterval(a, b ival) int {
	ad, ar := a.spanDays()
	bd, br := b.spanDays()
	switch {
	case ad < bd, ad == bd && ar < br:
		return -1
	case ad > bd, ad == bd && ar > br:
		return 1
	}
	return 0
}

func intervalRange() error { return evalErr("interval out of range") }

func add32(a, b int32) (int32, bool) {
	r := a + b
	return r, !((a >= 0) == (b >= 0) && (r >= 0) != (a >= 0))
}

func add64(a, b int64) (int64, bool) {
	r := a + b
	return r, !((a >= 0) == (b >= 0) && (r >= 0) != (a >= 0))
}

// intervalAdd is interval_pl: each field with int4pl/int8pl's check.
func intervalAdd(a, b ival) (ival, error) {
	var r ival
	var ok1, ok2, ok3 bool
	r.months, ok1 = add32(a.months, b.months)
	r.days, ok2 = add32(a.days, b.days)
	r.micros, ok3 = add64(a.micros, b.micros)
	if !ok1 || !ok2 || !ok3 {
		return ival{}, intervalRange()
	}
	return r, nil
}

func sub32(a, b int32) (int32, bool) {
	r := a - b
	return r, !((a >= 0) != (b >= 0) && (r >= 0) != (a >= 0))
}

func sub64(a, b int64) (int64, bool) {
	r := a - b
	return r, !((a >= 0) != (b >= 0) && (r >= 0) != (a >= 0))
}

// intervalSub is interval_mi.
func intervalSub(a, b ival) (ival, error) {
	var r ival
	var ok1, ok2, ok3 bool
	r.months, ok1 = sub32(a.months, b.months)
	r.days, ok2 = sub32(a.days, b.days)
	r.micros, ok3 = sub64(a.micros, b.micros)
	if !ok1 || !ok2 || !ok3 {
		return ival{}, intervalRange()
	}
	return r, nil
}

// intervalNeg is interval_um; ok is false when a field is at its minimum.
func intervalNeg(a ival) (ival, bool) {
	if a.months == math.MinInt32 || a.days == math.MinInt32 || a.micros == math.MinInt64 {
		return ival{}, false
	}
	return ival{months: -a.months, days: -a.days, micros: -a.micros}, true
}

// justifyHours is interval_justify_hours: whole days of the time move
// to the days (an overflow of the days is an error), then the signs of
// days and time are made to agree.
func justifyHours(v ival) (ival, error) {
	whole := v.micros / usecsPerDay
	v.micros -= whole * usecsPerDay
	var ok bool
	if v.days, ok = add32(v.days, int32(whole)); !ok || whole != int64(int32(whole)) {
		return ival{}, intervalRange()
	}
	return alignDayTime(v), nil
}

func alignDayTime(v ival) ival {
	switch {
	case v.days > 0 && v.micros < 0:
		v.micros += usecsPerDay
		v.days--
	case v.days < 0 && v.micros > 0:
		v.micros -= usecsPerDay
		v.days++
	}
	return v
}

// daysToMonths moves whole 30-day months of the days to the months.
func daysToMonths(v ival) (ival, error) {
	whole := v.days / daysPerMonth
	v.days -= whole * daysPerMonth
	var ok bool
	if v.months, ok = add32(v.months, whole); !ok {
		return ival{}, intervalRange()
	}
	return v, nil
}

// justifyDays is interval_justify_days.
func justifyDays(v ival) (ival, error) {
	v, err := daysToMonths(v)
	if err != nil {
		return ival{}, err
	}
	switch {
	case v.months > 0 && v.days < 0:
		v.days += daysPerMonth
		v.months--
	case v.months < 0 && v.days > 0:
		v.days -= daysPerMonth
		v.months++
	}
	return v, nil
}

// justifyInterval is interval_justify_interval of Postgres 15: days are
// justified first when that avoids an overflow (days and time of one
// sign), then the time's whole days, then the days' whole months; then
// the signs of all three fields are made to agree.
func justifyInterval(v ival) (ival, error) {
	var err error
	if v.days > 0 && v.micros > 0 || v.days < 0 && v.micros < 0 {
		if v, err = daysToMonths(v); err != nil {
			return ival{}, err
		}
	}
	whole := v.micros / usecsPerDay
	v.micros -= whole * usecsPerDay
	v.days += int32(whole)
	if v, err = daysToMonths(v); err != nil {
		return ival{}, err
	}
	switch {
	case v.months > 0 && (v.days < 0 || v.days == 0 && v.micros < 0):
		v.days += daysPerMonth
		v.months--
	case v.months < 0 && (v.days > 0 || v.days == 0 && v.micros > 0):
		v.days -= daysPerMonth
		v.months++
	}
	return alignDayTime(v), nil
}

// fitsInt32 is FLOAT8_FITS_IN_INT32 (NaN fails it).
func fitsInt32(x float64) bool { return x >= math.MinInt32 && x < -float64(math.MinInt32) }

// tsRound is TSROUND: rounding to microsecond precision in float8.
func tsRound(x float64) float64 { return math.RoundToEven(x*1e6) / 1e6 }

// intervalMul is interval_mul (interval * float8), float8 arithmetic
// step by step as Postgres does it, so the rounding is the same.
func intervalMul(v ival, factor float64) (ival, error) {
	var r ival
	rd := float64(v.months) * factor
	if !fitsInt32(rd) {
		return ival{}, intervalRange()
	}
	r.months = int32(rd)
	rd = float64(v.days) * factor
	if !fitsInt32(rd) {
		return ival{}, intervalRange()
	}
	r.days = int32(rd)
	monthRem := tsRound((float64(v.months)*factor - float64(r.months)) * daysPerMonth)
	secRem := tsRound((float64(v.days)*factor - float64(r.days) + monthRem - float64(int32(monthRem))) * 86400)
	if math.Abs(secRem) >= 86400 {
		r.days += int32(secRem / 86400)
		secRem -= float64(int32(secRem/86400)) * 86400
	}
	r.days += int32(monthRem)
	rd = math.RoundToEven(float64(v.micros)*factor + secRem*usecsPerSec)
	if math.IsNaN(rd) || !(rd >= -9223372036854775808.0 && rd < 9223372036854775808.0) {
		return ival{}, intervalRange()
	}
	r.micros = int64(rd)
	return r, nil
}

// intervalText is interval_out under IntervalStyle iso_8601.
func intervalText(v ival) string {
	if v.months == 0 && v.days == 0 && v.micros == 0 {
		return "PT0S"
	}
	var b strings.Builder
	b.WriteString("P")
	field := func(n int64, unit string) {
		if n != 0 {
			b.WriteString(strconv.FormatInt(n, 10))
			b.WriteString(unit)
		}
	}
	field(int64(v.months/12), "Y")
	field(int64(v.months%12), "M")
	field(int64(v.days), "D")
	t := v.micros
	h := t / usecsPerHour
	t -= h * usecsPerHour
	m := t / usecsPerMin
	t -= m * usecsPerMin
	s := t / usecsPerSec
	f := t - s*usecsPerSec
	if h != 0 || m != 0 || s != 0 || f != 0 {
		b.WriteString("T")
		field(h, "H")
		field(m, "M")
		if s != 0 || f != 0 {
			if s < 0 || f < 0 {
				b.WriteString("-")
			}
			b.WriteString(strconv.FormatInt(absI(s), 10))
			if f != 0 {
				b.WriteString("." + strings.TrimRight(pad(absI(f), 6), "0"))
			}
			b.WriteString("S")
		}
	}
	return b.String()
}

func absI(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}
