package where

// IndexKind says what an IndexTerm is.
type IndexKind int

// The kinds of IndexTerm.
const (
	// IndexOther is any part of the clause that only evaluating it can
	// decide; it holds for every row as far as the term tree tells.
	IndexOther IndexKind = iota
	// IndexAnd holds when every term of Terms holds (none: always).
	IndexAnd
	// IndexOr holds when some term of Terms holds (none: never).
	IndexOr
	// IndexEq is `Column = Values[0]`: the column is non-NULL and its text
	// is exactly Values[0].
	IndexEq
	// IndexIn is `Column IN (Values…)` or `Column = ANY(const array)`: the
	// column is non-NULL and its text is one of Values (none: never).
	IndexIn
)

// IndexTerm is the indexable structure of a checked clause, for a routing
// index that looks changes up by column value instead of evaluating every
// shape's clause. It is a necessary condition: every row on which Eval
// returns true satisfies the tree (IndexOther counting as true), provided
// the row carries each value in its type's output form, as pgoutput and the
// snapshot's ::text casts render it. A row that satisfies it may still not
// match: the caller evaluates the clause wherever precision matters.
//
// Values are compared as text, so a comparison is indexable only on a
// column (bare, or under a cast that keeps its text: integer widening,
// varchar to text) of a type
// whose output form is the one canonical text of each value: int2, int4,
// int8, text, varchar, uuid (lower-case, hyphenated) and bool (t or f).
// Every other comparison, operator and type is IndexOther.
type IndexTerm struct {
	Kind IndexKind
	// Column is the column's position in the columns given to Check (Eq, In).
	Column int
	// Values are the constants in the column type's output form (Eq, In).
	Values []string
	// Terms are the operands of And and Or.
	Terms []IndexTerm
}

// IndexTerms analyses the expression Eval runs (after constant folding, so
// `id = 2 + 3` is `id = 5`). An expression that is not checked, or that
// fails for every row at plan time, is IndexOther.
func (e *Expr) IndexTerms() IndexTerm {
	if e == nil || !e.checked || e.planErr != nil {
		return IndexTerm{Kind: IndexOther}
	}
	return indexTerm(e.folded)
}

var (
	indexAlways = IndexTerm{Kind: IndexAnd}
	indexNever  = IndexTerm{Kind: IndexOr}
	indexOther  = IndexTerm{Kind: IndexOther}
)

func indexTerm(n node) IndexTerm {
	switch x := n.(type) {
	case *boolOp:
		if x.op == opNot {
			// NOT b is true only when b is false.
			if c, ok := indexColumn(x.args[0]); ok && c.t == Bool {
				return indexEq(c, "f")
			}
			return indexOther
		}
		kind := IndexAnd
		if x.op == opOr {
			kind = IndexOr
		}
		terms := make([]IndexTerm, len(x.args))
		for i, a := range x.args {
			terms[i] = indexTerm(a)
		}
		return IndexTerm{Kind: kind, Terms: terms}
	case *constant:
		// What folding left of a constant arm: only true lets a row in.
		if x.t == Bool && !x.v.null && x.v.b {
			return indexAlways
		}
		return indexNever
	case *colRef:
		if c, ok := indexColumn(x); ok && c.t == Bool {
			return indexEq(c, "t")
		}
	case *boolTest:
		if c, ok := indexColumn(x.arg); ok && c.t == Bool && !x.not {
			switch x.value {
			case "TRUE":
				return indexEq(c, "t")
			case "FALSE":
				return indexEq(c, "f")
			}
		}
	case *compare:
		if x.op == "=" {
			return columnEquals(x.l, x.r)
		}
	case *distinct:
		// IS NOT DISTINCT FROM a non-NULL constant is true exactly when =
		// is; against NULL it is IS NULL, which no value lookup finds.
		if x.not {
			if t := columnEquals(x.l, x.r); t.Kind == IndexEq {
				return t
			}
		}
	case *quantified:
		if x.op == "=" && !x.all {
			return columnInArray(x.l, x.r)
		}
	}
	return indexOther
}

// columnEquals is `a = b` with a column on one side and a constant on the
// other, in either order.
func columnEquals(a, b node) IndexTerm {
	c, ok := indexColumn(a)
	if !ok {
		if c, ok = indexColumn(b); !ok {
			return indexOther
		}
		a, b = b, a
	}
	v, ok := constValue(b)
	switch {
	case !ok || v.t != c.t:
		return indexOther
	case v.null:
		return indexNever
	}
	return indexEq(c, outputText(v))
}

// columnInArray is `col = ANY(arr)` with arr a constant array of the
// column's type. NULL elements never equal anything and are left out.
func columnInArray(l, r node) IndexTerm {
	c, ok := indexColumn(l)
	if !ok {
		return indexOther
	}
	v, ok := constValue(r)
	switch {
	case !ok || v.t != arrayOf(c.t):
		return indexOther
	case v.null:
		return indexNever
	}
	values := make([]string, 0, len(v.arr))
	for _, el := range v.arr {
		if !el.null {
			values = append(values, outputText(el))
		}
	}
	return IndexTerm{Kind: IndexIn, Column: c.idx, Values: values}
}

func indexEq(c *colRef, text string) IndexTerm {
	return IndexTerm{Kind: IndexEq, Column: c.idx, Values: []string{text}}
}

// indexColumn returns n when it is a bare column of a type whose output
// form is canonical, or such a column under a cast that keeps its text
// (integer widening, varchar to text), seen as a column of the cast's type.
func indexColumn(n node) (*colRef, bool) {
	if x, ok := n.(*cast); ok {
		c, ok := indexColumn(x.arg)
		if !ok || !sameTextCast(c.t, x.t) {
			return nil, false
		}
		return &colRef{pos: c.pos, name: c.name, idx: c.idx, t: x.t}, true
	}
	c, ok := n.(*colRef)
	if !ok {
		return nil, false
	}
	switch c.t {
	case Bool, Int2, Int4, Int8, Text, Varchar, UUID:
		return c, true
	}
	return nil, false
}

// sameTextCast reports whether casting every value of type from to type to
// keeps its output text: the canonical decimal form of an integer does not
// depend on its width, and varchar and text share their bytes.
func sameTextCast(from, to Type) bool {
	switch {
	case isInteger(from) && isInteger(to):
		return numberRank(from) <= numberRank(to)
	case from == Varchar && to == Text:
		return true
	}
	return false
}

// constValue is the value of a literal or bound parameter: what Eval
// compares the column with.
func constValue(n node) (Value, bool) {
	switch c := n.(type) {
	case *constant:
		return c.v, true
	case *param:
		return c.v, true
	}
	return Value{}, false
}
