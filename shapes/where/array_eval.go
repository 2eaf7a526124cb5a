package where

import "math"

// Evaluation, constant folding and SQL rendering of the array nodes, with
// Postgres 15's semantics (arrayfuncs.c, array_userfuncs.c,
// execExprInterp.c).

func (ev *evaluator) evalArray(n node) (Value, error) {
	switch x := n.(type) {
	case *arrayOp:
		l, r, err := ev.two(x.l, x.r)
		if err != nil || l.null || r.null {
			return nullOf(Bool), err
		}
		switch x.op {
		case "@>":
			return boolValue(arrayContains(r, l, true)), nil
		case "<@":
			return boolValue(arrayContains(l, r, true)), nil
		}
		return boolValue(arrayContains(l, r, false)), nil
	case *arrayFunc:
		args := make([]Value, len(x.args))
		for i, a := range x.args {
			v, err := ev.eval(a)
			if err != nil {
				return Value{}, err
			}
			args[i] = v
		}
		switch x.name {
		case "array_ndims":
			if args[0].null || len(arrayDimsOf(args[0])) == 0 {
				return nullOf(Int4), nil
			}
			return Value{t: Int4, i: int64(len(arrayDimsOf(args[0])))}, nil
		case "array_cat":
			return arrayCat(args[0], args[1])
		case "array_append":
			return arrayAdd(args[0], args[1], false)
		}
		return arrayAdd(args[1], args[0], true)
	case *arrayRef:
		return ev.arrayRef(x)
	}
	return Value{}, evalErr("unsupported expression")
}

// arrayContains is array_contain_compare: whether every (matchAll) or
// some element of a equals an element of b. NULL elements never match,
// so a NULL element in a fails matchAll; dimensions are ignored.
func arrayContains(a, b Value, matchAll bool) bool {
	for _, x := range a.arr {
		if x.null {
			if matchAll {
				return false
			}
			continue
		}
		found := false
		for _, y := range b.arr {
			if !y.null && compareValues(x, y) == 0 {
				found = true
				break
			}
		}
		if found && !matchAll {
			return true
		}
		if !found && matchAll {
			return false
		}
	}
	return matchAll
}

func incompatibleArrays() error { return evalErr("cannot concatenate incompatible arrays") }

// arrayCat is array_cat: NULL or empty operands give the other one
// unchanged; otherwise the arrays join along their first dimension, or the
// one with a dimension less becomes one more item of the other.
func arrayCat(a, b Value) (Value, error) {
	switch {
	case a.null && b.null:
		return a, nil
	case a.null:
		return b, nil
	case b.null:
		return a, nil
	}
	da, db := arrayDimsOf(a), arrayDimsOf(b)
	if len(da) == 0 && len(db) > 0 {
		return b, nil
	}
	if len(db) == 0 {
		return a, nil
	}
	var dims []arrayDim
	switch len(da) - len(db) {
	case 0:
		dims = append([]arrayDim{{lb: da[0].lb, n: da[0].n + db[0].n}}, da[1:]...)
		for i := 1; i < len(da); i++ {
			if da[i] != db[i] {
				return Value{}, incompatibleArrays()
			}
		}
	case -1, 1:
		outer, inner := db, da
		if len(da) > len(db) {
			outer, inner = da, db
		}
		dims = append([]arrayDim{{lb: outer[0].lb, n: outer[0].n + 1}}, outer[1:]...)
		for i := range inner {
			if inner[i] != outer[i+1] {
				return Value{}, incompatibleArrays()
			}
		}
	default:
		return Value{}, incompatibleArrays()
	}
	if err := arraySizeOK(dims); err != nil {
		return Value{}, err
	}
	elems := append(append(make([]Value, 0, len(a.arr)+len(b.arr)), a.arr...), b.arr...)
	return makeArray(a.t, elems, dims), nil
}

// arraySizeOK is ArrayGetNItems's and ArrayCheckBounds's limits.
func arraySizeOK(dims []arrayDim) error {
	n := int64(1)
	for _, d := range dims {
		if n *= int64(d.n); d.n < 0 || n > 134217727 {
			return evalErr("array size exceeds the maximum allowed (134217727)")
		}
	}
	return checkArrayBounds(dims)
}

// arrayAdd is array_append (prepend false) and array_prepend: a NULL
// array counts as empty; a one-dimensional array grows at its end or, for
// prepend, its start, keeping its lower bound.
func arrayAdd(a, e Value, prepend bool) (Value, error) {
	dims := arrayDimsOf(a)
	if a.null {
		dims = nil
	}
	switch len(dims) {
	case 0:
		return makeArray(a.t, []Value{e}, nil), nil
	case 1:
	default:
		return Value{}, evalErr("argument must be empty or one-dimensional array")
	}
	d := dims[0]
	if prepend {
		if d.lb == math.MinInt32 {
			return Value{}, evalErr("integer out of range")
		}
		if err := checkArrayBounds([]arrayDim{{lb: d.lb - 1, n: d.n + 1}}); err != nil {
			return Value{}, err
		}
		return makeArray(a.t, append([]Value{e}, a.arr...), []arrayDim{{lb: d.lb, n: d.n + 1}}), nil
	}
	if int64(d.lb)+int64(d.n) > math.MaxInt32 {
		return Value{}, evalErr("integer out of range")
	}
	nd := []arrayDim{{lb: d.lb, n: d.n + 1}}
	if err := checkArrayBounds(nd); err != nil {
		return Value{}, err
	}
	return makeArray(a.t, append(append([]Value(nil), a.arr...), e), nd), nil
}

// subscriptValue is a[i] (array_get_element with one subscript): NULL
// unless a has exactly one dimension and i is within it. The subscript is
// not evaluated when a is NULL: the fetch is strict.
func (ev *evaluator) subscriptValue(x *subscript) (Value, error) {
	a, err := ev.eval(x.arg)
	if err != nil || a.null {
		return nullOf(x.t), err
	}
	i, err := ev.eval(x.index)
	if err != nil || i.null {
		return nullOf(x.t), err
	}
	return arrayElement(a, []int64{i.i}, x.t), nil
}

func arrayElement(a Value, idx []int64, et Type) Value {
	dims := arrayDimsOf(a)
	if len(dims) != len(idx) || len(dims) == 0 {
		return nullOf(et)
	}
	off := int64(0)
	for k, d := range dims {
		j := idx[k] - int64(d.lb)
		if j < 0 || j >= int64(d.n) {
			return nullOf(et)
		}
		off = off*int64(d.n) + j
	}
	return a.arr[off]
}

// arrayRef is ExecEvalSubscriptingRef for fetches: NULL for a NULL array
// (subscripts unevaluated) or any NULL subscript; several plain
// subscripts fetch an element; slices are array_get_slice, clamped to the
// array's bounds, empty when out of range, with lower bounds 1.
func (ev *evaluator) arrayRef(x *arrayRef) (Value, error) {
	a, err := ev.eval(x.arg)
	if err != nil || a.null {
		return nullOf(x.t), err
	}
	type bound struct {
		v   int64
		set bool
	}
	lower, upper := make([]bound, len(x.subs)), make([]bound, len(x.subs))
	isNull := false
	for k, s := range x.subs {
		for _, p := range []struct {
			n   node
			dst *bound
		}{{s.upper, &upper[k]}, {s.lower, &lower[k]}} {
			if p.n == nil {
				continue
			}
			v, err := ev.eval(p.n)
			if err != nil {
				return Value{}, err
			}
			isNull = isNull || v.null
			*p.dst = bound{v: v.i, set: true}
		}
	}
	if isNull {
		return nullOf(x.t), nil
	}
	if !x.slice {
		idx := make([]int64, len(upper))
		for k := range upper {
			idx[k] = upper[k].v
		}
		return arrayElement(a, idx, x.t), nil
	}
	dims := arrayDimsOf(a)
	empty := makeArray(x.t, nil, nil)
	if len(dims) < len(x.subs) || len(dims) == 0 {
		return empty, nil
	}
	lo, hi := make([]int64, len(dims)), make([]int64, len(dims))
	for k, d := range dims {
		lo[k], hi[k] = int64(d.lb), int64(d.lb)+int64(d.n)-1
		if k < len(x.subs) {
			if lower[k].set && lower[k].v > lo[k] {
				lo[k] = lower[k].v
			}
			if upper[k].set && upper[k].v < hi[k] {
				hi[k] = upper[k].v
			}
		}
		if lo[k] > hi[k] {
			return empty, nil
		}
	}
	out := make([]arrayDim, len(dims))
	for k := range dims {
		out[k] = arrayDim{lb: 1, n: int32(hi[k] - lo[k] + 1)}
	}
	var elems []Value
	idx := append([]int64(nil), lo...)
	for {
		elems = append(elems, arrayElement(a, idx, a.t.Elem()))
		k := len(idx) - 1
		for ; k >= 0; k-- {
			if idx[k] < hi[k] {
				idx[k]++
				break
			}
			idx[k] = lo[k]
		}
		if k < 0 {
			break
		}
	}
	return makeArray(x.t, elems, out), nil
}

// arrayConsMulti is ExecEvalArrayExpr for an ARRAY[…] of arrays: NULL and
// empty sub-arrays are allowed only when all are (giving an empty array);
// the others must have identical dimensions, which become the inner ones.
func (ev *evaluator) arrayConsMulti(x *arrayCons) (Value, error) {
	subs := make([]Value, len(x.elems))
	for i, el := range x.elems {
		v, err := ev.eval(el)
		if err != nil {
			return Value{}, err
		}
		subs[i] = v
	}
	mismatch := func() (Value, error) {
		return Value{}, evalErr("multidimensional arrays must have array expressions with matching dimensions")
	}
	var inner []arrayDim
	haveEmpty, first := false, true
	var elems []Value
	for _, v := range subs {
		d := arrayDimsOf(v)
		if v.null || len(d) == 0 {
			haveEmpty = true
			continue
		}
		if first {
			if len(d)+1 > maxArrayDims {
				return Value{}, evalErr("number of array dimensions (%d) exceeds the maximum allowed (%d)", len(d)+1, maxArrayDims)
			}
			inner, first = d, false
		} else if !sameDims(inner, d) {
			return mismatch()
		}
		elems = append(elems, v.arr...)
	}
	if haveEmpty {
		if first {
			return makeArray(x.t, nil, nil), nil
		}
		return mismatch()
	}
	dims := append([]arrayDim{{lb: 1, n: int32(len(subs))}}, inner...)
	if err := arraySizeOK(dims); err != nil {
		return Value{}, err
	}
	return makeArray(x.t, elems, dims), nil
}

func sameDims(a, b []arrayDim) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// foldArray folds the array nodes as eval_const_expressions does: the
// operators and array_ndims are strict immutable functions; array_cat,
// array_append and array_prepend are immutable but not strict; a
// subscripting fetch folds when all its inputs are constants.
func (f *folder) foldArray(n node) (node, error) {
	switch x := n.(type) {
	case *arrayOp:
		return f.strict(n, []node{x.l, x.r}, func(a []node) node { return &arrayOp{pos: x.pos, op: x.op, l: a[0], r: a[1]} }, true)
	case *arrayFunc:
		return f.strict(n, x.args, func(a []node) node { return &arrayFunc{pos: x.pos, name: x.name, args: a, t: x.t} },
			x.name == "array_ndims")
	case *arrayRef:
		ins := x.operands()
		return f.strict(n, ins, func(a []node) node {
			out := &arrayRef{pos: x.pos, arg: a[0], slice: x.slice, t: x.t}
			k := 1
			for _, s := range x.subs {
				var ns arraySub
				ns.colon = s.colon
				if s.lower != nil {
					ns.lower, k = a[k], k+1
				}
				if s.upper != nil {
					ns.upper, k = a[k], k+1
				}
				out.subs = append(out.subs, ns)
			}
			return out
		}, false)
	}
	return n, nil
}

// renderArray writes the array nodes; || is always written as the
// function Check resolved it to, with typed operands, so Postgres cannot
// resolve it differently.
func (r *renderer) renderArray(n node) {
	switch x := n.(type) {
	case *arrayOp:
		r.binary(x.l, " "+x.op+" ", x.r)
	case *arrayFunc:
		r.w(x.name, "(")
		r.list(x.args)
		r.w(")")
	case *arrayRef:
		r.w("((")
		r.render(x.arg)
		r.w(")")
		for _, s := range x.subs {
			r.w("[")
			if s.lower != nil {
				r.render(s.lower)
			}
			if s.colon {
				r.w(":")
			}
			if s.upper != nil {
				r.render(s.upper)
			}
			r.w("]")
		}
		r.w(")")
	}
}
