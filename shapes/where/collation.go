package where

import (
	"strings"
	"unicode"
)

// TextRules are the database's text semantics the evaluator must follow
// (SHAPE_API §20.6), read from the catalog by the caller: the evaluator
// does no I/O. The zero value is the C locale (the differential test's).
type TextRules struct {
	// UnicodeCase makes lower, upper and ILIKE fold with Unicode simple
	// case mapping, as Postgres does when the database's LC_CTYPE
	// (pg_database.datctype) is neither C nor POSIX; otherwise folding is
	// ASCII-only (lower('É') stays 'É').
	UnicodeCase bool
	// DefaultCollation is pg_database.datcollate: the collation of
	// literals, parameters and columns without one of their own. ""
	// means C.
	DefaultCollation string
	// ColumnCollations holds, by column index, the collation (collcollate
	// for libc collations, or the name for the built-in "C" and "POSIX")
	// of text columns whose collation is not the database default.
	ColumnCollations map[int]string
}

// TextRulesFor is the TextRules of a database with the given datctype and
// datcollate.
func TextRulesFor(ctype, collate string) TextRules {
	return TextRules{UnicodeCase: !isCLocale(ctype), DefaultCollation: collate}
}

// isCLocale reports whether a libc locale name is C or POSIX (including
// their encoding-suffixed spellings), whose ctype folds ASCII only.
func isCLocale(name string) bool {
	switch name {
	case "", "C", "POSIX":
		return true
	}
	return false
}

// byteOrdered reports whether a collation orders UTF-8 text by its bytes:
// C and POSIX compare with memcmp, and glibc's C.UTF-8 by code point,
// which is the same order for UTF-8.
func byteOrdered(collation string) bool {
	switch strings.ToLower(collation) {
	case "", "c", "posix", "c.utf-8", "c.utf8":
		return true
	}
	return false
}

func (r *TextRules) lower(s string) string {
	if r.UnicodeCase {
		return strings.Map(unicode.ToLower, s)
	}
	return asciiLower(s)
}

func (r *TextRules) upper(s string) string {
	if r.UnicodeCase {
		return strings.Map(unicode.ToUpper, s)
	}
	return asciiUpper(s)
}

// checkTextOrder rejects ordering comparisons of text whose collation is
// not byte-ordered: Go compares text bytewise, and a shape must never
// disagree with its own snapshot (§20.6 allows rejecting them; equality,
// LIKE, ILIKE, lower and upper are always accepted).
func (r *TextRules) checkTextOrder(n node) error {
	var err error
	walk(n, func(n node) bool {
		switch x := n.(type) {
		case *compare:
			if isOrdering(x.op) && isTextual(x.l.typ()) {
				err = r.orderable(x, x.op, x.l, x.r)
			}
		case *quantified:
			if isOrdering(x.op) && isTextual(x.l.typ()) {
				err = r.orderable(x, x.op, x.l, x.r)
			}
		case *call:
			if (x.name == "greatest" || x.name == "least") && isTextual(x.t) {
				err = r.orderable(x, x.name, x.args...)
			}
		}
		return err == nil
	})
	return err
}

func isOrdering(op string) bool { return op == "<" || op == ">" || op == "<=" || op == ">=" }

// orderable finds the collation Postgres derives for an ordering of
// operands: a text column's collation is implicit and wins over the
// default of literals, parameters and casts. It accepts only when every
// collation in play is byte-ordered, which is also when Postgres's
// derivation cannot matter.
func (r *TextRules) orderable(at node, op string, operands ...node) error {
	collations := []string{}
	anyColumn := false
	for _, o := range operands {
		walk(o, func(n node) bool {
			if c, ok := n.(*colRef); ok && isTextual(c.t) {
				anyColumn = true
				coll, own := r.ColumnCollations[c.idx]
				if !own {
					coll = r.DefaultCollation
				}
				collations = append(collations, coll)
			}
			return true
		})
	}
	if !anyColumn {
		collations = append(collations, r.DefaultCollation)
	}
	for _, c := range collations {
		if !byteOrdered(c) {
			return errAt(at, "ordering text with %s under collation %q is not supported: shapesync compares text byte-wise, which only the C and POSIX collations do (compare for equality, or give the column COLLATE \"C\")", op, c)
		}
	}
	return nil
}

// walk calls visit on n and, while visit returns true, on every node
// below it, depth first.
func walk(n node, visit func(node) bool) bool {
	if n == nil || !visit(n) {
		return n == nil
	}
	for _, c := range children(n) {
		if c != nil && !walk(c, visit) {
			return false
		}
	}
	return true
}

// children lists the operands of a node. A node type missing here hides
// its operands from the collation check only (its columns then count as
// default-collation ones), so a new type should be added when it can hold
// text operands.
func children(n node) []node {
	switch x := n.(type) {
	case *cast:
		return []node{x.arg}
	case *boolOp:
		return x.args
	case *compare:
		return []node{x.l, x.r}
	case *distinct:
		return []node{x.l, x.r}
	case *nullTest:
		return []node{x.arg}
	case *boolTest:
		return []node{x.arg}
	case *like:
		return []node{x.arg, x.pattern}
	case *quantified:
		return []node{x.l, x.r}
	case *arith:
		return []node{x.l, x.r}
	case *textConcat:
		return []node{x.l, x.r}
	case *call:
		return x.args
	case *arrayCons:
		return x.elems
	case *subscript:
		return []node{x.arg, x.index}
	case interface{ operands() []node }:
		return x.operands()
	}
	return nil
}
