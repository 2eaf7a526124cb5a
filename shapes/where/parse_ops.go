package where

import (
	"fmt"
	"reflect"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"
)

func (c *converter) aExpr(e *pg.A_Expr, depth int) (node, error) {
	if len(e.Name) != 1 || e.Name[0].GetString_() == nil {
		return nil, c.errAt(e.Location, "qualified operators are not supported")
	}
	op := e.Name[0].GetString_().Sval
	p := c.pos(e.Location)
	two := func() (node, node, error) {
		l, err := c.conv(e.Lexpr, depth)
		if err != nil {
			return nil, nil, err
		}
		r, err := c.conv(e.Rexpr, depth)
		return l, r, err
	}
	switch e.Kind {
	case pg.A_Expr_Kind_AEXPR_OP:
		if e.Lexpr == nil {
			if op != "-" && op != "+" && !isPrefixOp(op) {
				return nil, c.errAt(e.Location, "unknown unary operator %s", op)
			}
			r, err := c.conv(e.Rexpr, depth)
			if err != nil {
				return nil, err
			}
			return &arith{pos: p, op: op, r: r, t: Unknown}, nil
		}
		l, r, err := two()
		if err != nil {
			return nil, err
		}
		switch op {
		case "=", "<>", "<", ">", "<=", ">=":
			return &compare{pos: p, op: op, l: l, r: r}, nil
		case "+", "-", "*", "/", "%", "^", "&", "|", "#", "<<", ">>":
			return &arith{pos: p, op: op, l: l, r: r, t: Unknown}, nil
		case "||":
			return &textConcat{pos: p, l: l, r: r}, nil
		case "@>", "<@", "&&":
			return &arrayOp{pos: p, op: op, l: l, r: r}, nil
		case "~~", "!~~", "~~*", "!~~*":
			return &like{pos: p, not: op[0] == '!', insensitive: strings.HasSuffix(op, "*"), arg: l, pattern: r}, nil
		}
		return nil, c.errAt(e.Location, "unknown binary operator %s", op)
	case pg.A_Expr_Kind_AEXPR_OP_ANY, pg.A_Expr_Kind_AEXPR_OP_ALL:
		switch op {
		case "=", "<>", "<", ">", "<=", ">=":
		default:
			return nil, c.errAt(e.Location, "unknown binary operator %s with ANY/ALL", op)
		}
		l, r, err := two()
		if err != nil {
			return nil, err
		}
		return &quantified{pos: p, op: op, all: e.Kind == pg.A_Expr_Kind_AEXPR_OP_ALL, l: l, r: r}, nil
	case pg.A_Expr_Kind_AEXPR_DISTINCT, pg.A_Expr_Kind_AEXPR_NOT_DISTINCT:
		l, r, err := two()
		if err != nil {
			return nil, err
		}
		return &distinct{pos: p, not: e.Kind == pg.A_Expr_Kind_AEXPR_NOT_DISTINCT, l: l, r: r}, nil
	case pg.A_Expr_Kind_AEXPR_IN:
		l, err := c.conv(e.Lexpr, depth)
		if err != nil {
			return nil, err
		}
		items := e.Rexpr.GetList()
		if items == nil {
			return nil, c.errAt(e.Location, "IN needs a list")
		}
		list, err := c.convList(items.Items, depth)
		if err != nil {
			return nil, err
		}
		return &inList{pos: p, not: op == "<>", arg: l, list: list}, nil
	case pg.A_Expr_Kind_AEXPR_LIKE, pg.A_Expr_Kind_AEXPR_ILIKE:
		if f := e.Rexpr.GetFuncCall(); f != nil && len(f.Funcname) > 0 && f.Funcname[len(f.Funcname)-1].GetString_().GetSval() == "like_escape" {
			return nil, c.errAt(e.Location, "LIKE with ESCAPE is not supported; the escape character is backslash")
		}
		l, r, err := two()
		if err != nil {
			return nil, err
		}
		return &like{pos: p, not: op[0] == '!', insensitive: e.Kind == pg.A_Expr_Kind_AEXPR_ILIKE, arg: l, pattern: r}, nil
	case pg.A_Expr_Kind_AEXPR_BETWEEN, pg.A_Expr_Kind_AEXPR_NOT_BETWEEN, pg.A_Expr_Kind_AEXPR_BETWEEN_SYM, pg.A_Expr_Kind_AEXPR_NOT_BETWEEN_SYM:
		l, err := c.conv(e.Lexpr, depth)
		if err != nil {
			return nil, err
		}
		bounds := e.Rexpr.GetList()
		if bounds == nil || len(bounds.Items) != 2 {
			return nil, c.errAt(e.Location, "BETWEEN needs two bounds")
		}
		lo, err := c.conv(bounds.Items[0], depth)
		if err != nil {
			return nil, err
		}
		hi, err := c.conv(bounds.Items[1], depth)
		if err != nil {
			return nil, err
		}
		return &between{pos: p, arg: l, lo: lo, hi: hi,
			not:       e.Kind == pg.A_Expr_Kind_AEXPR_NOT_BETWEEN || e.Kind == pg.A_Expr_Kind_AEXPR_NOT_BETWEEN_SYM,
			symmetric: e.Kind == pg.A_Expr_Kind_AEXPR_BETWEEN_SYM || e.Kind == pg.A_Expr_Kind_AEXPR_NOT_BETWEEN_SYM}, nil
	case pg.A_Expr_Kind_AEXPR_NULLIF:
		return nil, c.errAt(e.Location, "NULLIF is not supported")
	case pg.A_Expr_Kind_AEXPR_SIMILAR:
		return nil, c.errAt(e.Location, "SIMILAR TO is not supported")
	}
	return nil, c.errAt(e.Location, "unsupported operator %s", op)
}

// functions maps the supported functions to their arity (-1: one or more).
var functions = map[string]int{"lower": 1, "upper": 1, "concat": -1, "like": 2, "ilike": 2,
	"array_cat": 2, "array_append": 2, "array_prepend": 2, "array_ndims": 1,
	"justify_days": 1, "justify_hours": 1, "justify_interval": 1, "timezone": 2}

func (c *converter) funcCall(f *pg.FuncCall, depth int) (node, error) {
	var parts []string
	for _, n := range f.Funcname {
		parts = append(parts, n.GetString_().GetSval())
	}
	name := parts[len(parts)-1]
	if f.AggStar || f.AggDistinct || len(f.AggOrder) > 0 || f.AggFilter != nil || f.AggWithinGroup {
		return nil, c.errAt(f.Location, "aggregation is not supported in this context")
	}
	if f.Over != nil {
		return nil, c.errAt(f.Location, "window functions are not supported")
	}
	if f.FuncVariadic {
		return nil, c.errAt(f.Location, "VARIADIC calls are not supported")
	}
	arity, ok := functions[name]
	if !ok || len(parts) > 2 || len(parts) == 2 && parts[0] != "pg_catalog" || arity >= 0 && arity != len(f.Args) || len(f.Args) == 0 {
		return nil, c.errAt(f.Location, "unknown or unsupported function %s/%d", strings.Join(parts, "."), len(f.Args))
	}
	args, err := c.convList(f.Args, depth)
	if err != nil {
		return nil, err
	}
	switch name {
	case "like", "ilike":
		return &like{pos: c.pos(f.Location), insensitive: name == "ilike", arg: args[0], pattern: args[1]}, nil
	case "array_cat", "array_append", "array_prepend", "array_ndims":
		return &arrayFunc{pos: c.pos(f.Location), name: name, args: args, t: Unknown}, nil
	}
	return &call{pos: c.pos(f.Location), name: name, args: args, t: Unknown}, nil
}

// nodeName is the libpg_query node type, for "<Node> is not supported".
func nodeName(n *pg.Node) string {
	name := fmt.Sprintf("%T", n.GetNode())
	name = strings.TrimPrefix(name, "*pg_query.Node_")
	return name
}

// nodeLocation finds the Location field of any node kind (the oneof
// wrapper holds one pointer to the node's message).
func nodeLocation(n *pg.Node) int32 {
	loc := int32(len(wrapPrefix))
	w := reflect.ValueOf(n.GetNode())
	if w.Kind() != reflect.Pointer || w.IsNil() || w.Elem().Kind() != reflect.Struct || w.Elem().NumField() == 0 {
		return loc
	}
	msg := w.Elem().Field(0)
	if msg.Kind() != reflect.Pointer || msg.IsNil() || msg.Elem().Kind() != reflect.Struct {
		return loc
	}
	if f := msg.Elem().FieldByName("Location"); f.IsValid() && f.Kind() == reflect.Int32 {
		loc = int32(f.Int())
	}
	return loc
}
