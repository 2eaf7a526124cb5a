package where

import (
	"math"
	"strconv"
	"strings"
)

// Input of date, timestamp, timestamptz and time: the ISO 8601 subset
// Postgres reads under DateStyle ISO, DMY, with its field checks.

// dateParts is a parsed date/time literal before it becomes a value.
type dateParts struct {
	special   string // "infinity", "-infinity", "epoch" or ""
	y, m, d   int64  // astronomical year
	timeOfDay int64  // microseconds, up to 24:00:00
	hasTime   bool
	tzSeconds int64 // east of Greenwich; only with hasTZ
	hasTZ     bool
}

// unsupportedSyntax is an input our parser does not read although
// Postgres might: rejected at Check (a 400), never guessed.
type unsupportedSyntax struct{ t Type }

func (u *unsupportedSyntax) Error() string {
	return "unsupported " + u.t.display() + " input syntax"
}

func (t Type) display() string {
	switch t {
	case Timestamp:
		return "timestamp"
	case TimestampTZ:
		return "timestamptz"
	}
	return string(t)
}

// dtScanner reads the ISO 8601 subset we accept.
type dtScanner struct {
	s string
	i int
}

func (p *dtScanner) digits(minN, maxN int) (int64, bool) {
	start := p.i
	var v int64
	for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' && p.i-start < maxN {
		v = v*10 + int64(p.s[p.i]-'0')
		p.i++
	}
	if p.i-start < minN || p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
		return 0, false
	}
	return v, true
}

func (p *dtScanner) eat(c byte) bool {
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *dtScanner) spaces() int {
	n := 0
	for p.i < len(p.s) && p.s[p.i] == ' ' {
		p.i++
		n++
	}
	return n
}

// parseDateParts reads, around optional spaces: infinity, -infinity,
// epoch; or Y-M-D (year of 4 to 7 digits) optionally followed by a space
// or T, H[H]:MM[:SS[.fraction]] and a zone Z, ±HH, ±HHMM, ±HH:MM or
// ±HH:MM:SS; optionally followed by BC. Field ranges are Postgres's:
// a bad field is an error (22008), an unread form is unsupportedSyntax.
func parseDateParts(t Type, s string) (dateParts, error) {
	unsupported := func() (dateParts, error) { return dateParts{}, &unsupportedSyntax{t: t} }
	fieldErr := func() (dateParts, error) {
		return dateParts{}, evalErr("date/time field value out of range: %q", s)
	}
	body := strings.Trim(s, " ")
	switch strings.ToLower(body) {
	case "infinity", "-infinity", "epoch":
		return dateParts{special: strings.ToLower(body)}, nil
	}
	p := &dtScanner{s: body}
	var dp dateParts
	var ok bool
	if dp.y, ok = p.digits(4, 7); !ok || !p.eat('-') {
		return unsupported()
	}
	if dp.m, ok = p.digits(1, 2); !ok || !p.eat('-') {
		return unsupported()
	}
	if dp.d, ok = p.digits(1, 2); !ok {
		return unsupported()
	}
	var h, mi, sec, fsec int64
	if sep := p.spaces(); (sep > 0 || p.eat('T')) && p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
		dp.hasTime = true
		if h, mi, sec, fsec, ok = p.clock(); !ok {
			return unsupported()
		}
		sp := p.spaces()
		switch {
		case sp == 0 && p.eat('Z'):
			dp.hasTZ = true
		case p.i < len(p.s) && (p.s[p.i] == '+' || p.s[p.i] == '-'):
			neg := p.s[p.i] == '-'
			p.i++
			th, ok := p.digits(2, 2)
			if !ok {
				return unsupported()
			}
			var tm, ts int64
			if p.eat(':') {
				if tm, ok = p.digits(2, 2); !ok {
					return unsupported()
				}
				if p.eat(':') {
					if ts, ok = p.digits(2, 2); !ok {
						return unsupported()
					}
				}
			} else if p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
				if tm, ok = p.digits(2, 2); !ok {
					return unsupported()
				}
			}
			if tm > 59 || ts > 59 {
				return fieldErr()
			}
			if th > 15 {
				return dateParts{}, evalErr("time zone displacement out of range: %q", s)
			}
			dp.hasTZ, dp.tzSeconds = true, th*3600+tm*60+ts
			if neg {
				dp.tzSeconds = -dp.tzSeconds
			}
		default:
			if sp > 0 {
				p.i -= sp
			}
		}
	} else if sep > 0 {
		p.i -= sep
	}
	bc := false
	if sp := p.spaces(); sp > 0 && len(p.s)-p.i == 2 && strings.EqualFold(p.s[p.i:], "BC") {
		bc = true
		p.i += 2
	}
	if p.i != len(p.s) {
		return unsupported()
	}
	if dp.y == 0 {
		return fieldErr()
	}
	if bc {
		dp.y = 1 - dp.y
	}
	if dp.m < 1 || dp.m > 12 || dp.d < 1 || dp.d > daysIn(dp.y, dp.m) {
		return fieldErr()
	}
	if dp.timeOfDay, ok = clockValue(h, mi, sec, fsec); !ok {
		return fieldErr()
	}
	return dp, nil
}

// clock reads H[H]:MM[:SS[.fraction]].
func (p *dtScanner) clock() (h, mi, sec, fsec int64, ok bool) {
	if h, ok = p.digits(1, 2); !ok || !p.eat(':') {
		return 0, 0, 0, 0, false
	}
	if mi, ok = p.digits(2, 2); !ok {
		return 0, 0, 0, 0, false
	}
	if p.eat(':') {
		if sec, ok = p.digits(2, 2); !ok {
			return 0, 0, 0, 0, false
		}
		if p.eat('.') {
			start := p.i
			for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
				p.i++
			}
			if p.i == start {
				return 0, 0, 0, 0, false
			}
			// ParseFractionalSecond: strtod, then rint to microseconds.
			f, err := strconv.ParseFloat("0."+p.s[start:p.i], 64)
			if err != nil {
				return 0, 0, 0, 0, false
			}
			fsec = int64(math.RoundToEven(f * usecsPerSec))
		}
	}
	return h, mi, sec, fsec, true
}

// clockValue checks the fields as Postgres does (a leap second 60 and
// 24:00:00 are allowed, nothing past 24:00:00) and sums them.
func clockValue(h, mi, sec, fsec int64) (int64, bool) {
	if h > 24 || mi > 59 || sec > 60 || fsec > usecsPerSec {
		return 0, false
	}
	t := h*usecsPerHour + mi*usecsPerMin + sec*usecsPerSec + fsec
	if t > usecsPerDay || h == 24 && t != usecsPerDay {
		return 0, false
	}
	return t, true
}

// parseDate is date_in for the subset parseDateParts reads: the time of
// day and zone are checked and then ignored, as Postgres ignores them.
func parseDate(s string) (Value, error) {
	dp, err := parseDateParts(Date, s)
	if err != nil {
		return Value{}, err
	}
	switch dp.special {
	case "infinity":
		return Value{t: Date, i: dateNoEnd}, nil
	case "-infinity":
		return Value{t: Date, i: dateNoBegin}, nil
	case "epoch":
		return Value{t: Date, i: unixEpochJulian - epochJulian}, nil
	}
	j := julian(dp.y, dp.m, dp.d)
	if j < 0 || j >= dateEndJulian {
		return Value{}, evalErr("date out of range: %q", s)
	}
	return Value{t: Date, i: j - epochJulian}, nil
}

// parseTimestamp is timestamp_in / timestamptz_in for the subset: a zone
// is applied for timestamptz and ignored for timestamp, as Postgres does;
// without one timestamptz is in the session's UTC.
func parseTimestamp(t Type, s string) (Value, error) {
	dp, err := parseDateParts(t, s)
	if err != nil {
		return Value{}, err
	}
	switch dp.special {
	case "infinity":
		return Value{t: t, i: tsNoEnd}, nil
	case "-infinity":
		return Value{t: t, i: tsNoBegin}, nil
	case "epoch":
		return Value{t: t, i: (unixEpochJulian - epochJulian) * usecsPerDay}, nil
	}
	j := julian(dp.y, dp.m, dp.d)
	if j < 0 || j > timestampEndJulian {
		return Value{}, evalErr("timestamp out of range: %q", s)
	}
	ts := (j-epochJulian)*usecsPerDay + dp.timeOfDay
	if t == TimestampTZ && dp.hasTZ {
		ts -= dp.tzSeconds * usecsPerSec
	}
	if ts < minTS || ts >= endTS {
		return Value{}, evalErr("timestamp out of range: %q", s)
	}
	return Value{t: t, i: ts}, nil
}

// parseTime is time_in for H[H]:MM[:SS[.fraction]] (24:00:00 allowed).
func parseTime(s string) (Value, error) {
	p := &dtScanner{s: strings.Trim(s, " ")}
	h, mi, sec, fsec, ok := p.clock()
	if !ok || p.i != len(p.s) {
		return Value{}, &unsupportedSyntax{t: Time}
	}
	t, ok := clockValue(h, mi, sec, fsec)
	if !ok {
		return Value{}, evalErr("date/time field value out of range: %q", s)
	}
	return Value{t: Time, i: t}, nil
}
