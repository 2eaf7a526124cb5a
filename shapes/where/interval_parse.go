package where

import (
	"math"
	"strconv"
	"strings"
)

// intervalAcc accumulates interval fields as Postgres 15's interval_in
// does (struct pg_itm_in): years, months and days in int32, time in int64
// microseconds, each addition checked for overflow, months = years*12 +
// months checked at the end.
type intervalAcc struct {
	years, months, days int64
	micros              int64
	seen                int // bitmask of units seen; a repeated unit is an error
	bad                 bool
}

const (
	unitYear = 1 << iota
	unitMonth
	unitDay
	unitHour
	unitMinute
	unitSecond
)

func (a *intervalAcc) mark(bits int) {
	if a.seen&bits != 0 {
		a.bad = true
	}
	a.seen |= bits
}

func (a *intervalAcc) add32(field *int64, v int64) {
	if v < math.MinInt32 || v > math.MaxInt32 {
		a.bad = true
		return
	}
	*field += v
	if *field < math.MinInt32 || *field > math.MaxInt32 {
		a.bad = true
	}
}

// addMicros adds v*scale plus a rounded fraction of scale.
func (a *intervalAcc) addMicros(v, scale int64, frac float64) {
	hi, lo := mul64(v, scale)
	if !hi {
		a.bad = true
		return
	}
	var ok bool
	if a.micros, ok = add64(a.micros, lo); !ok {
		a.bad = true
		return
	}
	if frac != 0 {
		us := int64(math.RoundToEven(frac * float64(scale)))
		if a.micros, ok = add64(a.micros, us); !ok {
			a.bad = true
		}
	}
}

// mul64 is v*scale; ok is false on overflow.
func mul64(v, scale int64) (bool, int64) {
	if v == 0 {
		return true, 0
	}
	r := v * scale
	if r/scale != v || (v == -1 && scale == math.MinInt64) {
		return false, 0
	}
	return true, r
}

func (a *intervalAcc) result(s string) (Value, error) {
	months := a.years*12 + a.months
	if a.bad || months < math.MinInt32 || months > math.MaxInt32 {
		return Value{}, evalErr("interval field value out of range: %q", s)
	}
	return Value{t: Interval, iv: ival{months: int32(months), days: int32(a.days), micros: a.micros}}, nil
}

// parseInterval is interval_in for two forms: ISO 8601 with designators
// (P1Y2M3DT4H5M6.5S, each field an optionally signed integer, seconds
// with a fraction; the iso_8601 output form) and the verbose form
// ("1 year 2 mons -3 days 04:05:06.5 ago", integer counts, units year,
// mon, month, week-less day, hour, min, minute, sec, second and their
// plurals). Anything else is unsupportedSyntax.
func parseInterval(s string) (Value, error) {
	body := strings.Trim(s, " ")
	if strings.HasPrefix(body, "P") {
		if body != s { // Postgres reads no space around the ISO form
			return Value{}, &unsupportedSyntax{t: Interval}
		}
		return parseISOInterval(s, body[1:])
	}
	return parseVerboseInterval(s, body)
}

// signedNumber reads [+-]digits[.digits] at the start of s.
func signedNumber(s string, allowFrac bool) (ip int64, frac float64, rest string, ok bool) {
	i := 0
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	start := i
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == start || i-start > 18 {
		return 0, 0, "", false
	}
	ip, err := strconv.ParseInt(s[start:i], 10, 64)
	if err != nil {
		return 0, 0, "", false
	}
	if allowFrac && i < len(s) && s[i] == '.' {
		j := i + 1
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		if j == i+1 {
			return 0, 0, "", false
		}
		if frac, err = strconv.ParseFloat("0"+s[i:j], 64); err != nil {
			return 0, 0, "", false
		}
		i = j
	}
	if neg {
		ip, frac = -ip, -frac
	}
	return ip, frac, s[i:], true
}

// isoNumber is ParseISO8601Number: the number as strtod reads it (we
// accept -?digits[.digits]), at most 1e15 in magnitude, split into its
// integer part and the float remainder.
func isoNumber(s string) (ip int64, frac float64, rest string, ok, overflow bool) {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	start := i
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == start {
		return 0, 0, "", false, false
	}
	if i < len(s) && s[i] == '.' {
		j := i + 1
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		if j == i+1 {
			return 0, 0, "", false, false
		}
		i = j
	}
	val, err := strconv.ParseFloat(s[:i], 64)
	if err != nil || val < -1e15 || val > 1e15 {
		return 0, 0, s[i:], true, true
	}
	ip = int64(math.Trunc(val))
	return ip, val - float64(ip), s[i:], true, false
}

// addFracMicros is AdjustFractMicroseconds: the fraction times scale,
// truncated, then rounded away from zero only past one half.
func (a *intervalAcc) addFracMicros(frac float64, scale int64) {
	if frac == 0 {
		return
	}
	frac *= float64(scale)
	us := int64(frac)
	frac -= float64(us)
	if frac > 0.5 {
		us++
	} else if frac < -0.5 {
		us--
	}
	var ok bool
	if a.micros, ok = add64(a.micros, us); !ok {
		a.bad = true
	}
}

func parseISOInterval(orig, s string) (Value, error) {
	unsupported := func() (Value, error) { return Value{}, &unsupportedSyntax{t: Interval} }
	var a intervalAcc
	inTime, fields := false, 0
	order := "YMD"
	for s != "" {
		if !inTime && s[0] == 'T' {
			inTime, order, s = true, "HMS", s[1:]
			if s == "" {
				return unsupported()
			}
			continue
		}
		v, frac, rest, ok, overflow := isoNumber(s)
		if !ok || rest == "" {
			return unsupported()
		}
		unit := rest[0]
		k := strings.IndexByte(order, unit)
		if k < 0 || frac != 0 && !inTime {
			return unsupported()
		}
		order = order[k+1:] // designators in order, each at most once
		s = rest[1:]
		fields++
		if overflow {
			a.bad = true
			continue
		}
		switch {
		case !inTime && unit == 'Y':
			a.add32(&a.years, v)
		case !inTime && unit == 'M':
			a.add32(&a.months, v)
		case !inTime && unit == 'D':
			a.add32(&a.days, v)
		case unit == 'H':
			a.addMicros(v, usecsPerHour, 0)
			a.addFracMicros(frac, usecsPerHour)
		case unit == 'M':
			a.addMicros(v, usecsPerMin, 0)
			a.addFracMicros(frac, usecsPerMin)
		default:
			a.addMicros(v, usecsPerSec, 0)
			a.addFracMicros(frac, usecsPerSec)
		}
	}
	if fields == 0 {
		return unsupported()
	}
	return a.result(orig)
}

var intervalUnits = map[string]int{
	"year": unitYear, "years": unitYear,
	"mon": unitMonth, "mons": unitMonth, "month": unitMonth, "months": unitMonth,
	"day": unitDay, "days": unitDay,
	"hour": unitHour, "hours": unitHour,
	"min": unitMinute, "mins": unitMinute, "minute": unitMinute, "minutes": unitMinute,
	"sec": unitSecond, "secs": unitSecond, "second": unitSecond, "seconds": unitSecond,
}

func parseVerboseInterval(orig, s string) (Value, error) {
	unsupported := func() (Value, error) { return Value{}, &unsupportedSyntax{t: Interval} }
	toks := strings.Fields(s)
	if len(toks) == 0 || strings.ContainsAny(s, "\t\n\r\v\f") {
		return unsupported()
	}
	ago := false
	if strings.EqualFold(toks[len(toks)-1], "ago") {
		ago, toks = true, toks[:len(toks)-1]
		if len(toks) == 0 {
			return unsupported()
		}
	}
	var a intervalAcc
	for i := 0; i < len(toks); i++ {
		tok := toks[i]
		if strings.Contains(tok, ":") {
			us, ok, bad := clockInterval(tok)
			if !ok {
				return unsupported()
			}
			a.mark(unitHour | unitMinute | unitSecond)
			if bad {
				a.bad = true
			}
			var added bool
			if a.micros, added = add64(a.micros, us); !added {
				a.bad = true
			}
			continue
		}
		v, _, rest, ok := signedNumber(tok, false)
		if !ok || rest != "" || i+1 >= len(toks) {
			return unsupported()
		}
		unit, ok := intervalUnits[strings.ToLower(toks[i+1])]
		if !ok {
			return unsupported()
		}
		i++
		a.mark(unit)
		switch unit {
		case unitYear:
			a.add32(&a.years, v)
		case unitMonth:
			a.add32(&a.months, v)
		case unitDay:
			a.add32(&a.days, v)
		case unitHour:
			a.addMicros(v, usecsPerHour, 0)
		case unitMinute:
			a.addMicros(v, usecsPerMin, 0)
		default:
			a.addMicros(v, usecsPerSec, 0)
		}
	}
	if ago && !a.bad {
		if a.years == math.MinInt32 || a.months == math.MinInt32 || a.days == math.MinInt32 || a.micros == math.MinInt64 {
			a.bad = true
		}
		a.years, a.months, a.days, a.micros = -a.years, -a.months, -a.days, -a.micros
	}
	return a.result(orig)
}

// clockInterval reads [+-]H+:MM[:SS[.fraction]] as microseconds; bad is
// a field out of range (minutes or seconds ≥ 60, hours overflowing).
func clockInterval(tok string) (us int64, ok, bad bool) {
	neg := false
	if tok[0] == '+' || tok[0] == '-' {
		neg = tok[0] == '-'
		tok = tok[1:]
	}
	parts := strings.Split(tok, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return 0, false, false
	}
	h, err := strconv.ParseInt(parts[0], 10, 64)
	if err != nil || parts[0] == "" || strings.ContainsAny(parts[0], "+-") || len(parts[0]) > 10 {
		return 0, false, false
	}
	if len(parts[1]) != 2 || !allDigits(parts[1]) {
		return 0, false, false
	}
	m, _ := strconv.ParseInt(parts[1], 10, 64)
	var sec int64
	var frac float64
	if len(parts) == 3 {
		secPart, fracPart, hasFrac := strings.Cut(parts[2], ".")
		if len(secPart) != 2 || !allDigits(secPart) || hasFrac && (fracPart == "" || !allDigits(fracPart)) {
			return 0, false, false
		}
		sec, _ = strconv.ParseInt(secPart, 10, 64)
		if hasFrac {
			frac, _ = strconv.ParseFloat("0."+fracPart, 64)
		}
	}
	if m >= 60 || sec > 60 {
		return 0, true, true
	}
	okh, hu := mul64(h, usecsPerHour)
	if !okh {
		return 0, true, true
	}
	us, okAdd := add64(hu, m*usecsPerMin+sec*usecsPerSec+int64(math.RoundToEven(frac*usecsPerSec)))
	if !okAdd {
		return 0, true, true
	}
	if neg {
		us = -us
	}
	return us, true, false
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
