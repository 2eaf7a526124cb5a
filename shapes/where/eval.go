package where

import (
	"errors"
	"math"
	"math/bits"

	"github.com/cockroachdb/apd/v3"
)

// Row gives a column's value in Postgres text form (as pgoutput and the
// snapshot's ::text casts produce it), or null.
type Row func(col int) (text string, null bool)

// Eval evaluates a checked expression on one row with Postgres semantics
// (SHAPE_API §20.4, §20.6). An *EvalError is a row on which Postgres would
// raise an error (overflow, division by zero, bad input to a cast).
func (e *Expr) Eval(row Row) (Value, error) {
	if e == nil || !e.checked {
		return Value{}, errors.New("where: Eval needs an expression returned by Check")
	}
	if e.planErr != nil {
		return Value{}, e.planErr
	}
	ev := &evaluator{row: row, cache: make([]Value, len(e.columns)), loaded: make([]bool, len(e.columns)), rules: &e.rules}
	return ev.eval(e.folded)
}

// evaluator parses each referenced column once per evaluation.
type evaluator struct {
	row    Row
	cache  []Value
	loaded []bool
	rules  *TextRules // never nil
}

func (ev *evaluator) eval(n node) (Value, error) {
	switch x := n.(type) {
	case *colRef:
		if !ev.loaded[x.idx] {
			text, null := ev.row(x.idx)
			v := nullOf(x.t)
			if !null {
				var err error
				if v, err = parseValue(x.t, text); err != nil {
					return Value{}, err
				}
			}
			ev.cache[x.idx], ev.loaded[x.idx] = v, true
		}
		return ev.cache[x.idx], nil
	case *constant:
		return x.v, nil
	case *param:
		return x.v, nil
	case *cast:
		v, err := ev.eval(x.arg)
		if err != nil {
			return Value{}, err
		}
		return castValue(v, x.t)
	case *boolOp:
		return ev.boolOp(x)
	case *compare:
		l, r, err := ev.two(x.l, x.r)
		if err != nil || l.null || r.null {
			return nullOf(Bool), err
		}
		return boolValue(compareHolds(x.op, compareValues(l, r))), nil
	case *distinct:
		l, r, err := ev.two(x.l, x.r)
		if err != nil {
			return Value{}, err
		}
		same := l.null && r.null || !l.null && !r.null && compareValues(l, r) == 0
		return boolValue(same == x.not), nil
	case *nullTest:
		v, err := ev.eval(x.arg)
		if err != nil {
			return Value{}, err
		}
		return boolValue(v.null != x.not), nil
	case *boolTest:
		v, err := ev.eval(x.arg)
		if err != nil {
			return Value{}, err
		}
		var holds bool
		switch x.value {
		case "TRUE":
			holds = !v.null && v.b
		case "FALSE":
			holds = !v.null && !v.b
		default:
			holds = v.null
		}
		return boolValue(holds != x.not), nil
	case *like:
		s, p, err := ev.two(x.arg, x.pattern)
		if err != nil || s.null || p.null {
			return nullOf(Bool), err
		}
		text, pat := s.s, p.s
		if x.insensitive {
			text, pat = ev.rules.lower(text), ev.rules.lower(pat)
		}
		m, err := matchLike(text, pat)
		if err != nil {
			return Value{}, err
		}
		return boolValue((m == likeTrue) != x.not), nil
	case *quantified:
		return ev.quantified(x)
	case *arith:
		return ev.arith(x)
	case *textConcat:
		l, r, err := ev.two(x.l, x.r)
		if err != nil || l.null || r.null {
			return nullOf(Text), err
		}
		return Value{t: Text, s: castToText(l) + castToText(r)}, nil
	case *call:
		return ev.call(x)
	case *subscript:
		return ev.subscriptValue(x)
	case *arrayOp, *arrayFunc, *arrayRef:
		return ev.evalArray(n)
	case *arrayCons:
		if x.multi {
			return ev.arrayConsMulti(x)
		}
		out := Value{t: x.t, arr: make([]Value, 0, len(x.elems))}
		for _, el := range x.elems {
			v, err := ev.eval(el)
			if err != nil {
				return Value{}, err
			}
			out.arr = append(out.arr, v)
		}
		return out, nil
	}
	return Value{}, evalErr("unsupported expression")
}

func (ev *evaluator) two(a, b node) (Value, Value, error) {
	l, err := ev.eval(a)
	if err != nil {
		return Value{}, Value{}, err
	}
	r, err := ev.eval(b)
	return l, r, err
}

func compareHolds(op string, c int) bool {
	switch op {
	case "=":
		return c == 0
	case "<>":
		return c != 0
	case "<":
		return c < 0
	case ">":
		return c > 0
	case "<=":
		return c <= 0
	}
	return c >= 0
}

// boolOp evaluates left to right and stops at the first deciding value, as
// Postgres's executor and constant folder both do.
func (ev *evaluator) boolOp(x *boolOp) (Value, error) {
	if x.op == opNot {
		v, err := ev.eval(x.args[0])
		if err != nil || v.null {
			return nullOf(Bool), err
		}
		return boolValue(!v.b), nil
	}
	decider := x.op == opOr // OR stops at true, AND at false
	sawNull := false
	for _, a := range x.args {
		v, err := ev.eval(a)
		if err != nil {
			return Value{}, err
		}
		if v.null {
			sawNull = true
			continue
		}
		if v.b == decider {
			return boolValue(decider), nil
		}
	}
	if sawNull {
		return nullOf(Bool), nil
	}
	return boolValue(!decider), nil
}

// quantified is ExecEvalScalarArrayOp.
func (ev *evaluator) quantified(x *quantified) (Value, error) {
	l, arr, err := ev.two(x.l, x.r)
	if err != nil {
		return Value{}, err
	}
	if arr.null {
		return nullOf(Bool), nil
	}
	if len(arr.arr) == 0 {
		return boolValue(x.all), nil
	}
	if l.null {
		return nullOf(Bool), nil
	}
	sawNull := false
	for _, el := range arr.arr {
		if el.null {
			sawNull = true
			continue
		}
		holds := compareHolds(x.op, compareValues(l, el))
		if !x.all && holds {
			return boolValue(true), nil
		}
		if x.all && !holds {
			return boolValue(false), nil
		}
	}
	if sawNull {
		return nullOf(Bool), nil
	}
	return boolValue(x.all), nil
}

func (ev *evaluator) arith(x *arith) (Value, error) {
	if x.l == nil {
		v, err := ev.eval(x.r)
		if err != nil || v.null {
			return nullOf(x.t), err
		}
		if x.t == Interval {
			iv, ok := intervalNeg(v.iv)
			if !ok {
				return Value{}, intervalRange()
			}
			return Value{t: Interval, iv: iv}, nil
		}
		if x.op != "-" {
			return prefixOp(x.op, v, x.t)
		}
		if isFloat(x.t) {
			return Value{t: x.t, f: -v.f}, nil
		}
		if x.t == Numeric {
			d := new(apd.Decimal).Neg(v.d)
			if isNaN(d) || d.Form == apd.Finite && d.Coeff.Sign() == 0 {
				d.Negative = false
			}
			return Value{t: Numeric, d: d}, nil
		}
		if v.i == math.MinInt64 {
			return Value{}, outOfRange(x.t)
		}
		i, err := checkRange(-v.i, x.t)
		return Value{t: x.t, i: i}, err
	}
	l, r, err := ev.two(x.l, x.r)
	if err != nil || l.null || r.null {
		return nullOf(x.t), err
	}
	if isDateTimeArith(x) {
		return dateTimeArith(x.op, l, r, x.t)
	}
	if isExtOp(x.op) {
		return infixOp(x.op, l, r, x.t)
	}
	if isFloat(x.t) {
		return floatArith(x.op, l.f, r.f, x.t)
	}
	if x.t == Numeric {
		return numericArith(x.op, l.d, r.d)
	}
	i, err := intArith(x.op, l.i, r.i, x.t)
	return Value{t: x.t, i: i}, err
}

// intArith is int2/int4/int8 arithmetic: errors on overflow and division
// by zero; division truncates toward zero.
func intArith(op string, a, b int64, t Type) (int64, error) {
	switch op {
	case "+":
		r := a + b
		if a > 0 && b > 0 && r < 0 || a < 0 && b < 0 && r >= 0 {
			return 0, outOfRange(t)
		}
		return checkRange(r, t)
	case "-":
		r := a - b
		if a >= 0 && b < 0 && r < 0 || a < 0 && b > 0 && r >= 0 {
			return 0, outOfRange(t)
		}
		return checkRange(r, t)
	case "*":
		hi, lo := bits.Mul64(absU(a), absU(b))
		neg := (a < 0) != (b < 0)
		switch {
		case hi != 0, !neg && lo > math.MaxInt64, neg && lo > 1<<63:
			return 0, outOfRange(t)
		}
		r := int64(lo)
		if neg {
			r = -r
		}
		return checkRange(r, t)
	case "/":
		if b == 0 {
			return 0, evalErr("division by zero")
		}
		if b == -1 {
			if a == math.MinInt64 {
				return 0, outOfRange(t)
			}
			return checkRange(-a, t)
		}
		return a / b, nil
	}
	if b == 0 {
		return 0, evalErr("division by zero")
	}
	if b == -1 {
		return 0, nil
	}
	return a % b, nil
}

func absU(a int64) uint64 {
	if a < 0 {
		return uint64(-(a + 1)) + 1
	}
	return uint64(a)
}

func (ev *evaluator) call(x *call) (Value, error) {
	switch x.name {
	case "timezone":
		z, ts, err := ev.two(x.args[0], x.args[1])
		if err != nil || z.null || ts.null {
			return nullOf(x.t), err
		}
		return evalTimezone(z, ts, x.t)
	case "coalesce":
		for _, a := range x.args {
			v, err := ev.eval(a)
			if err != nil || !v.null {
				return v, err
			}
		}
		return nullOf(x.t), nil
	case "concat":
		var s []byte
		for _, a := range x.args {
			v, err := ev.eval(a)
			if err != nil {
				return Value{}, err
			}
			if !v.null {
				s = append(s, outputText(v)...)
			}
		}
		return Value{t: Text, s: string(s)}, nil
	case "greatest", "least":
		best := nullOf(x.t)
		for _, a := range x.args {
			v, err := ev.eval(a)
			if err != nil {
				return Value{}, err
			}
			if v.null {
				continue
			}
			if best.null {
				best = v
				continue
			}
			if c := compareValues(v, best); x.name == "greatest" && c > 0 || x.name == "least" && c < 0 {
				best = v
			}
		}
		return best, nil
	}
	v, err := ev.eval(x.args[0])
	if err != nil || v.null {
		return nullOf(x.t), err
	}
	if _, ok := dateTimeFuncs[x.name]; ok {
		return evalDateTimeCall(x.name, v)
	}
	if x.name == "lower" {
		return Value{t: Text, s: ev.rules.lower(v.s)}, nil
	}
	return Value{t: Text, s: ev.rules.upper(v.s)}, nil
}
