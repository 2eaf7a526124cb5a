package where

// Postgres's planner folds every subexpression whose inputs are constants
// (literals and, with bound parameters, parameters) before it reads a
// single row (eval_const_expressions). That changes which rows raise
// errors: 1/0 in a branch no row ever reaches still fails the query, and
// an AND whose constant arm is false never evaluates its column arms.
// fold reproduces it on the checked tree: the result is the tree Eval
// runs, and an error is one that Postgres raises at plan time, for every
// row. Its rules (verified against Postgres 15): strict immutable
// operators fold when all inputs are constant and become NULL when any
// constant input is NULL; AND / OR stop at the first deciding constant;
// coalesce stops at its first non-NULL constant; concat is stable and
// never folds (though its arguments do); greatest / least, ARRAY[…],
// ANY / ALL, IS tests and IS DISTINCT FROM fold when all inputs are
// constant; array_in is stable, so text cast to an array never folds.

type folder struct{ ev evaluator }

func (f *folder) constOf(n node, v Value) node {
	return &constant{pos: pos(n.at()), t: n.typ(), null: v.null, v: v, isFolded: true}
}

// evalConst evaluates n, all of whose inputs are constants.
func (f *folder) evalConst(n node) (node, error) {
	v, err := f.ev.eval(n)
	if err != nil {
		return nil, err
	}
	return f.constOf(n, v), nil
}

// constNode reports whether the planner sees n as a constant. A literal
// or parameter of an array type is not one: SQL binds it as text cast to
// the array type, and array_in is stable, so Postgres never folds it.
func constNode(n node) (*constant, bool) {
	switch c := n.(type) {
	case *constant:
		return c, c.isFolded || c.null || !c.t.IsArray() && !isDateTime(c.t) // a NULL (NULL::t[] too) is a Const
	case *param:
		return &constant{pos: c.pos, t: c.t, v: c.v, isFolded: true}, !c.t.IsArray() && !isDateTime(c.t)
	}
	return nil, false
}

// strict folds a node whose inputs are ins: all constant → evaluated;
// any constant NULL → NULL; otherwise rebuilt by mk from folded inputs.
func (f *folder) strict(n node, ins []node, mk func([]node) node, strictNulls bool) (node, error) {
	out := make([]node, len(ins))
	allConst, anyNull := true, false
	for i, in := range ins {
		x, err := f.fold(in)
		if err != nil {
			return nil, err
		}
		out[i] = x
		if c, ok := constNode(x); ok {
			anyNull = anyNull || c.v.null
		} else {
			allConst = false
		}
	}
	if strictNulls && anyNull {
		return f.constOf(n, nullOf(n.typ())), nil
	}
	m := mk(out)
	if allConst {
		return f.evalConst(m)
	}
	return m, nil
}

func (f *folder) fold(n node) (node, error) {
	switch x := n.(type) {
	case *colRef, *constant, *param:
		return n, nil
	case *cast:
		if x.t.IsArray() != x.arg.typ().IsArray() { // array_in and array_out are stable and strict
			return f.stableStrict(n, []node{x.arg}, func(a []node) node { return &cast{pos: x.pos, arg: a[0], t: x.t} })
		}
		if isDateTime(x.t) || isDateTime(x.arg.typ()) {
			return f.stableStrict(n, []node{x.arg}, func(a []node) node { return &cast{pos: x.pos, arg: a[0], t: x.t} })
		}
		return f.strict(n, []node{x.arg}, func(a []node) node { return &cast{pos: x.pos, arg: a[0], t: x.t} }, true)
	case *compare:
		return f.strict(n, []node{x.l, x.r}, func(a []node) node { return &compare{pos: x.pos, op: x.op, l: a[0], r: a[1]} }, true)
	case *arith:
		if x.l == nil {
			return f.strict(n, []node{x.r}, func(a []node) node { return &arith{pos: x.pos, op: x.op, r: a[0], t: x.t} }, true)
		}
		return f.strict(n, []node{x.l, x.r}, func(a []node) node { return &arith{pos: x.pos, op: x.op, l: a[0], r: a[1], t: x.t} }, true)
	case *like:
		return f.strict(n, []node{x.arg, x.pattern}, func(a []node) node {
			return &like{pos: x.pos, not: x.not, insensitive: x.insensitive, arg: a[0], pattern: a[1]}
		}, true)
	case *textConcat:
		return f.strict(n, []node{x.l, x.r}, func(a []node) node { return &textConcat{pos: x.pos, l: a[0], r: a[1]} }, true)
	case *subscript:
		return f.strict(n, []node{x.arg, x.index}, func(a []node) node { return &subscript{pos: x.pos, arg: a[0], index: a[1], t: x.t} }, false)
	case *distinct:
		return f.strict(n, []node{x.l, x.r}, func(a []node) node { return &distinct{pos: x.pos, not: x.not, l: a[0], r: a[1]} }, false)
	case *nullTest:
		return f.strict(n, []node{x.arg}, func(a []node) node { return &nullTest{pos: x.pos, not: x.not, arg: a[0]} }, false)
	case *boolTest:
		return f.strict(n, []node{x.arg}, func(a []node) node { return &boolTest{pos: x.pos, not: x.not, value: x.value, arg: a[0]} }, false)
	case *quantified:
		return f.strict(n, []node{x.l, x.r}, func(a []node) node { return &quantified{pos: x.pos, op: x.op, all: x.all, l: a[0], r: a[1]} }, false)
	case *arrayCons:
		return f.strict(n, x.elems, func(a []node) node { return &arrayCons{pos: x.pos, elems: a, t: x.t, multi: x.multi} }, false)
	case *arrayOp, *arrayFunc, *arrayRef:
		return f.foldArray(n)
	case *boolOp:
		return f.boolOp(x)
	case *call:
		switch x.name {
		case "lower", "upper", "justify_days", "justify_hours", "justify_interval", "timezone":
			return f.strict(n, x.args, func(a []node) node { return &call{pos: x.pos, name: x.name, args: a, t: x.t} }, true)
		case "greatest", "least":
			return f.strict(n, x.args, func(a []node) node { return &call{pos: x.pos, name: x.name, args: a, t: x.t} }, false)
		case "concat":
			args := make([]node, len(x.args))
			for i, a := range x.args {
				y, err := f.fold(a)
				if err != nil {
					return nil, err
				}
				args[i] = y
			}
			return &call{pos: x.pos, name: x.name, args: args, t: x.t}, nil
		}
		return f.coalesce(x)
	}
	return n, nil
}

func (f *folder) boolOp(x *boolOp) (node, error) {
	if x.op == opNot {
		return f.strict(x, x.args, func(a []node) node { return &boolOp{pos: x.pos, op: opNot, args: a} }, true)
	}
	decider := x.op == opOr
	var kept []node
	sawNull := false
	for _, a := range x.args {
		y, err := f.fold(a)
		if err != nil {
			return nil, err
		}
		c, ok := constNode(y)
		switch {
		case !ok:
			kept = append(kept, y)
		case c.v.null:
			sawNull = true
		case c.v.b == decider:
			return f.constOf(x, boolValue(decider)), nil
		}
	}
	if sawNull {
		kept = append(kept, f.constOf(x, nullOf(Bool)))
	}
	switch {
	case len(kept) == 0:
		return f.constOf(x, boolValue(!decider)), nil
	case len(kept) == 1:
		return kept[0], nil
	}
	return &boolOp{pos: x.pos, op: x.op, args: kept}, nil
}

func (f *folder) coalesce(x *call) (node, error) {
	var kept []node
	for _, a := range x.args {
		y, err := f.fold(a)
		if err != nil {
			return nil, err
		}
		if c, ok := constNode(y); ok {
			if c.v.null {
				continue
			}
			if len(kept) == 0 {
				return y, nil
			}
			kept = append(kept, y)
			break
		}
		kept = append(kept, y)
	}
	if len(kept) == 0 {
		return f.constOf(x, nullOf(x.t)), nil
	}
	return &call{pos: x.pos, name: x.name, args: kept, t: x.t}, nil
}
