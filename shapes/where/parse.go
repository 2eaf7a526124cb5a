package where

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"
	pgparser "github.com/pganalyze/pg_query_go/v6/parser"
)

// Limits on a where clause, checked before libpg_query or our converter
// recurse into it (RELIABILITY F2): the grammar's own stack limits are far
// deeper than any real clause and are not ours to rely on.
const (
	MaxTextBytes = 16 << 10
	MaxDepth     = 64
)

// Expr is a where clause. Parse returns it with untyped literals; Check
// returns the typed expression that Eval and SQL use.
type Expr struct {
	text    string
	params  []string
	root    node // what SQL renders
	folded  node // what Eval runs: root after planner-style constant folding
	planErr error
	columns []Column
	rules   TextRules
	checked bool
}

// Text is the where clause as the user wrote it.
func (e *Expr) Text() string { return e.text }

// Parse parses text as the predicate of "SELECT 1 WHERE <text>" with
// libpg_query and converts it into the supported subset (SHAPE_API §20),
// rejecting everything else with an *Error. params are the values of $1,
// $2, … (SHAPE_API §5.5).
func Parse(text string, params []string) (*Expr, error) {
	if len(text) > MaxTextBytes {
		return nil, &Error{Pos: 0, Msg: fmt.Sprintf("where clause is %d bytes long; the limit is %d", len(text), MaxTextBytes)}
	}
	if strings.IndexByte(text, 0) >= 0 {
		return nil, &Error{Pos: strings.IndexByte(text, 0), Msg: "NUL bytes are not allowed"}
	}
	if err := scanTokens(text); err != nil {
		return nil, err
	}
	tree, err := pg.Parse(wrapPrefix + text)
	if err != nil {
		var pe *pgparser.Error
		if errors.As(err, &pe) {
			p := pe.Cursorpos - 1 - len(wrapPrefix)
			return nil, &Error{Pos: max(p, 0), Msg: pe.Message}
		}
		return nil, &Error{Pos: 0, Msg: "could not parse: " + err.Error()}
	}
	if len(tree.Stmts) != 1 {
		return nil, &Error{Pos: 0, Msg: `unescaped ";" causing statement split`}
	}
	sel := tree.Stmts[0].GetStmt().GetSelectStmt()
	if sel == nil || sel.WhereClause == nil {
		return nil, &Error{Pos: 0, Msg: "malformed query ending with SQL clauses"}
	}
	if len(sel.TargetList) != 1 || len(sel.FromClause) > 0 || len(sel.GroupClause) > 0 || sel.HavingClause != nil ||
		len(sel.SortClause) > 0 || sel.LimitCount != nil || sel.LimitOffset != nil || len(sel.LockingClause) > 0 ||
		len(sel.WindowClause) > 0 || sel.WithClause != nil || sel.IntoClause != nil || len(sel.DistinctClause) > 0 ||
		len(sel.ValuesLists) > 0 || sel.Op != pg.SetOperation_SETOP_NONE || sel.GroupDistinct {
		return nil, &Error{Pos: 0, Msg: "malformed query ending with SQL clauses"}
	}
	c := converter{text: text, params: params}
	root, err := c.conv(sel.WhereClause, 0)
	if err != nil {
		return nil, err
	}
	return &Expr{text: text, params: params, root: root}, nil
}

// scanTokens rejects comments, statement separators and nesting deeper
// than MaxDepth, on the token stream, before anything recurses.
func scanTokens(text string) error {
	res, err := pg.Scan(text)
	if err != nil {
		return nil // unterminated literals and the like: the parser reports them
	}
	depth := 0
	for _, tok := range res.Tokens {
		p := position(text, tok.Start+int32(len(wrapPrefix)))
		switch tok.Token {
		case pg.Token_SQL_COMMENT, pg.Token_C_COMMENT:
			return &Error{Pos: p, Msg: "comments are not supported"}
		case pg.Token_ASCII_59:
			return &Error{Pos: p, Msg: `unescaped ";" causing statement split`}
		case pg.Token_ASCII_40, pg.Token_ASCII_91:
			depth++
			if depth > MaxDepth {
				return &Error{Pos: p, Msg: fmt.Sprintf("expression is nested more than %d levels deep", MaxDepth)}
			}
		case pg.Token_ASCII_41, pg.Token_ASCII_93:
			depth--
		}
	}
	return nil
}

type converter struct {
	text   string
	params []string
}

func (c *converter) errAt(loc int32, format string, args ...any) error {
	return &Error{Pos: position(c.text, loc), Msg: fmt.Sprintf(format, args...)}
}

func (c *converter) pos(loc int32) pos { return pos(position(c.text, loc)) }

func (c *converter) convList(ns []*pg.Node, depth int) ([]node, error) {
	out := make([]node, 0, len(ns))
	for _, n := range ns {
		x, err := c.conv(n, depth)
		if err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	return out, nil
}

func (c *converter) conv(n *pg.Node, depth int) (node, error) {
	if n == nil {
		return nil, &Error{Pos: 0, Msg: "missing expression"}
	}
	if depth > MaxDepth {
		return nil, c.errAt(nodeLocation(n), "expression is nested more than %d levels deep", MaxDepth)
	}
	depth++
	switch {
	case n.GetColumnRef() != nil:
		return c.columnRef(n.GetColumnRef())
	case n.GetAConst() != nil:
		return c.constant(n.GetAConst())
	case n.GetParamRef() != nil:
		p := n.GetParamRef()
		if p.Number < 1 || int(p.Number) > len(c.params) {
			return nil, c.errAt(p.Location, "parameter $%d was not provided", p.Number)
		}
		return &param{pos: c.pos(p.Location), n: int(p.Number), raw: c.params[p.Number-1], t: Unknown}, nil
	case n.GetTypeCast() != nil:
		tc := n.GetTypeCast()
		arg, err := c.conv(tc.Arg, depth)
		if err != nil {
			return nil, err
		}
		t, err := c.typeName(tc.TypeName)
		if err != nil {
			return nil, err
		}
		return &cast{pos: c.pos(tc.Location), arg: arg, t: t}, nil
	case n.GetBoolExpr() != nil:
		b := n.GetBoolExpr()
		args, err := c.convList(b.Args, depth)
		if err != nil {
			return nil, err
		}
		op := map[pg.BoolExprType]boolOpKind{pg.BoolExprType_AND_EXPR: opAnd, pg.BoolExprType_OR_EXPR: opOr, pg.BoolExprType_NOT_EXPR: opNot}[b.Boolop]
		return &boolOp{pos: c.pos(b.Location), op: op, args: args}, nil
	case n.GetNullTest() != nil:
		t := n.GetNullTest()
		arg, err := c.conv(t.Arg, depth)
		if err != nil {
			return nil, err
		}
		return &nullTest{pos: c.pos(t.Location), not: t.Nulltesttype == pg.NullTestType_IS_NOT_NULL, arg: arg}, nil
	case n.GetBooleanTest() != nil:
		t := n.GetBooleanTest()
		arg, err := c.conv(t.Arg, depth)
		if err != nil {
			return nil, err
		}
		bt := &boolTest{pos: c.pos(t.Location), arg: arg}
		switch t.Booltesttype {
		case pg.BoolTestType_IS_TRUE, pg.BoolTestType_IS_NOT_TRUE:
			bt.value, bt.not = "TRUE", t.Booltesttype == pg.BoolTestType_IS_NOT_TRUE
		case pg.BoolTestType_IS_FALSE, pg.BoolTestType_IS_NOT_FALSE:
			bt.value, bt.not = "FALSE", t.Booltesttype == pg.BoolTestType_IS_NOT_FALSE
		default:
			bt.value, bt.not = "UNKNOWN", t.Booltesttype == pg.BoolTestType_IS_NOT_UNKNOWN
		}
		return bt, nil
	case n.GetAExpr() != nil:
		return c.aExpr(n.GetAExpr(), depth)
	case n.GetFuncCall() != nil:
		return c.funcCall(n.GetFuncCall(), depth)
	case n.GetCoalesceExpr() != nil:
		e := n.GetCoalesceExpr()
		args, err := c.convList(e.Args, depth)
		if err != nil {
			return nil, err
		}
		return &call{pos: c.pos(e.Location), name: "coalesce", args: args, t: Unknown}, nil
	case n.GetMinMaxExpr() != nil:
		e := n.GetMinMaxExpr()
		args, err := c.convList(e.Args, depth)
		if err != nil {
			return nil, err
		}
		name := "greatest"
		if e.Op == pg.MinMaxOp_IS_LEAST {
			name = "least"
		}
		return &call{pos: c.pos(e.Location), name: name, args: args, t: Unknown}, nil
	case n.GetAArrayExpr() != nil:
		e := n.GetAArrayExpr()
		elems, err := c.convList(e.Elements, depth)
		if err != nil {
			return nil, err
		}
		return &arrayCons{pos: c.pos(e.Location), elems: elems, t: Unknown}, nil
	case n.GetAIndirection() != nil:
		return c.indirection(n, n.GetAIndirection(), depth)
	case n.GetSubLink() != nil:
		return nil, c.errAt(n.GetSubLink().Location, "subqueries are not supported (shapesync does not support them yet)")
	}
	return nil, c.errAt(nodeLocation(n), "%s is not supported in this context", nodeName(n))
}

func (c *converter) columnRef(r *pg.ColumnRef) (node, error) {
	if len(r.Fields) != 1 || r.Fields[0].GetString_() == nil {
		return nil, c.errAt(r.Location, "only plain column references are supported")
	}
	return &colRef{pos: c.pos(r.Location), name: r.Fields[0].GetString_().Sval, idx: -1, t: Unknown}, nil
}

func (c *converter) constant(k *pg.A_Const) (node, error) {
	p := c.pos(k.Location)
	switch {
	case k.Isnull:
		return &constant{pos: p, t: Unknown, null: true}, nil
	case k.GetIval() != nil:
		return &constant{pos: p, t: Int4, raw: strconv.FormatInt(int64(k.GetIval().Ival), 10)}, nil
	case k.GetFval() != nil:
		// Postgres types an integer literal too big for int4 as int8
		// when it fits, else as numeric.
		f := k.GetFval().Fval
		if _, err := strconv.ParseInt(f, 10, 64); err == nil {
			return &constant{pos: p, t: Int8, raw: f}, nil
		}
		return &constant{pos: p, t: Numeric, raw: f}, nil
	case k.GetBoolval() != nil:
		return &constant{pos: p, t: Bool, raw: strconv.FormatBool(k.GetBoolval().Boolval)}, nil
	case k.GetSval() != nil:
		return &constant{pos: p, t: Unknown, raw: k.GetSval().Sval}, nil
	}
	return nil, c.errAt(k.Location, "bit-string literals are not supported")
}

// typeName resolves a cast target.
func (c *converter) typeName(tn *pg.TypeName) (Type, error) {
	if tn == nil || len(tn.Names) == 0 {
		return "", &Error{Msg: "missing type name"}
	}
	var parts []string
	for _, n := range tn.Names {
		parts = append(parts, n.GetString_().GetSval())
	}
	name := parts[len(parts)-1]
	display := strings.Join(parts, ".")
	if len(parts) > 2 || len(parts) == 2 && parts[0] != "pg_catalog" {
		return "", c.errAt(tn.Location, "unsupported type %s", display)
	}
	if len(tn.Typmods) > 0 {
		return "", c.errAt(tn.Location, "type modifiers are not supported (%s)", name)
	}
	if tn.Setof || tn.PctType {
		return "", c.errAt(tn.Location, "unsupported type %s", name)
	}
	t, ok := typeAliases[name]
	if !ok {
		return "", c.errAt(tn.Location, "unsupported type %s", name)
	}
	switch len(tn.ArrayBounds) {
	case 0:
		return t, nil
	case 1:
		return arrayOf(t), nil
	}
	return "", c.errAt(tn.Location, "multi-dimensional arrays are not supported")
}
