package where

import (
	"strconv"
	"strings"
)

// SQL renders a checked expression for Postgres (SHAPE_API §20.8): the
// one SQL generator for snapshot and subset queries. Identifiers are
// quoted, every literal and parameter is a bound argument (a Go string,
// sent as text and cast explicitly, so Postgres types it exactly as Check
// did), and every subexpression is parenthesised. Arguments are numbered
// from $1. An unchecked expression renders as "" (which no query accepts),
// never as user text.
func (e *Expr) SQL() (sql string, args []any) {
	return e.SQLFrom(1)
}

// SQLFrom is SQL with the first argument numbered $first, for queries
// that bind arguments of their own before the where clause's.
func (e *Expr) SQLFrom(first int) (sql string, args []any) {
	if e == nil || !e.checked {
		return "", nil
	}
	r := &renderer{next: first}
	r.render(e.root)
	return r.b.String(), r.args
}

type renderer struct {
	b    strings.Builder
	args []any
	next int
}

func (r *renderer) w(s ...string) {
	for _, x := range s {
		r.b.WriteString(x)
	}
}

func (r *renderer) bind(raw string, t Type) {
	r.args = append(r.args, raw)
	r.w("$", strconv.Itoa(r.next), "::text")
	r.next++
	if t != Text && t != Unknown {
		r.w("::", sqlType(t))
	}
}

func (r *renderer) list(ns []node) {
	for i, n := range ns {
		if i > 0 {
			r.w(", ")
		}
		r.render(n)
	}
}

func (r *renderer) render(n node) {
	switch x := n.(type) {
	case *colRef:
		q, _ := QuoteIdent(x.name)
		if isEnumOrArray(x.t) {
			r.w("(", q, ")::", sqlType(x.t))
			return
		}
		r.w(q)
	case *constant:
		if x.null {
			r.w("NULL")
			if x.t != Unknown {
				r.w("::", sqlType(x.t))
			}
			return
		}
		r.bind(x.raw, x.t)
	case *param:
		r.bind(x.raw, x.t)
	case *cast:
		r.w("(")
		r.render(x.arg)
		r.w(")::", sqlType(x.t))
	case *boolOp:
		if x.op == opNot {
			r.w("(NOT ")
			r.render(x.args[0])
			r.w(")")
			return
		}
		sep := " AND "
		if x.op == opOr {
			sep = " OR "
		}
		r.w("(")
		for i, a := range x.args {
			if i > 0 {
				r.w(sep)
			}
			r.render(a)
		}
		r.w(")")
	case *compare:
		r.binary(x.l, " "+x.op+" ", x.r)
	case *distinct:
		op := " IS DISTINCT FROM "
		if x.not {
			op = " IS NOT DISTINCT FROM "
		}
		r.binary(x.l, op, x.r)
	case *nullTest:
		r.w("(")
		r.render(x.arg)
		if x.not {
			r.w(" IS NOT NULL)")
		} else {
			r.w(" IS NULL)")
		}
	case *boolTest:
		r.w("(")
		r.render(x.arg)
		r.w(" IS ")
		if x.not {
			r.w("NOT ")
		}
		r.w(x.value, ")")
	case *like:
		op := " LIKE "
		if x.insensitive {
			op = " ILIKE "
		}
		if x.not {
			op = " NOT" + op
		}
		r.binary(x.arg, op, x.pattern)
	case *quantified:
		q := " ANY ("
		if x.all {
			q = " ALL ("
		}
		r.w("(")
		r.render(x.l)
		r.w(" ", x.op, q)
		r.render(x.r)
		r.w("))")
	case *arith:
		if x.l == nil {
			r.w("(", x.op, " ")
			r.render(x.r)
			r.w(")")
			return
		}
		r.binary(x.l, " "+x.op+" ", x.r)
	case *textConcat:
		r.binary(x.l, " || ", x.r)
	case *call:
		r.w(x.name, "(")
		r.list(x.args)
		r.w(")")
	case *subscript:
		r.w("((")
		r.render(x.arg)
		r.w(")[")
		r.render(x.index)
		r.w("])")
	case *arrayCons:
		r.w("ARRAY[")
		r.list(x.elems)
		r.w("]")
		if len(x.elems) == 0 {
			r.w("::", sqlType(x.t))
		}
	case *arrayOp, *arrayFunc, *arrayRef:
		r.renderArray(n)
	}
}

func (r *renderer) binary(l node, op string, rt node) {
	r.w("(")
	r.render(l)
	r.w(op)
	r.render(rt)
	r.w(")")
}
