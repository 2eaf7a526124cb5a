package where

import "strings"

// Enums (SHAPE_API §20.3: equality only). A column of enum type hue has
// Type "enum:hue" ("enum:hue[]" for an array of them); its values are the
// labels. Equality of two values of one enum type is equality of their
// labels, so Go compares the label text and the SQL generator renders
// every enum-typed operand as text: Postgres then evaluates the same text
// comparison. Ordering (which follows the enum's declaration order, not
// the labels) is rejected; cast the column to text to compare labels as
// text.

const enumPrefix = "enum:"

// EnumColumnType is the Column.Type of a column of the named enum type.
func EnumColumnType(typname string) string { return enumPrefix + typname }

func isEnum(t Type) bool { return strings.HasPrefix(string(t), enumPrefix) && !t.IsArray() }

func isEnumOrArray(t Type) bool { return strings.HasPrefix(string(t), enumPrefix) }

// sqlType is how a type is spelled in generated SQL.
func sqlType(t Type) string {
	switch {
	case isEnum(t):
		return "text"
	case isEnumOrArray(t):
		return "text[]"
	}
	return string(t)
}

// checkEnumOps rejects what Postgres orders by an enum's declaration order.
func checkEnumOps(n node) error {
	var err error
	walk(n, func(n node) bool {
		switch x := n.(type) {
		case *compare:
			if isOrdering(x.op) && isEnumOrArray(x.l.typ()) {
				err = enumOrderErr(x, x.op, x.l.typ())
			}
		case *quantified:
			if isOrdering(x.op) && isEnumOrArray(x.l.typ()) {
				err = enumOrderErr(x, x.op, x.l.typ())
			}
		case *call:
			if (x.name == "greatest" || x.name == "least") && isEnumOrArray(x.t) {
				err = enumOrderErr(x, x.name, x.t)
			}
		}
		return err == nil
	})
	return err
}

func enumOrderErr(at node, op string, t Type) error {
	return errAt(at, "%s on the enum type %s is not supported: enums compare by declaration order, which the stream does not carry; compare for equality, or cast to text to compare labels", op, strings.TrimPrefix(string(t), enumPrefix))
}
