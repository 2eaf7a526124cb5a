package where

import "fmt"

// Check type-checks e against the root table's columns (SHAPE_API §20.3,
// §20.5) and returns the typed expression that Eval and SQL use. Column
// indexes in Eval's row function are positions in cols. Text follows the C
// locale; CheckWith takes the database's rules.
func (e *Expr) Check(cols []Column) (*Expr, error) {
	return e.CheckWith(cols, TextRules{})
}

// CheckWith is Check under the database's text rules: case folding by its
// ctype, and ordering comparisons of text rejected unless their collation
// is byte-ordered (SHAPE_API §20.6).
func (e *Expr) CheckWith(cols []Column, rules TextRules) (*Expr, error) {
	c := &checker{cols: cols, byName: make(map[string]int, len(cols)), params: map[int]Type{}}
	for i, col := range cols {
		c.byName[col.Name] = i
	}
	root, err := c.check(e.root)
	if err != nil {
		return nil, err
	}
	if root.typ() != Bool && root.typ() != Unknown {
		return nil, &Error{Pos: 0, Msg: "WHERE clause must return a boolean"}
	}
	if root, err = c.coerce(root, Bool); err != nil {
		return nil, err
	}
	if err := rules.checkTextOrder(root); err != nil {
		return nil, err
	}
	if err := checkEnumOps(root); err != nil {
		return nil, err
	}
	f := &folder{ev: evaluator{rules: &rules}}
	folded, planErr := f.fold(root)
	return &Expr{text: e.text, params: e.params, root: root, folded: folded, planErr: planErr, columns: cols, rules: rules, checked: true}, nil
}

type checker struct {
	cols   []Column
	byName map[string]int
	params map[int]Type
}

func errAt(n node, format string, args ...any) error {
	return &Error{Pos: n.at(), Msg: fmt.Sprintf(format, args...)}
}

// coerce converts n to t: an untyped literal or parameter takes type t
// (its text is parsed now, so a bad value is a 400, as Postgres rejects it
// at parse time); a typed value is widened by an implicit cast.
func (c *checker) coerce(n node, t Type) (node, error) {
	if n.typ() == t {
		return n, nil
	}
	switch x := n.(type) {
	case *constant:
		if x.t == Unknown {
			if x.null {
				return &constant{pos: x.pos, t: t, null: true, v: nullOf(t)}, nil
			}
			v, err := parseValue(t, x.raw)
			if err != nil {
				return nil, literalErr(n, t, x.raw, err)
			}
			return &constant{pos: x.pos, t: t, raw: x.raw, v: v}, nil
		}
	case *param:
		if x.t == Unknown {
			if prev, ok := c.params[x.n]; ok && prev != t {
				return nil, errAt(n, "type conflict for $%d: %s and %s", x.n, prev, t)
			}
			c.params[x.n] = t
			v, err := parseValue(t, x.raw)
			if err != nil {
				return nil, literalErr(n, t, x.raw, err)
			}
			return &param{pos: x.pos, n: x.n, raw: x.raw, t: t, v: v}, nil
		}
	}
	from := n.typ()
	if isNumber(from) && isNumber(t) && numberRank(from) < numberRank(t) || isTextual(from) && isTextual(t) || widensDateTime(from, t) {
		return &cast{pos: pos(n.at()), arg: n, t: t}, nil
	}
	return nil, errAt(n, "cannot use a value of type %s as type %s", from, t)
}

func (c *checker) coerceBool(n node, what string) (node, error) {
	if t := n.typ(); t != Bool && t != Unknown {
		return nil, errAt(n, "argument of %s must be type boolean, not type %s", what, t)
	}
	return c.coerce(n, Bool)
}

// common resolves the type several values are compared or combined as;
// when all are untyped it is text, as in Postgres.
func (c *checker) common(what string, ns ...node) (Type, error) {
	t := Unknown
	for _, n := range ns {
		nt, ok := unionType(t, n.typ())
		if !ok {
			return "", errAt(n, "%s types %s and %s cannot be matched", what, t, n.typ())
		}
		t = nt
	}
	if t == Unknown {
		t = Text
	}
	return t, nil
}

func (c *checker) checkAll(ns []node) ([]node, error) {
	out := make([]node, len(ns))
	for i, n := range ns {
		x, err := c.check(n)
		if err != nil {
			return nil, err
		}
		out[i] = x
	}
	return out, nil
}

func (c *checker) coerceAll(ns []node, t Type) ([]node, error) {
	out := make([]node, len(ns))
	for i, n := range ns {
		x, err := c.coerce(n, t)
		if err != nil {
			return nil, err
		}
		out[i] = x
	}
	return out, nil
}

func (c *checker) check(n node) (node, error) {
	switch x := n.(type) {
	case *colRef:
		i, ok := c.byName[x.name]
		if !ok {
			return nil, errAt(n, "unknown reference %s", x.name)
		}
		t, ok := columnType(c.cols[i].Type)
		if !ok {
			return nil, errAt(n, "unsupported type %s (column %s)", c.cols[i].Type, x.name)
		}
		return &colRef{pos: x.pos, name: x.name, idx: i, t: t}, nil
	case *constant:
		if x.t == Unknown {
			return &constant{pos: x.pos, t: Unknown, raw: x.raw, null: x.null, v: Value{t: Unknown, s: x.raw, null: x.null}}, nil
		}
		v, err := parseValue(x.t, x.raw)
		if err != nil {
			return nil, literalErr(n, x.t, x.raw, err)
		}
		return &constant{pos: x.pos, t: x.t, raw: x.raw, v: v}, nil
	case *param:
		return &param{pos: x.pos, n: x.n, raw: x.raw, t: Unknown, v: Value{t: Unknown, s: x.raw}}, nil
	case *cast:
		if ac, ok := x.arg.(*arrayCons); ok && x.t.IsArray() {
			return c.checkArrayCons(ac, x.t) // ARRAY[…]::t[] casts the elements
		}
		arg, err := c.check(x.arg)
		if err != nil {
			return nil, err
		}
		if arg.typ() == Unknown {
			return c.coerce(arg, x.t)
		}
		if !canCast(arg.typ(), x.t) {
			return nil, errAt(n, "unknown cast from type %s to type %s", arg.typ(), x.t)
		}
		if err := checkDateTimeCast(arg, x.t); err != nil {
			return nil, err
		}
		if arg.typ() == x.t {
			return arg, nil
		}
		return &cast{pos: x.pos, arg: arg, t: x.t}, nil
	case *boolOp:
		args, err := c.checkAll(x.args)
		if err != nil {
			return nil, err
		}
		what := map[boolOpKind]string{opAnd: "AND", opOr: "OR", opNot: "NOT"}[x.op]
		for i := range args {
			if args[i], err = c.coerceBool(args[i], what); err != nil {
				return nil, err
			}
		}
		return &boolOp{pos: x.pos, op: x.op, args: args}, nil
	case *compare:
		l, r, err := c.pair(x.l, x.r, x.op)
		if err != nil {
			return nil, err
		}
		return &compare{pos: x.pos, op: x.op, l: l, r: r}, nil
	case *distinct:
		l, r, err := c.pair(x.l, x.r, "IS DISTINCT FROM")
		if err != nil {
			return nil, err
		}
		return &distinct{pos: x.pos, not: x.not, l: l, r: r}, nil
	case *nullTest:
		arg, err := c.check(x.arg)
		if err != nil {
			return nil, err
		}
		return &nullTest{pos: x.pos, not: x.not, arg: arg}, nil
	case *boolTest:
		arg, err := c.check(x.arg)
		if err != nil {
			return nil, err
		}
		if arg, err = c.coerceBool(arg, "IS "+x.value); err != nil {
			return nil, err
		}
		return &boolTest{pos: x.pos, not: x.not, value: x.value, arg: arg}, nil
	case *between:
		return c.check(rewriteBetween(x))
	case *inList:
		return c.checkIn(x)
	case *like:
		arg, err := c.check(x.arg)
		if err != nil {
			return nil, err
		}
		pat, err := c.check(x.pattern)
		if err != nil {
			return nil, err
		}
		for _, o := range []node{arg, pat} {
			if t := o.typ(); t != Unknown && !isTextual(t) {
				return nil, errAt(n, "operator does not exist: %s ~~ %s", arg.typ(), pat.typ())
			}
		}
		if arg.typ() != Bpchar { // bpcharlike matches the padded value
			if arg, err = c.coerce(arg, Text); err != nil {
				return nil, err
			}
		}
		if pat, err = c.coerce(pat, Text); err != nil {
			return nil, err
		}
		return &like{pos: x.pos, not: x.not, insensitive: x.insensitive, arg: arg, pattern: pat}, nil
	case *quantified:
		return c.checkQuantified(x)
	case *arith:
		return c.checkArith(x)
	case *textConcat:
		l, err := c.check(x.l)
		if err != nil {
			return nil, err
		}
		r, err := c.check(x.r)
		if err != nil {
			return nil, err
		}
		if bc, ok, err := c.byteaConcat(x, l, r); ok {
			return bc, err
		}
		if ac, ok, err := c.arrayConcat(x, l, r); ok {
			return ac, err
		}
		lt, rt := l.typ(), r.typ()
		if lt.IsArray() || rt.IsArray() || !(isTextual(lt) || isTextual(rt) || lt == Unknown || rt == Unknown) {
			return nil, errAt(n, "operator does not exist: %s || %s", lt, rt)
		}
		if lt == Unknown {
			if l, err = c.coerce(l, Text); err != nil {
				return nil, err
			}
		}
		if rt == Unknown {
			if r, err = c.coerce(r, Text); err != nil {
				return nil, err
			}
		}
		return &textConcat{pos: x.pos, l: l, r: r}, nil
	case *call:
		return c.checkCall(x)
	case *subscript:
		arg, err := c.check(x.arg)
		if err != nil {
			return nil, err
		}
		if !arg.typ().IsArray() {
			return nil, errAt(n, "cannot subscript type %s because it does not support subscripting", arg.typ())
		}
		idx, err := c.check(x.index)
		if err != nil {
			return nil, err
		}
		switch t := idx.typ(); {
		case t == Unknown:
			idx, err = c.coerce(idx, Int4)
		case isNumber(t) && t != Int4:
			idx = &cast{pos: pos(idx.at()), arg: idx, t: Int4}
		case t != Int4:
			err = errAt(idx, "array subscript must have type integer")
		}
		if err != nil {
			return nil, err
		}
		return &subscript{pos: x.pos, arg: arg, index: idx, t: arg.typ().Elem()}, nil
	case *arrayCons:
		return c.checkArrayCons(x, "")
	case *arrayOp:
		return c.checkArrayOp(x)
	case *arrayFunc:
		return c.checkArrayFunc(x)
	case *arrayRef:
		return c.checkArrayRef(x)
	}
	return nil, errAt(n, "unsupported expression")
}

// pair checks the operands of a comparison and brings them to one type.
func (c *checker) pair(ln, rn node, op string) (node, node, error) {
	l, err := c.check(ln)
	if err != nil {
		return nil, nil, err
	}
	r, err := c.check(rn)
	if err != nil {
		return nil, nil, err
	}
	t, ok := commonType(l.typ(), r.typ())
	if !ok {
		return nil, nil, errAt(ln, "operator does not exist: %s %s %s", l.typ(), op, r.typ())
	}
	if t == Unknown {
		t = Text
	}
	if l, err = c.coerce(l, t); err != nil {
		return nil, nil, err
	}
	if r, err = c.coerce(r, t); err != nil {
		return nil, nil, err
	}
	return l, r, nil
}
