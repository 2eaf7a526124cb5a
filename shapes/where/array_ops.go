package where

import (
	pg "github.com/pganalyze/pg_query_go/v6"
)

// The array operators and functions of SHAPE_API §20.2 beyond ARRAY[…]
// and a[i]: multi-subscripts and slices, @> <@ &&, || on arrays (as
// Postgres resolves it: array_cat, array_append or array_prepend),
// array_cat, array_append, array_prepend and array_ndims. Elements are
// compared with compareValues, so every element type the package supports
// works here unchanged.

// arrayOp is @>, <@ or && on two arrays of one type.
type arrayOp struct {
	pos
	op   string
	l, r node
}

// arrayFunc is array_cat, array_append, array_prepend or array_ndims.
type arrayFunc struct {
	pos
	name string
	args []node
	t    Type
}

// arrayRef is a[…]… with several subscripts, or with slices. After
// Check, every subscript of a slice is a colon one (a plain i among slices
// means 1:i, as transformContainerSubscripts makes it).
type arrayRef struct {
	pos
	arg   node
	subs  []arraySub
	slice bool
	t     Type
}

// arraySub is one subscript: [upper], or [lower:upper] when colon, where
// an omitted bound is nil.
type arraySub struct {
	lower, upper node
	colon        bool
}

func (n *arrayOp) typ() Type   { return Bool }
func (n *arrayFunc) typ() Type { return n.t }
func (n *arrayRef) typ() Type  { return n.t }

func (n *arrayOp) operands() []node   { return []node{n.l, n.r} }
func (n *arrayFunc) operands() []node { return n.args }
func (n *arrayRef) operands() []node {
	out := []node{n.arg}
	for _, s := range n.subs {
		for _, b := range []node{s.lower, s.upper} {
			if b != nil {
				out = append(out, b)
			}
		}
	}
	return out
}

// indirection converts a[…][…]: one plain subscript stays a subscript
// node; anything else is an arrayRef.
func (c *converter) indirection(n *pg.Node, ind *pg.A_Indirection, depth int) (node, error) {
	arg, err := c.conv(ind.Arg, depth)
	if err != nil {
		return nil, err
	}
	if len(ind.Indirection) > maxArrayDims {
		return nil, c.errAt(nodeLocation(n), "number of array dimensions (%d) exceeds the maximum allowed (%d)", len(ind.Indirection), maxArrayDims)
	}
	ref := &arrayRef{pos: pos(arg.at()), arg: arg}
	for _, sub := range ind.Indirection {
		ai := sub.GetAIndices()
		if ai == nil {
			return nil, c.errAt(nodeLocation(n), "only array subscripts are supported (not field selection or *)")
		}
		var lo, hi node
		if ai.Lidx != nil {
			if lo, err = c.conv(ai.Lidx, depth); err != nil {
				return nil, err
			}
		}
		if ai.Uidx != nil {
			if hi, err = c.conv(ai.Uidx, depth); err != nil {
				return nil, err
			}
		}
		ref.slice = ref.slice || ai.IsSlice
		if !ai.IsSlice && hi == nil {
			return nil, c.errAt(nodeLocation(n), "missing array subscript")
		}
		ref.subs = append(ref.subs, arraySub{lower: lo, upper: hi, colon: ai.IsSlice})
	}
	if !ref.slice && len(ref.subs) == 1 {
		return &subscript{pos: ref.pos, arg: arg, index: ref.subs[0].upper}, nil
	}
	return ref, nil
}

// checkIndex brings a subscript to int4, as Postgres's assignment
// coercion does (numbers are cast, untyped literals read as int4).
func (c *checker) checkIndex(n node) (node, error) {
	idx, err := c.check(n)
	if err != nil {
		return nil, err
	}
	switch t := idx.typ(); {
	case t == Unknown:
		return c.coerce(idx, Int4)
	case isNumber(t) && t != Int4:
		return &cast{pos: pos(idx.at()), arg: idx, t: Int4}, nil
	case t != Int4:
		return nil, errAt(idx, "array subscript must have type integer")
	}
	return idx, nil
}

func (c *checker) checkArrayRef(x *arrayRef) (node, error) {
	arg, err := c.check(x.arg)
	if err != nil {
		return nil, err
	}
	if !arg.typ().IsArray() {
		return nil, errAt(x, "cannot subscript type %s because it does not support subscripting", arg.typ())
	}
	out := &arrayRef{pos: x.pos, arg: arg, slice: x.slice, t: arg.typ().Elem()}
	if x.slice {
		out.t = arg.typ()
	}
	for _, sub := range x.subs {
		var out1 arraySub
		if sub.upper != nil {
			if out1.upper, err = c.checkIndex(sub.upper); err != nil {
				return nil, err
			}
		}
		if sub.lower != nil {
			if out1.lower, err = c.checkIndex(sub.lower); err != nil {
				return nil, err
			}
		}
		out1.colon = sub.colon
		if x.slice && !sub.colon {
			out1.lower = &constant{pos: pos(out1.upper.at()), t: Int4, raw: "1", v: Value{t: Int4, i: 1}}
			out1.colon = true
		}
		out.subs = append(out.subs, out1)
	}
	return out, nil
}
