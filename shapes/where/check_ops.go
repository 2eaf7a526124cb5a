package where

// rewriteBetween is Postgres's own rewrite (transformAExprBetween).
func rewriteBetween(b *between) node {
	cmp := func(op string, l, r node) node { return &compare{pos: b.pos, op: op, l: l, r: r} }
	and := func(args ...node) node { return &boolOp{pos: b.pos, op: opAnd, args: args} }
	or := func(args ...node) node { return &boolOp{pos: b.pos, op: opOr, args: args} }
	x, lo, hi := b.arg, b.lo, b.hi
	switch {
	case !b.not && !b.symmetric:
		return and(cmp(">=", x, lo), cmp("<=", x, hi))
	case b.not && !b.symmetric:
		return or(cmp("<", x, lo), cmp(">", x, hi))
	case !b.not:
		return or(and(cmp(">=", x, lo), cmp("<=", x, hi)), and(cmp(">=", x, hi), cmp("<=", x, lo)))
	}
	return and(or(cmp("<", x, lo), cmp(">", x, hi)), or(cmp("<", x, hi), cmp(">", x, lo)))
}

func hasColumn(n node) bool {
	switch x := n.(type) {
	case *colRef:
		return true
	case *cast:
		return hasColumn(x.arg)
	case *boolOp:
		return anyColumn(x.args)
	case *compare:
		return hasColumn(x.l) || hasColumn(x.r)
	case *distinct:
		return hasColumn(x.l) || hasColumn(x.r)
	case *nullTest:
		return hasColumn(x.arg)
	case *boolTest:
		return hasColumn(x.arg)
	case *like:
		return hasColumn(x.arg) || hasColumn(x.pattern)
	case *quantified:
		return hasColumn(x.l) || hasColumn(x.r)
	case *arith:
		return x.l != nil && hasColumn(x.l) || hasColumn(x.r)
	case *textConcat:
		return hasColumn(x.l) || hasColumn(x.r)
	case *call:
		return anyColumn(x.args)
	case *arrayCons:
		return anyColumn(x.elems)
	case *subscript:
		return hasColumn(x.arg) || hasColumn(x.index)
	case interface{ operands() []node }:
		return anyColumn(x.operands())
	}
	return false
}

func anyColumn(ns []node) bool {
	for _, n := range ns {
		if hasColumn(n) {
			return true
		}
	}
	return false
}

// checkIn rewrites IN as Postgres does (transformAExprIn): the items
// without column references, when there are at least two, become one
// x = ANY(ARRAY[…]) of their common type; every other item becomes its own
// x = item, all joined by OR (NOT IN: <> ALL and AND).
func (c *checker) checkIn(x *inList) (node, error) {
	lhs, err := c.check(x.arg)
	if err != nil {
		return nil, err
	}
	items, err := c.checkAll(x.list)
	if err != nil {
		return nil, err
	}
	op, join := "=", opOr
	if x.not {
		op, join = "<>", opAnd
	}
	var consts, rest []node
	for _, it := range items {
		if hasColumn(it) {
			rest = append(rest, it)
		} else {
			consts = append(consts, it)
		}
	}
	var terms []node
	if len(consts) > 1 {
		t, err := c.common("IN", append([]node{lhs}, consts...)...)
		if err != nil {
			return nil, err
		}
		if t.IsArray() {
			return nil, errAt(x, "IN lists of arrays are not supported")
		}
		l, err := c.coerce(lhs, t)
		if err != nil {
			return nil, err
		}
		elems, err := c.coerceAll(consts, t)
		if err != nil {
			return nil, err
		}
		terms = append(terms, &quantified{pos: x.pos, op: op, all: x.not, l: l,
			r: &arrayCons{pos: x.pos, elems: elems, t: arrayOf(t)}})
	} else {
		rest = items
	}
	for _, it := range rest {
		l, r, err := c.pairChecked(lhs, it, op)
		if err != nil {
			return nil, err
		}
		terms = append(terms, &compare{pos: x.pos, op: op, l: l, r: r})
	}
	if len(terms) == 1 {
		return terms[0], nil
	}
	return &boolOp{pos: x.pos, op: join, args: terms}, nil
}

// pairChecked is pair for operands that are already checked.
func (c *checker) pairChecked(l, r node, op string) (node, node, error) {
	t, ok := commonType(l.typ(), r.typ())
	if !ok {
		return nil, nil, errAt(l, "operator does not exist: %s %s %s", l.typ(), op, r.typ())
	}
	if t == Unknown {
		t = Text
	}
	l, err := c.coerce(l, t)
	if err != nil {
		return nil, nil, err
	}
	r, err = c.coerce(r, t)
	return l, r, err
}

func (c *checker) checkQuantified(x *quantified) (node, error) {
	l, err := c.check(x.l)
	if err != nil {
		return nil, err
	}
	r, err := c.check(x.r)
	if err != nil {
		return nil, err
	}
	if r.typ() == Unknown {
		et := l.typ()
		if et == Unknown {
			et = Text
		}
		if et.IsArray() {
			return nil, errAt(x, "ANY/ALL over arrays of arrays is not supported")
		}
		if l, err = c.coerce(l, et); err != nil {
			return nil, err
		}
		if r, err = c.coerce(r, arrayOf(et)); err != nil {
			return nil, err
		}
		return &quantified{pos: x.pos, op: x.op, all: x.all, l: l, r: r}, nil
	}
	if !r.typ().IsArray() {
		return nil, errAt(x, "op ANY/ALL (array) requires array on right side")
	}
	et := r.typ().Elem()
	t, ok := commonType(l.typ(), et)
	if !ok || t != et {
		// Cross-type comparisons with an array (int8 = ANY(int4[])) would
		// need element-wise casts; refuse them rather than guess.
		return nil, errAt(x, "operator does not exist: %s %s %s", l.typ(), x.op, et)
	}
	if l, err = c.coerce(l, t); err != nil {
		return nil, err
	}
	return &quantified{pos: x.pos, op: x.op, all: x.all, l: l, r: r}, nil
}

func (c *checker) checkArith(x *arith) (node, error) {
	if isExtOp(x.op) || x.l == nil && x.op != "-" && x.op != "+" {
		return c.checkExtOp(x)
	}
	r, err := c.check(x.r)
	if err != nil {
		return nil, err
	}
	if x.l == nil {
		if isDateTime(r.typ()) {
			return c.checkDateTimeArith(x, nil, r)
		}
		if !isNumber(r.typ()) {
			return nil, errAt(x, "operator does not exist: %s %s", x.op, r.typ())
		}
		if x.op == "+" {
			return r, nil
		}
		return &arith{pos: x.pos, op: x.op, r: r, t: r.typ()}, nil
	}
	l, err := c.check(x.l)
	if err != nil {
		return nil, err
	}
	lt, rt := l.typ(), r.typ()
	if isDateTime(lt) || isDateTime(rt) {
		return c.checkDateTimeArith(x, l, r)
	}
	if lt == Unknown && rt == Unknown {
		return nil, errAt(x, "operator is not unique: unknown %s unknown", x.op)
	}
	t, ok := commonType(lt, rt)
	if !ok || !isNumber(t) || x.op == "%" && isFloat(t) {
		return nil, errAt(x, "operator does not exist: %s %s %s", lt, x.op, rt)
	}
	if l, err = c.coerce(l, t); err != nil {
		return nil, err
	}
	if r, err = c.coerce(r, t); err != nil {
		return nil, err
	}
	return &arith{pos: x.pos, op: x.op, l: l, r: r, t: t}, nil
}

func (c *checker) checkCall(x *call) (node, error) {
	args, err := c.checkAll(x.args)
	if err != nil {
		return nil, err
	}
	switch x.name {
	case "lower", "upper":
		if t := args[0].typ(); t != Unknown && !isTextual(t) {
			return nil, errAt(x, "unknown or unsupported function %s(%s)", x.name, t)
		}
		if args[0], err = c.coerce(args[0], Text); err != nil {
			return nil, err
		}
		return &call{pos: x.pos, name: x.name, args: args, t: Text}, nil
	case "concat":
		for i, a := range args {
			if a.typ() == Unknown {
				if args[i], err = c.coerce(a, Text); err != nil {
					return nil, err
				}
			}
		}
		return &call{pos: x.pos, name: x.name, args: args, t: Text}, nil
	case "justify_days", "justify_hours", "justify_interval":
		return c.checkDateTimeCall(x, args)
	case "timezone":
		return c.checkTimezone(x, args)
	}
	t, err := c.common(x.name, args...)
	if err != nil {
		return nil, err
	}
	if args, err = c.coerceAll(args, t); err != nil {
		return nil, err
	}
	return &call{pos: x.pos, name: x.name, args: args, t: t}, nil
}
