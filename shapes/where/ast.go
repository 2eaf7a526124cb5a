package where

// The typed AST. Parse builds it with Unknown types for untyped literals
// and parameters; Check returns a copy in which every node has its final
// type, implicit casts are explicit and BETWEEN / IN are rewritten into
// the comparisons Postgres itself rewrites them into (so that evaluation
// order, and hence which rows raise errors, is the same).
type node interface {
	typ() Type
	at() int // 0-based character position in the user's text
}

type pos int

func (p pos) at() int { return int(p) }

// colRef is a column of the root table.
type colRef struct {
	pos
	name string
	idx  int
	t    Type
}

// constant is a literal. raw is its text form, which SQL binds; untyped
// string literals keep type Unknown until Check fixes it.
type constant struct {
	pos
	t    Type
	raw  string
	null bool
	v    Value
	// isFolded marks a value computed by fold, which SQL never renders.
	isFolded bool
}

// param is $n; its value is the text of params[n-1].
type param struct {
	pos
	n   int
	raw string
	t   Type
	v   Value
}

type cast struct {
	pos
	arg node
	t   Type
}

type boolOpKind int

const (
	opAnd boolOpKind = iota
	opOr
	opNot
)

type boolOp struct {
	pos
	op   boolOpKind
	args []node
}

// compare is = <> < > <= >= on operands of the same type.
type compare struct {
	pos
	op   string
	l, r node
}

type distinct struct {
	pos
	not  bool // IS NOT DISTINCT FROM
	l, r node
}

type nullTest struct {
	pos
	not bool
	arg node
}

// boolTest is IS [NOT] TRUE / FALSE / UNKNOWN.
type boolTest struct {
	pos
	not   bool
	value string // "TRUE", "FALSE", "UNKNOWN"
	arg   node
}

// inList exists only before Check, which rewrites it.
type inList struct {
	pos
	not  bool
	arg  node
	list []node
}

// between exists only before Check, which rewrites it.
type between struct {
	pos
	not, symmetric bool
	arg, lo, hi    node
}

type like struct {
	pos
	not, insensitive bool
	arg, pattern     node
}

// quantified is l op ANY/ALL (r), r an array.
type quantified struct {
	pos
	op   string
	all  bool
	l, r node
}

// arith is + - * / % (l nil: unary minus or plus).
type arith struct {
	pos
	op   string
	l, r node
	t    Type
}

// textConcat is ||; operands of other types are rendered with their
// output functions, as Postgres's anytextcat does.
type textConcat struct {
	pos
	l, r node
}

// call is lower, upper, concat, coalesce, greatest or least.
type call struct {
	pos
	name string
	args []node
	t    Type
}

// subscript is a[i] (NULL unless a has one dimension holding i); other
// subscripts and slices are arrayRef nodes (array_ops.go).
type subscript struct {
	pos
	arg, index node
	t          Type
}

type arrayCons struct {
	pos
	elems []node
	t     Type
	multi bool // the elements are arrays: the result has one more dimension
}

func (n *colRef) typ() Type     { return n.t }
func (n *constant) typ() Type   { return n.t }
func (n *param) typ() Type      { return n.t }
func (n *cast) typ() Type       { return n.t }
func (n *boolOp) typ() Type     { return Bool }
func (n *compare) typ() Type    { return Bool }
func (n *distinct) typ() Type   { return Bool }
func (n *nullTest) typ() Type   { return Bool }
func (n *boolTest) typ() Type   { return Bool }
func (n *inList) typ() Type     { return Bool }
func (n *between) typ() Type    { return Bool }
func (n *like) typ() Type       { return Bool }
func (n *quantified) typ() Type { return Bool }
func (n *arith) typ() Type      { return n.t }
func (n *textConcat) typ() Type { return Text }
func (n *call) typ() Type       { return n.t }
func (n *arrayCons) typ() Type  { return n.t }
func (n *subscript) typ() Type  { return n.t }
