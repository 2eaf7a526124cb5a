package where

import (
	"math"
	"strconv"
	"strings"
)

// Date and time values follow Postgres 15's representation, so that
// arithmetic, overflow and rounding happen exactly where Postgres's do:
// a date is days from 2000-01-01 (int32, ±infinity at its ends); a
// timestamp or timestamptz is microseconds from 2000-01-01 00:00 (int64,
// ±infinity at its ends; timestamptz is UTC, the session's TimeZone by
// SHAPE_API §12.6); a time is microseconds from midnight. All are in
// Value.i. Dates are proleptic Gregorian with astronomical years (1 BC is
// year 0), as Postgres computes them.

const (
	Date        Type = "date"
	Timestamp   Type = "timestamp"
	TimestampTZ Type = "timestamptz"
	Time        Type = "time"
	Interval    Type = "interval"
)

const (
	usecsPerSec  = 1_000_000
	usecsPerMin  = 60 * usecsPerSec
	usecsPerHour = 60 * usecsPerMin
	usecsPerDay  = 24 * usecsPerHour

	epochJulian        = 2451545    // POSTGRES_EPOCH_JDATE: 2000-01-01
	unixEpochJulian    = 2440588    // 1970-01-01
	dateEndJulian      = 2147483494 // DATE_END_JULIAN: 5874898-01-01
	timestampEndJulian = 109203528  // TIMESTAMP_END_JULIAN: 294277-01-01

	dateNoBegin = math.MinInt32
	dateNoEnd   = math.MaxInt32
	tsNoBegin   = math.MinInt64
	tsNoEnd     = math.MaxInt64
	minTS       = -211813488000000000 // 4714-11-24 00:00 BC
	endTS       = 9223371331200000000 // 294277-01-01 00:00
)

func isDateTime(t Type) bool {
	return t == Date || t == Timestamp || t == TimestampTZ || t == Time || t == Interval
}

func isTimestamp(t Type) bool { return t == Timestamp || t == TimestampTZ }

// dateKind ranks date < timestamp < timestamptz, the implicit cast chain.
func dateKind(t Type) int {
	switch t {
	case Date:
		return 1
	case Timestamp:
		return 2
	case TimestampTZ:
		return 3
	}
	return 0
}

// julian is the Julian day number of a proleptic Gregorian date
// (astronomical year), the same number as Postgres's date2j.
func julian(y, m, d int64) int64 {
	if m > 2 {
		m++
		y += 4800
	} else {
		m += 13
		y += 4799
	}
	c := floorDiv(y, 100)
	j := y*365 - 32167
	j += floorDiv(y, 4) - c + floorDiv(c, 4)
	j += 7834*m/256 + d
	return j
}

// civil is the inverse of julian.
func civil(j int64) (y, m, d int64) {
	// Days from 0000-03-01 (a leap cycle starts after February).
	z := j - 1721120
	era := floorDiv(z, 146097)
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = doy - (153*mp+2)/5 + 1
	m = mp + 3
	if m > 12 {
		m -= 12
	}
	y = yoe + era*400
	if m <= 2 {
		y++
	}
	return y, m, d
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func isLeap(y int64) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

func daysIn(y, m int64) int64 {
	switch m {
	case 2:
		if isLeap(y) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

func pad(n int64, width int) string {
	s := strconv.FormatInt(n, 10)
	for len(s) < width {
		s = "0" + s
	}
	return s
}

// dateText is date_out under DateStyle ISO.
func dateText(days int64) string {
	switch days {
	case dateNoEnd:
		return "infinity"
	case dateNoBegin:
		return "-infinity"
	}
	y, m, d := civil(days + epochJulian)
	s := ymd(y, m, d)
	if y <= 0 {
		s += " BC"
	}
	return s
}

func ymd(y, m, d int64) string {
	if y <= 0 {
		y = 1 - y
	}
	return pad(y, 4) + "-" + pad(m, 2) + "-" + pad(d, 2)
}

// clockText is HH:MM:SS with the fraction trimmed of trailing zeros.
func clockText(us int64) string {
	s := pad(us/usecsPerHour, 2) + ":" + pad(us/usecsPerMin%60, 2) + ":" + pad(us/usecsPerSec%60, 2)
	if f := us % usecsPerSec; f != 0 {
		s += "." + strings.TrimRight(pad(f, 6), "0")
	}
	return s
}

// timestampText is timestamp_out / timestamptz_out under DateStyle ISO
// and TimeZone UTC.
func timestampText(t Type, ts int64) string {
	switch ts {
	case tsNoEnd:
		return "infinity"
	case tsNoBegin:
		return "-infinity"
	}
	days, tod := floorDiv(ts, usecsPerDay), ts-floorDiv(ts, usecsPerDay)*usecsPerDay
	y, m, d := civil(days + epochJulian)
	s := ymd(y, m, d) + " " + clockText(tod)
	if t == TimestampTZ {
		s += "+00"
	}
	if y <= 0 {
		s += " BC"
	}
	return s
}

// dateToTimestamp is date2timestamp (and date2timestamptz in UTC).
func dateToTimestamp(days int64) (int64, error) {
	switch days {
	case dateNoEnd:
		return tsNoEnd, nil
	case dateNoBegin:
		return tsNoBegin, nil
	}
	if days >= timestampEndJulian-epochJulian {
		return 0, evalErr("date out of range for timestamp")
	}
	return days * usecsPerDay, nil
}

func timestampToDate(ts int64) int64 {
	switch ts {
	case tsNoEnd:
		return dateNoEnd
	case tsNoBegin:
		return dateNoBegin
	}
	return floorDiv(ts, usecsPerDay)
}

// castDateTime converts between date/time types (text handled by the
// caller); Check has allowed only casts Postgres has.
func castDateTime(v Value, t Type) (Value, error) {
	switch {
	case v.t == Date && isTimestamp(t):
		ts, err := dateToTimestamp(v.i)
		return Value{t: t, i: ts}, err
	case isTimestamp(v.t) && t == Date:
		return Value{t: Date, i: timestampToDate(v.i)}, nil
	case isTimestamp(v.t) && isTimestamp(t):
		return Value{t: t, i: v.i}, nil
	case isTimestamp(v.t) && t == Time:
		if v.i == tsNoEnd || v.i == tsNoBegin {
			return nullOf(Time), nil // timestamp_time returns NULL for infinity
		}
		return Value{t: Time, i: v.i - floorDiv(v.i, usecsPerDay)*usecsPerDay}, nil
	case v.t == Time && t == Interval:
		return Value{t: Interval, iv: ival{micros: v.i}}, nil
	case v.t == Interval && t == Time:
		// interval_time's arithmetic, wrapping as C's does: the minimum
		// interval gives 28:00:54.775808 in Postgres 15 too.
		r := v.iv.micros
		if r >= usecsPerDay {
			r -= r / usecsPerDay * usecsPerDay
		} else if r < 0 {
			days := (-r + usecsPerDay - 1) / usecsPerDay
			r += days * usecsPerDay
		}
		return Value{t: Time, i: r}, nil
	}
	return Value{}, evalErr("unknown cast from type %s to type %s", v.t, t)
}

// canCastDateTime lists the casts among date/time types Postgres has.
func canCastDateTime(from, to Type) bool {
	switch {
	case dateKind(from) > 0 && dateKind(to) > 0:
		return true
	case isTimestamp(from) && to == Time:
		return true
	case from == Time && to == Interval, from == Interval && to == Time:
		return true
	}
	return false
}

// compareDateTime orders two values of one date/time type.
func compareDateTime(a, b Value) int {
	if a.t == Interval {
		return compareInterval(a.iv, b.iv)
	}
	switch {
	case a.i < b.i:
		return -1
	case a.i > b.i:
		return 1
	}
	return 0
}

// parseDateTime is the input function of a date/time type.
func parseDateTime(t Type, s string) (Value, error) {
	switch t {
	case Date:
		return parseDate(s)
	case Time:
		return parseTime(s)
	case Interval:
		return parseInterval(s)
	}
	return parseTimestamp(t, s)
}

// dateTimeText is the output function of a date/time type under the
// display settings of SHAPE_API §12.6.
func dateTimeText(v Value) string {
	switch v.t {
	case Date:
		return dateText(v.i)
	case Time:
		return clockText(v.i)
	case Interval:
		return intervalText(v.iv)
	}
	return timestampText(v.t, v.i)
}
