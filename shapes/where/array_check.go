package where

// Type checking of the array operators, functions and constructors, with
// Postgres 15's resolution: @> <@ && take two arrays of one type (anyarray);
// array_cat / array_append / array_prepend and || on arrays take
// anycompatible arguments, brought to their common element type by
// element-wise array casts; an untyped literal next to an array in || is
// an array (array_cat), so arr || '3' is a malformed array literal, as in
// Postgres.

// canCastArray reports whether an array cast from one type to another is
// supported: element-wise between numeric types or between text types
// (casts Postgres folds, being immutable), and any array to text
// (array_out).
func canCastArray(from, to Type) bool {
	switch {
	case from.IsArray() && isTextual(to):
		return true
	case from.IsArray() && to.IsArray():
		f, t := from.Elem(), to.Elem()
		return f == t || isNumber(f) && isNumber(t) || isTextual(f) && isTextual(t)
	}
	return false
}

// castArray is an element-wise array cast (ArrayCoerceExpr): dimensions
// are kept, NULL elements stay NULL.
func castArray(v Value, t Type) (Value, error) {
	elems := make([]Value, len(v.arr))
	for i, e := range v.arr {
		c, err := castValue(e, t.Elem())
		if err != nil {
			return Value{}, err
		}
		elems[i] = c
	}
	return Value{t: t, arr: elems, dims: v.dims}, nil
}

// coerceArray brings n to array type t: an untyped literal is read as t,
// a typed array is cast element-wise.
func (c *checker) coerceArray(n node, t Type) (node, error) {
	if n.typ() == t {
		return n, nil
	}
	if n.typ().IsArray() && canCastArray(n.typ(), t) {
		return &cast{pos: pos(n.at()), arg: n, t: t}, nil
	}
	return c.coerce(n, t)
}

func (c *checker) checkArrayOp(x *arrayOp) (node, error) {
	l, err := c.check(x.l)
	if err != nil {
		return nil, err
	}
	r, err := c.check(x.r)
	if err != nil {
		return nil, err
	}
	lt, rt := l.typ(), r.typ()
	switch {
	case lt == Unknown && rt == Unknown:
		return nil, errAt(x, "operator is not unique: unknown %s unknown", x.op)
	case lt == Unknown && rt.IsArray():
		lt = rt
	case rt == Unknown && lt.IsArray():
		rt = lt
	}
	if !lt.IsArray() || lt != rt {
		return nil, errAt(x, "operator does not exist: %s %s %s", l.typ(), x.op, r.typ())
	}
	if l, err = c.coerce(l, lt); err != nil {
		return nil, err
	}
	if r, err = c.coerce(r, rt); err != nil {
		return nil, err
	}
	return &arrayOp{pos: x.pos, op: x.op, l: l, r: r}, nil
}

// arrayConcat resolves || when an operand is an array: array || array
// (or untyped) is array_cat, array || element array_append, element ||
// array array_prepend. ok is false when neither operand is an array.
func (c *checker) arrayConcat(x *textConcat, l, r node) (node, bool, error) {
	lt, rt := l.typ(), r.typ()
	if !lt.IsArray() && !rt.IsArray() {
		return nil, false, nil
	}
	name := "array_cat"
	switch {
	case lt.IsArray() && rt != Unknown && !rt.IsArray():
		name = "array_append"
	case rt.IsArray() && lt != Unknown && !lt.IsArray():
		name = "array_prepend"
	}
	n, err := c.arrayFuncArgs(&arrayFunc{pos: x.pos, name: name}, []node{l, r}, "||")
	return n, true, err
}

func (c *checker) checkArrayFunc(x *arrayFunc) (node, error) {
	args, err := c.checkAll(x.args)
	if err != nil {
		return nil, err
	}
	return c.arrayFuncArgs(x, args, "")
}

// arrayFuncArgs types the checked arguments of an array function; op is
// "||" when the call is spelt as the operator (for error messages).
func (c *checker) arrayFuncArgs(x *arrayFunc, args []node, op string) (node, error) {
	fail := func() (node, error) {
		if op != "" {
			return nil, errAt(x, "operator does not exist: %s %s %s", args[0].typ(), op, args[1].typ())
		}
		var ts []any
		for _, a := range args {
			ts = append(ts, a.typ())
		}
		if len(ts) == 1 {
			return nil, errAt(x, "function %s(%s) does not exist", x.name, ts[0])
		}
		return nil, errAt(x, "function %s(%s, %s) does not exist", x.name, ts[0], ts[1])
	}
	if x.name == "array_ndims" {
		if !args[0].typ().IsArray() {
			if args[0].typ() == Unknown {
				return nil, errAt(x, "could not determine polymorphic type because input has type unknown")
			}
			return fail()
		}
		return &arrayFunc{pos: x.pos, name: x.name, args: args, t: Int4}, nil
	}
	// Which argument is the array and which (for append / prepend) the element.
	arr, elem := []int{0, 1}, -1
	switch x.name {
	case "array_append":
		arr, elem = []int{0}, 1
	case "array_prepend":
		arr, elem = []int{1}, 0
	}
	et := Unknown
	for i, a := range args {
		t := a.typ()
		isArr := i != elem
		switch {
		case t == Unknown:
			continue
		case isArr && !t.IsArray(), !isArr && t.IsArray():
			return fail()
		case isArr:
			t = t.Elem()
		}
		u, ok := unionType(et, t)
		if !ok {
			return fail()
		}
		et = u
	}
	if et == Unknown {
		et = Text
	}
	out := make([]node, len(args))
	var err error
	for _, i := range arr {
		if out[i], err = c.coerceArray(args[i], arrayOf(et)); err != nil {
			return nil, err
		}
	}
	if elem >= 0 {
		if out[elem], err = c.coerce(args[elem], et); err != nil {
			return nil, err
		}
	}
	return &arrayFunc{pos: x.pos, name: x.name, args: out, t: arrayOf(et)}, nil
}

// checkArrayCons is transformArrayExpr: with a target array type (an
// ARRAY[…] directly cast, e.g. ARRAY[]::int4[]) the elements are cast to
// it explicitly; otherwise they are brought to their common type. An
// element that is an array (a nested [...] or any array-typed value)
// makes the result one dimension higher.
func (c *checker) checkArrayCons(x *arrayCons, target Type) (node, error) {
	elems := make([]node, len(x.elems))
	multi := false
	for i, e := range x.elems {
		var err error
		if sub, ok := e.(*arrayCons); ok {
			elems[i], err = c.checkArrayCons(sub, target)
			multi = true
		} else {
			elems[i], err = c.check(e)
			multi = multi || err == nil && elems[i].typ().IsArray()
		}
		if err != nil {
			return nil, err
		}
	}
	var at, et Type
	if target != "" {
		at, et = target, target.Elem()
		want := et
		if multi {
			want = at
		}
		for i, e := range elems {
			var err error
			if elems[i], err = c.explicitCast(e, want); err != nil {
				return nil, err
			}
		}
		return &arrayCons{pos: x.pos, elems: elems, t: at, multi: multi}, nil
	}
	if len(elems) == 0 {
		return nil, errAt(x, "cannot determine type of empty array")
	}
	t, err := c.common("ARRAY", elems...)
	if err != nil {
		return nil, err
	}
	if multi != t.IsArray() {
		return nil, errAt(x, "ARRAY types do not match: array and non-array elements")
	}
	at = arrayOf(t)
	if multi {
		at = t
	}
	for i, e := range elems {
		if multi {
			elems[i], err = c.coerceArray(e, at)
		} else {
			elems[i], err = c.coerce(e, t)
		}
		if err != nil {
			return nil, err
		}
	}
	return &arrayCons{pos: x.pos, elems: elems, t: at, multi: multi}, nil
}

// explicitCast is the explicit cast of an element of a cast ARRAY[…].
func (c *checker) explicitCast(n node, t Type) (node, error) {
	from := n.typ()
	switch {
	case from == t:
		return n, nil
	case from == Unknown:
		return c.coerce(n, t)
	case from.IsArray() || t.IsArray():
		if !canCastArray(from, t) {
			return nil, errAt(n, "cannot cast type %s to %s", from, t)
		}
	case !canCast(from, t):
		return nil, errAt(n, "cannot cast type %s to %s", from, t)
	}
	if err := checkDateTimeCast(n, t); err != nil {
		return nil, err
	}
	return &cast{pos: pos(n.at()), arg: n, t: t}, nil
}
