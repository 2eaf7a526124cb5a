package supervisor

import (
	"github.com/shapesync/shapesync/replication/events"
	"github.com/shapesync/shapesync/shapes/filter"
	"github.com/shapesync/shapesync/shapes/registry"
	"github.com/shapesync/shapesync/shapes/where"
)

// routeCondition is the collector's routing condition for a shape with the
// checked clause e (nil: no clause, every row): the clause's indexable
// structure (where.IndexTerms) as filter terms, everything else as a
// residual that evaluates the whole clause. The collector then delivers a
// change only to the shapes whose condition its old or new row may satisfy;
// the consumer still evaluates the clause on every change it gets, so the
// condition may let through more than the clause, never less.
func routeCondition(e *where.Expr) filter.Condition {
	if e == nil {
		return filter.All{}
	}
	return conditionOf(e.IndexTerms(), filter.Residual{Matches: mayMatch(e)})
}

// conditionOf translates a term tree; residual stands for every
// IndexOther. The whole clause implies each of its conjuncts, so an And
// keeps one residual however many of its terms are IndexOther; an Or with
// an IndexOther branch would evaluate the residual on every row anyway, so
// it is the residual alone.
func conditionOf(t where.IndexTerm, residual filter.Residual) filter.Condition {
	switch t.Kind {
	case where.IndexEq:
		return filter.Eq{Column: t.Column, Value: t.Values[0]}
	case where.IndexIn:
		return filter.In{Column: t.Column, Values: t.Values}
	case where.IndexAnd:
		terms := make([]filter.Condition, 0, len(t.Terms))
		hasResidual := false
		for _, s := range t.Terms {
			c := conditionOf(s, residual)
			if _, ok := c.(filter.Residual); ok {
				if hasResidual {
					continue
				}
				hasResidual = true
			}
			terms = append(terms, c)
		}
		if len(terms) == 1 {
			return terms[0]
		}
		return filter.And{Terms: terms}
	case where.IndexOr:
		branches := make([]filter.Condition, 0, len(t.Terms))
		for _, s := range t.Terms {
			c := conditionOf(s, residual)
			if _, ok := c.(filter.Residual); ok {
				return residual
			}
			branches = append(branches, c)
		}
		if len(branches) == 1 {
			return branches[0]
		}
		return filter.Or{Branches: branches}
	}
	return residual
}

// mayMatch evaluates the clause for the index: true unless the clause is
// false or NULL on the row. An evaluation error answers true (the
// consumer, evaluating again, decides), as filter.Residual requires: a
// false negative would lose a change. A tuple shorter than the table reads
// as NULL past its end.
func mayMatch(e *where.Expr) func(events.Tuple) bool {
	return func(t events.Tuple) bool {
		v, err := e.Eval(func(i int) (string, bool) {
			if i < 0 || i >= len(t) {
				return "", true
			}
			return t[i].Text, t[i].Null
		})
		return err != nil || v.IsTrue()
	}
}

// storedRoute is the routing condition of a restored shape, for the
// registry's Subscribe. A clause that no longer checks routes every change:
// its consumer refuses to start anyway (see children in tree.go).
func storedRoute(e *registry.Entry) any {
	cond, err := checkedWhere(e.Table, &e.Definition)
	if err != nil {
		return filter.All{}
	}
	return routeCondition(cond)
}
