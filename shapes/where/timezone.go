package where

import "strings"

// utcZoneNames are the zone names timezone() accepts: all are UTC, the
// offset Go and Postgres agree on without a time zone database.
// Named IANA zones are refused even though Postgres here reads the
// system tzdata (--with-system-tzdata) as Go's time package does: the
// database server's tzdata and ours may differ in version, and the rules
// for nonexistent and repeated local times differ; a POSIX offset such
// as '+05' is refused because Postgres reads it as five hours WEST.
func utcZoneName(s string) bool {
	switch strings.ToLower(s) {
	case "utc", "gmt", "etc/utc":
		return true
	}
	return false
}

// maxZoneMicros bounds an interval time zone (±7 days): Postgres
// applies it without an overflow check.
const maxZoneMicros = 7 * usecsPerDay

// checkTimezone types timezone(zone, ts) and ts AT TIME ZONE zone: the
// zone a constant 'UTC' (or 'GMT', 'Etc/UTC') or a constant interval
// without months or days; ts a timestamp or timestamptz.
func (c *checker) checkTimezone(x *call, args []node) (node, error) {
	zone, ts := args[0], args[1]
	t := ts.typ()
	if !isTimestamp(t) {
		return nil, errAt(ts, "timezone(zone, value) needs a timestamp or timestamptz value, not %s (cast it)", t)
	}
	var err error
	if zone.typ() == Unknown {
		if zone, err = c.coerce(zone, Text); err != nil {
			return nil, err
		}
	}
	inner := zone
	if cst, ok := zone.(*cast); ok && isTextual(cst.arg.typ()) {
		inner = cst.arg // '…'::text::interval, as SQL renders a constant
	}
	var raw string
	switch z := inner.(type) {
	case *constant:
		if z.null {
			return &call{pos: x.pos, name: x.name, args: []node{zone, ts}, t: otherTimestamp(t)}, nil
		}
		raw = z.raw
	case *param:
		raw = z.raw
	default:
		return nil, errAt(zone, "the time zone must be a literal or a parameter")
	}
	switch {
	case isTextual(zone.typ()):
		if !utcZoneName(raw) {
			return nil, errAt(zone, "unsupported time zone %q: only 'UTC' or an interval such as INTERVAL '+05:30' (east of Greenwich) is supported", raw)
		}
	case zone.typ() == Interval:
		v, err := parseInterval(raw)
		if err != nil {
			return nil, literalErr(zone, Interval, raw, err)
		}
		if v.iv.months != 0 || v.iv.days != 0 || v.iv.micros > maxZoneMicros || v.iv.micros < -maxZoneMicros {
			return nil, errAt(zone, "interval time zone %q must have no months or days and be within 7 days", raw)
		}
	default:
		return nil, errAt(zone, "the time zone must be text or interval, not %s", zone.typ())
	}
	return &call{pos: x.pos, name: x.name, args: []node{zone, ts}, t: otherTimestamp(t)}, nil
}

func otherTimestamp(t Type) Type {
	if t == Timestamp {
		return TimestampTZ
	}
	return Timestamp
}

// evalTimezone is timestamp_zone / timestamptz_zone for UTC and
// timestamp_izone / timestamptz_izone (the interval truncated to whole
// seconds, as Postgres does).
func evalTimezone(zone, ts Value, res Type) (Value, error) {
	if ts.i == tsNoBegin || ts.i == tsNoEnd || zone.t != Interval {
		return Value{t: res, i: ts.i}, nil
	}
	off := zone.iv.micros / usecsPerSec * usecsPerSec
	out := ts.i + off
	if ts.t == Timestamp {
		out = ts.i - off
	}
	if out < minTS || out >= endTS {
		return Value{}, evalErr("timestamp out of range")
	}
	return Value{t: res, i: out}, nil
}
