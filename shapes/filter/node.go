package filter

import (
	"slices"

	"github.com/shapesync/shapesync/replication/events"
)

// node is one level of a table's condition tree. A row that reaches a node
// has satisfied every indexed term on the path from the root.
type node[S comparable] struct {
	// here holds the shapes with nothing left to check at this node.
	here []S
	// eq is the hash index: column → canonical text → child.
	eq []columnIndex[S]
	// contains is the inclusion index: column → array element → child.
	contains []columnIndex[S]
	// residual holds shapes whose remaining terms are all predicates.
	residual []residualEntry[S]
}

type columnIndex[S comparable] struct {
	column  int
	byValue map[string]*node[S]
}

type residualEntry[S comparable] struct {
	shape S
	preds []func(events.Tuple) bool
}

func (n *node[S]) empty() bool {
	return len(n.here) == 0 && len(n.eq) == 0 && len(n.contains) == 0 && len(n.residual) == 0
}

// Term ranks for choosing which term of a conjunction indexes it. Equality
// first (one child, the most selective), then IN (one child per value),
// then inclusion, then OR (splits into branches), predicates last.
const (
	rankEq = iota
	rankIn
	rankContains
	rankOr
	rankResidual
)

func rank(c Condition) int {
	switch c := c.(type) {
	case Eq:
		return rankEq
	case In:
		return rankIn
	case Contains:
		if len(c.Values) > 0 {
			return rankContains
		}
	case Or:
		return rankOr
	}
	return rankResidual
}

// flatten appends the conjuncts of terms to dst with nested And expanded and
// All dropped. It reports false when the conjunction can never hold (an
// empty Or or IN list), so nothing is placed for it. It never mutates terms.
func flatten(dst, terms []Condition) ([]Condition, bool) {
	for _, t := range terms {
		switch t := t.(type) {
		case All:
		case And:
			var ok bool
			if dst, ok = flatten(dst, t.Terms); !ok {
				return dst, false
			}
		case Or:
			switch len(t.Branches) {
			case 0:
				return dst, false
			case 1:
				var ok bool
				if dst, ok = flatten(dst, t.Branches[:1]); !ok {
					return dst, false
				}
			default:
				dst = append(dst, t)
			}
		case In:
			if len(t.Values) == 0 {
				return dst, false
			}
			dst = append(dst, t)
		default:
			dst = append(dst, t)
		}
	}
	return dst, true
}

// pick returns the index of the term that indexes the conjunction: the best
// rank, ties broken by the lower column (so shapes over the same columns
// share nodes) and then by fewer values.
func pick(terms []Condition) int {
	best := 0
	for i := 1; i < len(terms); i++ {
		if less(terms[i], terms[best]) {
			best = i
		}
	}
	return best
}

func less(a, b Condition) bool {
	ra, rb := rank(a), rank(b)
	if ra != rb {
		return ra < rb
	}
	switch a := a.(type) {
	case Eq:
		return a.Column < b.(Eq).Column
	case In:
		bb := b.(In)
		if a.Column != bb.Column {
			return a.Column < bb.Column
		}
		return len(a.Values) < len(bb.Values)
	case Contains:
		// Contains without values ranks with the residuals, beside them.
		if bb, ok := b.(Contains); ok {
			return a.Column < bb.Column
		}
	}
	return false
}

// place adds (add) or removes the shape along the paths its conjunction
// selects. Both directions walk the same paths because the choice depends
// only on the terms; removal prunes nodes that become empty.
func (n *node[S]) place(terms []Condition, shape S, add bool) {
	flat, ok := flatten(make([]Condition, 0, len(terms)), terms)
	if !ok {
		return
	}
	if len(flat) == 0 {
		n.setHere(shape, add)
		return
	}
	i := pick(flat)
	chosen := flat[i]
	if rank(chosen) == rankResidual {
		n.setResidual(flat, shape, add)
		return
	}
	rest := slices.Delete(flat, i, i+1)
	switch c := chosen.(type) {
	case Eq:
		n.placeChild(&n.eq, c.Column, c.Value, rest, shape, add)
	case In:
		for j, v := range c.Values {
			if slices.Contains(c.Values[:j], v) {
				continue
			}
			n.placeChild(&n.eq, c.Column, v, rest, shape, add)
		}
	case Contains:
		// Reaching the child proves the first value is an element; the
		// others stay as an inclusion term below it.
		if len(c.Values) > 1 {
			rest = append(rest, Contains{Column: c.Column, Values: c.Values[1:]})
		}
		n.placeChild(&n.contains, c.Column, c.Values[0], rest, shape, add)
	case Or:
		for _, b := range c.Branches {
			n.place(append([]Condition{b}, rest...), shape, add)
		}
	}
}

func (n *node[S]) placeChild(index *[]columnIndex[S], col int, value string, rest []Condition, shape S, add bool) {
	at := slices.IndexFunc(*index, func(ci columnIndex[S]) bool { return ci.column == col })
	if at < 0 {
		if !add {
			return
		}
		*index = append(*index, columnIndex[S]{column: col, byValue: map[string]*node[S]{}})
		at = len(*index) - 1
	}
	byValue := (*index)[at].byValue
	child := byValue[value]
	if child == nil {
		if !add {
			return
		}
		child = &node[S]{}
		byValue[value] = child
	}
	child.place(rest, shape, add)
	if !add && child.empty() {
		delete(byValue, value)
		if len(byValue) == 0 {
			*index = slices.Delete(*index, at, at+1)
		}
	}
}

func (n *node[S]) setHere(shape S, add bool) {
	at := slices.Index(n.here, shape)
	switch {
	case add && at < 0:
		n.here = append(n.here, shape)
	case !add && at >= 0:
		n.here = slices.Delete(n.here, at, at+1)
	}
}

// setResidual stores the predicates of an all-residual conjunction. Removal
// drops every entry of the shape at this node (an OR may have put several).
func (n *node[S]) setResidual(terms []Condition, shape S, add bool) {
	if !add {
		n.residual = slices.DeleteFunc(n.residual, func(e residualEntry[S]) bool { return e.shape == shape })
		return
	}
	preds := make([]func(events.Tuple) bool, 0, len(terms))
	for _, t := range terms {
		switch t := t.(type) {
		case Residual:
			preds = append(preds, t.Matches)
		case Contains: // no values: any non-NULL array
			col := t.Column
			preds = append(preds, func(row events.Tuple) bool {
				_, ok := columnText(row, col)
				return ok
			})
		}
	}
	n.residual = append(n.residual, residualEntry[S]{shape: shape, preds: preds})
}

// collect appends the shapes below n whose conditions hold for row. A shape
// may be appended more than once (OR branches); the caller de-duplicates.
func (n *node[S]) collect(row events.Tuple, arrays *arrayCache, out []S) []S {
	out = append(out, n.here...)
	for _, ci := range n.eq {
		v, ok := columnText(row, ci.column)
		if !ok {
			continue
		}
		if child := ci.byValue[v]; child != nil {
			out = child.collect(row, arrays, out)
		}
	}
	for _, ci := range n.contains {
		elems, ok, parsed := arrays.elements(row, ci.column)
		if !ok {
			continue
		}
		if !parsed {
			// A malformed array cannot be checked; route to every shape
			// that indexes this column (the consumer re-checks).
			for _, child := range ci.byValue {
				out = child.collect(row, arrays, out)
			}
			continue
		}
		for _, e := range elems {
			if child := ci.byValue[e]; child != nil {
				out = child.collect(row, arrays, out)
			}
		}
	}
outer:
	for _, e := range n.residual {
		for _, p := range e.preds {
			if !p(row) {
				continue outer
			}
		}
		out = append(out, e.shape)
	}
	return out
}

// arrayCache parses each array column of the current row once, however
// many inclusion nodes look at it.
type arrayCache struct {
	entries []arrayEntry
}

type arrayEntry struct {
	column int
	null   bool
	parsed bool
	elems  []string // distinct, sorted
}

func (c *arrayCache) reset() {
	c.entries = c.entries[:0]
}

// elements returns the distinct non-NULL elements of an array column; ok is
// false for a NULL column, parsed false for malformed array text.
func (c *arrayCache) elements(row events.Tuple, col int) (elems []string, ok, parsed bool) {
	for i := range c.entries {
		if e := &c.entries[i]; e.column == col {
			return e.elems, !e.null, e.parsed
		}
	}
	e := arrayEntry{column: col}
	text, ok := columnText(row, col)
	if !ok {
		e.null = true
	} else if list, err := arrayElements(text, nil); err == nil {
		slices.Sort(list)
		e.elems = slices.Compact(list)
		e.parsed = true
	}
	c.entries = append(c.entries, e)
	return e.elems, !e.null, e.parsed
}
