package filter

import (
	"errors"
	"fmt"

	"github.com/shapesync/shapesync/replication/events"
)

// Condition describes a shape's where clause as far as routing needs it.
// Column numbers index the relation's columns (events.Tuple order); a
// column past the end of a row reads as NULL. Values are canonical Postgres
// text (what pgoutput sends for that type).
type Condition interface{ isCondition() }

// All matches every row: a shape without a where clause.
type All struct{}

// Eq is `column = Value`. A NULL column never matches.
type Eq struct {
	Column int
	Value  string
}

// In is `column IN (Values…)` or `column = ANY(Values)`. A NULL column
// never matches; an empty list matches nothing.
type In struct {
	Column int
	Values []string
}

// Contains is `column @> ARRAY[Values…]` on an array column: the row's
// array (text form, comma-delimited, any dimensions) holds every value as a
// non-NULL element. An empty Values list matches every non-NULL array.
type Contains struct {
	Column int
	Values []string
}

// And holds when every term holds; no terms means true.
type And struct{ Terms []Condition }

// Or holds when any branch holds; no branches means false.
type Or struct{ Branches []Condition }

// Residual is any other predicate, already compiled by the where-clause
// package. Matches must be pure and should return true when it cannot
// decide (see the package comment).
type Residual struct {
	Matches func(row events.Tuple) bool
}

func (All) isCondition()      {}
func (Eq) isCondition()       {}
func (In) isCondition()       {}
func (Contains) isCondition() {}
func (And) isCondition()      {}
func (Or) isCondition()       {}
func (Residual) isCondition() {}

// ErrInvalidCondition is wrapped by every error Add returns for a malformed
// condition tree.
var ErrInvalidCondition = errors.New("filter: invalid condition")

// validate rejects trees the index cannot place: nil nodes, negative columns,
// residuals without a predicate and unknown Condition implementations.
func validate(c Condition) error {
	switch c := c.(type) {
	case All:
		return nil
	case Eq:
		return checkColumn(c.Column)
	case In:
		return checkColumn(c.Column)
	case Contains:
		return checkColumn(c.Column)
	case And:
		for i, t := range c.Terms {
			if err := validate(t); err != nil {
				return fmt.Errorf("and term %d: %w", i, err)
			}
		}
		return nil
	case Or:
		for i, b := range c.Branches {
			if err := validate(b); err != nil {
				return fmt.Errorf("or branch %d: %w", i, err)
			}
		}
		return nil
	case Residual:
		if c.Matches == nil {
			return fmt.Errorf("%w: residual without a predicate", ErrInvalidCondition)
		}
		return nil
	case nil:
		return fmt.Errorf("%w: nil condition", ErrInvalidCondition)
	default:
		return fmt.Errorf("%w: unsupported condition type %T", ErrInvalidCondition, c)
	}
}

func checkColumn(col int) error {
	if col < 0 {
		return fmt.Errorf("%w: negative column %d", ErrInvalidCondition, col)
	}
	return nil
}

// columnText reads one column of a row; columns past the end are NULL, so a
// row decoded under a narrower relation never matches a term on a new column.
func columnText(row events.Tuple, col int) (string, bool) {
	if col >= len(row) {
		return "", false
	}
	v := row[col]
	return v.Text, !v.Null
}

// Matches is the reference semantics of a condition on one row: what the
// index answers, evaluated the slow way. The collector does not need it; it
// documents the contract and is the oracle of the tests and benchmarks.
func Matches(c Condition, row events.Tuple) bool {
	switch c := c.(type) {
	case All:
		return true
	case Eq:
		v, ok := columnText(row, c.Column)
		return ok && v == c.Value
	case In:
		v, ok := columnText(row, c.Column)
		if !ok {
			return false
		}
		for _, want := range c.Values {
			if v == want {
				return true
			}
		}
		return false
	case Contains:
		v, ok := columnText(row, c.Column)
		if !ok {
			return false
		}
		elems, err := arrayElements(v, nil)
		if err != nil {
			// Postgres never sends a malformed array; if it did, routing
			// to the shape is the safe answer (the consumer re-checks).
			return true
		}
		for _, want := range c.Values {
			found := false
			for _, e := range elems {
				if e == want {
					found = true
					break
				}
			}
			if !found {
				return false
			}
		}
		return true
	case And:
		for _, t := range c.Terms {
			if !Matches(t, row) {
				return false
			}
		}
		return true
	case Or:
		for _, b := range c.Branches {
			if Matches(b, row) {
				return true
			}
		}
		return false
	case Residual:
		return c.Matches != nil && c.Matches(row)
	}
	return false
}
