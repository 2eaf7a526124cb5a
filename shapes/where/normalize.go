package where

import (
	"encoding/base64"
	"fmt"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Normalize is a where clause's part of the shape identity (SHAPE_API
// §6.1): requests whose clauses differ only in whitespace, keyword case,
// the case of unquoted identifiers, or in spelling a value as a parameter
// instead of a string literal share one shape. The clause is validated
// exactly as Parse does; each $n in libpg_query's tree is replaced by
// params[n] as an untyped string literal (which is how §20.5 types it),
// every source position is cleared, and the tree is serialised
// deterministically. Two clauses therefore share a normal form exactly when
// their parse trees are equal: grouping parentheses are structure, not
// spelling, so no two clauses that Postgres reads differently can collide
// (libpg_query's deparser is not used for this reason: it drops
// parentheses some expressions need). The form is an identity only; it is
// never sent to Postgres, and it changes when libpg_query's tree does, so
// it is tagged with the grammar version.
func Normalize(text string, params []string) (string, error) {
	if _, err := Parse(text, params); err != nil {
		return "", err
	}
	tree, err := pg.Parse(wrapPrefix + text)
	if err != nil {
		return "", fmt.Errorf("where: re-parsing a validated clause: %w", err)
	}
	if err := canonicalTree(tree.ProtoReflect(), params); err != nil {
		return "", err
	}
	bin, err := proto.MarshalOptions{Deterministic: true}.Marshal(tree)
	if err != nil {
		return "", fmt.Errorf("where: serialising a validated clause: %w", err)
	}
	return normalFormTag + base64.RawStdEncoding.EncodeToString(bin), nil
}

// normalFormTag names the parse-tree format of a normal form.
const normalFormTag = "pgq17:"

var pgNodeMessage = (&pg.Node{}).ProtoReflect().Descriptor().FullName()

// positionFields are the fields of libpg_query's tree that record where in
// the text a node was written.
var positionFields = map[protoreflect.Name]bool{"location": true, "stmt_location": true, "stmt_len": true}

// canonicalTree clears every source position below m and replaces every
// ParamRef node with a string constant holding its parameter's value.
// Parse has already checked that every referenced parameter has one.
func canonicalTree(m protoreflect.Message, params []string) error {
	var err error
	var clear []protoreflect.FieldDescriptor
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if positionFields[fd.Name()] {
			clear = append(clear, fd)
			return true
		}
		if fd.Kind() != protoreflect.MessageKind || fd.IsMap() {
			return true
		}
		visit := func(child protoreflect.Message) bool {
			if f, ok := child.Interface().(*pg.Float); ok {
				// 1E3 and 1e3 are one literal; digits and scale are kept
				// (1.0 and 1.00 are different numerics).
				f.Fval = strings.ToLower(f.Fval)
			}
			if child.Descriptor().FullName() == pgNodeMessage {
				if n, ok := child.Interface().(*pg.Node); ok && n.GetParamRef() != nil {
					i := int(n.GetParamRef().Number) - 1
					if i < 0 || i >= len(params) {
						err = fmt.Errorf("where: parameter $%d was not provided", i+1)
						return false
					}
					n.Node = &pg.Node_AConst{AConst: &pg.A_Const{Val: &pg.A_Const_Sval{Sval: &pg.String{Sval: params[i]}}}}
					return true
				}
			}
			err = canonicalTree(child, params)
			return err == nil
		}
		if fd.IsList() {
			l := v.List()
			for i := 0; i < l.Len(); i++ {
				if !visit(l.Get(i).Message()) {
					return false
				}
			}
			return true
		}
		return visit(v.Message())
	})
	for _, fd := range clear {
		m.Clear(fd)
	}
	return err
}
