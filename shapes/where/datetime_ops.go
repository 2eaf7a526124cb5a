package where

import "errors"

// literalErr is the 400 for a literal or parameter that t's input
// function rejects, or that is outside the date/time syntax we read.
func literalErr(n node, t Type, raw string, err error) error {
	var u *unsupportedSyntax
	if errors.As(err, &u) {
		hint := "use ISO 8601, e.g. 2024-01-31 or 2024-01-31 12:34:56.789+00"
		switch t {
		case Time:
			hint = "use HH:MM[:SS[.ffffff]]"
		case Interval:
			hint = "use ISO 8601 such as P1Y2M3DT4H5M6S, or integer counts of year, mon, day, hour, min, sec and HH:MM:SS"
		}
		return errAt(n, "unsupported date/time input syntax for type %s: %s (%s)", t.display(), raw, hint)
	}
	return errAt(n, "invalid syntax for type %s: %s", t, raw)
}

// checkDateTimeCast limits casts from text to a date/time type to values
// we can read exactly as Postgres does: literals and parameters (read now,
// so a bad one is a 400) and the text form of a date/time value. Any
// other text (a column, lower(…), …) could hold forms Postgres accepts
// and we do not read ('today', 'Jan 5'), and is refused.
func checkDateTimeCast(arg node, t Type) error {
	if !isTextual(arg.typ()) || !isDateTime(t) && !(t.IsArray() && isDateTime(t.Elem())) {
		return nil
	}
	switch a := arg.(type) {
	case *constant:
		if a.null {
			return nil
		}
		if _, err := parseValue(t, a.raw); err != nil {
			return literalErr(arg, t, a.raw, err)
		}
		return nil
	case *param:
		if _, err := parseValue(t, a.raw); err != nil {
			return literalErr(arg, t, a.raw, err)
		}
		return nil
	case *cast:
		if isDateTime(a.arg.typ()) {
			return nil
		}
	}
	return errAt(arg, "casting a text expression to %s is supported only for literals, parameters and date/time values cast to text", t)
}

// widensDateTime is the implicit cast date → timestamp → timestamptz.
func widensDateTime(from, to Type) bool {
	return dateKind(from) > 0 && dateKind(to) > dateKind(from)
}

// dateTimeOperand fixes the type of an untyped operand of a date/time
// operator the way Postgres's operator resolution does (verified on 15):
// for "-" it takes the other side's type; for "+" it is an interval,
// except beside a date, where Postgres finds no unique operator.
func dateTimeOperand(op string, other Type) (Type, bool) {
	switch op {
	case "-":
		return other, isDateTime(other)
	case "+":
		return Interval, other != Date && isDateTime(other)
	}
	return "", false
}

// dateTimeResult is the result type of l op r, with r and l as Postgres
// converts them (int2 → int4, date → timestamp where an operator needs
// it); ok false: Postgres has no such operator.
func dateTimeResult(op string, l, r Type) (lt, rt, res Type, ok bool) {
	intLike := func(t Type) bool { return t == Int2 || t == Int4 }
	switch op {
	case "+":
		switch {
		case l == Date && intLike(r):
			return Date, Int4, Date, true
		case intLike(l) && r == Date:
			return Int4, Date, Date, true
		case l == Date && r == Time, l == Time && r == Date:
			return l, r, Timestamp, true
		case l == Interval && r == Interval:
			return l, r, Interval, true
		case l == Interval && (dateKind(r) > 0 || r == Time):
			return l, r, plusResult(r), true
		case r == Interval && (dateKind(l) > 0 || l == Time):
			return l, r, plusResult(l), true
		}
	case "-":
		switch {
		case l == Date && intLike(r):
			return Date, Int4, Date, true
		case l == Date && r == Date:
			return l, r, Int4, true
		case dateKind(l) > 0 && dateKind(r) > 0:
			t := l
			if dateKind(r) > dateKind(l) {
				t = r
			}
			return t, t, Interval, true
		case l == Time && r == Time, l == Interval && r == Interval:
			return l, r, Interval, true
		case r == Interval && (dateKind(l) > 0 || l == Time):
			return l, r, plusResult(l), true
		}
	case "*":
		switch {
		case l == Interval && isNumber(r):
			return l, r, Interval, true
		case isNumber(l) && r == Interval:
			return l, r, Interval, true
		}
	}
	return "", "", "", false
}

// plusResult is the type of t ± interval: a date becomes a timestamp.
func plusResult(t Type) Type {
	if t == Date {
		return Timestamp
	}
	return t
}

// checkDateTimeArith types an arithmetic node with a date/time operand.
func (c *checker) checkDateTimeArith(x *arith, l, r node) (node, error) {
	if l == nil {
		if x.op == "-" && r.typ() == Interval {
			return &arith{pos: x.pos, op: x.op, r: r, t: Interval}, nil
		}
		return nil, errAt(x, "operator does not exist: %s %s", x.op, r.typ())
	}
	lt, rt := l.typ(), r.typ()
	if lt == Unknown {
		t, ok := dateTimeOperand(x.op, rt)
		if !ok {
			return nil, errAt(x, "operator is not unique: unknown %s %s", x.op, rt)
		}
		lt = t
	}
	if rt == Unknown {
		t, ok := dateTimeOperand(x.op, lt)
		if !ok {
			return nil, errAt(x, "operator is not unique: %s %s unknown", lt, x.op)
		}
		rt = t
	}
	cl, cr, res, ok := dateTimeResult(x.op, lt, rt)
	if !ok {
		return nil, errAt(x, "operator does not exist: %s %s %s", l.typ(), x.op, r.typ())
	}
	var err error
	if l, err = c.coerce(l, cl); err != nil {
		return nil, err
	}
	if r, err = c.coerce(r, cr); err != nil {
		return nil, err
	}
	return &arith{pos: x.pos, op: x.op, l: l, r: r, t: res}, nil
}

func isDateTimeArith(x *arith) bool {
	return isDateTime(x.r.typ()) || x.l != nil && isDateTime(x.l.typ())
}

// dateTimeArith evaluates an arithmetic node checkDateTimeArith built;
// operands are non-NULL.
func dateTimeArith(op string, l, r Value, res Type) (Value, error) {
	if r.t == Interval && l.t != Interval && op != "*" {
		return plusInterval(l, r.iv, op == "-")
	}
	if l.t == Interval && r.t != Interval && op == "+" {
		return plusInterval(r, l.iv, false)
	}
	switch {
	case op == "*":
		iv, f := l, r
		if r.t == Interval {
			iv, f = r, l
		}
		factor, err := castValue(f, Float8)
		if err != nil {
			return Value{}, err
		}
		out, err := intervalMul(iv.iv, factor.f)
		return Value{t: Interval, iv: out}, err
	case l.t == Interval && r.t == Interval:
		var out ival
		var err error
		if op == "+" {
			out, err = intervalAdd(l.iv, r.iv)
		} else {
			out, err = intervalSub(l.iv, r.iv)
		}
		return Value{t: Interval, iv: out}, err
	case res == Date:
		d, n := l, r
		if l.t != Date {
			d, n = r, l
		}
		if d.i == dateNoBegin || d.i == dateNoEnd {
			return d, nil
		}
		days := n.i
		if op == "-" {
			days = -days
		}
		out := d.i + days
		if out < -epochJulian || out >= dateEndJulian-epochJulian {
			return Value{}, evalErr("date out of range")
		}
		return Value{t: Date, i: out}, nil
	case res == Int4:
		if l.i == dateNoBegin || l.i == dateNoEnd || r.i == dateNoBegin || r.i == dateNoEnd {
			return Value{}, evalErr("cannot subtract infinite dates")
		}
		return Value{t: Int4, i: l.i - r.i}, nil
	case res == Timestamp && (l.t == Time || r.t == Time):
		d, t := l, r
		if l.t == Time {
			d, t = r, l
		}
		ts, err := dateToTimestamp(d.i)
		if err != nil || ts == tsNoBegin || ts == tsNoEnd {
			return Value{t: Timestamp, i: ts}, err
		}
		ts += t.i
		if ts < minTS || ts >= endTS {
			return Value{}, evalErr("timestamp out of range")
		}
		return Value{t: Timestamp, i: ts}, nil
	case l.t == Time && r.t == Time:
		return Value{t: Interval, iv: ival{micros: l.i - r.i}}, nil
	}
	// timestamp - timestamp (timestamp_mi): no overflow check, then
	// justify_hours, as Postgres 15 does.
	if l.i == tsNoBegin || l.i == tsNoEnd || r.i == tsNoBegin || r.i == tsNoEnd {
		return Value{}, evalErr("cannot subtract infinite timestamps")
	}
	iv, err := justifyHours(ival{micros: l.i - r.i})
	return Value{t: Interval, iv: iv}, err
}

// plusInterval is date/timestamp/timestamptz/time ± interval.
func plusInterval(v Value, iv ival, sub bool) (Value, error) {
	if sub {
		// timestamp_mi_interval negates each field as C does (wrapping).
		iv = ival{months: -iv.months, days: -iv.days, micros: -iv.micros}
	}
	switch v.t {
	case Time:
		t := v.i + iv.micros
		t -= t / usecsPerDay * usecsPerDay
		if t < 0 {
			t += usecsPerDay
		}
		return Value{t: Time, i: t}, nil
	case Date:
		ts, err := dateToTimestamp(v.i)
		if err != nil {
			return Value{}, err
		}
		v = Value{t: Timestamp, i: ts}
	}
	ts, err := timestampPlusInterval(v.i, iv)
	return Value{t: v.t, i: ts}, err
}

// timestampPlusInterval is timestamp_pl_interval (and, in UTC,
// timestamptz_pl_interval): months first, the day of month clamped to
// the new month's end; then days on the calendar; then microseconds.
func timestampPlusInterval(ts int64, iv ival) (int64, error) {
	if ts == tsNoBegin || ts == tsNoEnd {
		return ts, nil
	}
	tsRange := func() (int64, error) { return 0, evalErr("timestamp out of range") }
	split := func(ts int64) (y, m, d, tod int64) {
		days := floorDiv(ts, usecsPerDay)
		y, m, d = civil(days + epochJulian)
		return y, m, d, ts - days*usecsPerDay
	}
	join := func(y, m, d, tod int64) (int64, bool) {
		j := julian(y, m, d)
		if j < 0 || j > timestampEndJulian {
			return 0, false
		}
		ts := (j-epochJulian)*usecsPerDay + tod
		return ts, ts >= minTS && ts < endTS
	}
	if iv.months != 0 {
		y, m, d, tod := split(ts)
		m += int64(iv.months)
		if m > 12 {
			y += (m - 1) / 12
			m = (m-1)%12 + 1
		} else if m < 1 {
			y += m/12 - 1
			m = m%12 + 12
		}
		if dim := daysIn(y, m); d > dim {
			d = dim
		}
		var ok bool
		if ts, ok = join(y, m, d, tod); !ok {
			return tsRange()
		}
	}
	if iv.days != 0 {
		y, m, d, tod := split(ts)
		j := julian(y, m, d) + int64(iv.days)
		if j < 0 {
			return tsRange()
		}
		y, m, d = civil(j)
		var ok bool
		if ts, ok = join(y, m, d, tod); !ok {
			return tsRange()
		}
	}
	ts, ok := add64(ts, iv.micros)
	if !ok || ts < minTS || ts >= endTS {
		return tsRange()
	}
	return ts, nil
}

// dateTimeFuncs are the date/time functions: name → arity.
var dateTimeFuncs = map[string]int{"justify_days": 1, "justify_hours": 1, "justify_interval": 1}

func (c *checker) checkDateTimeCall(x *call, args []node) (node, error) {
	a, err := c.coerce(args[0], Interval)
	if err != nil || a.typ() != Interval {
		return nil, errAt(x, "unknown or unsupported function %s(%s)", x.name, args[0].typ())
	}
	return &call{pos: x.pos, name: x.name, args: []node{a}, t: Interval}, nil
}

func evalDateTimeCall(name string, v Value) (Value, error) {
	var iv ival
	var err error
	switch name {
	case "justify_days":
		iv, err = justifyDays(v.iv)
	case "justify_hours":
		iv, err = justifyHours(v.iv)
	default:
		iv, err = justifyInterval(v.iv)
	}
	return Value{t: Interval, iv: iv}, err
}

// stableStrict folds a strict function that Postgres marks stable, as
// the date/time input and output functions and the casts involving
// timestamptz are: a constant NULL input makes it NULL, but it is never
// evaluated at plan time.
func (f *folder) stableStrict(n node, ins []node, mk func([]node) node) (node, error) {
	out := make([]node, len(ins))
	for i, in := range ins {
		x, err := f.fold(in)
		if err != nil {
			return nil, err
		}
		if c, ok := constNode(x); ok && c.v.null {
			return f.constOf(n, nullOf(n.typ())), nil
		}
		out[i] = x
	}
	return mk(out), nil
}
