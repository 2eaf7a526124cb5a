package where

import "strings"

// Type is a Postgres type as the evaluator knows it: a base name such as
// "int4" ("unknown" for a string literal or parameter whose type no
// context has fixed yet), or an array of a base type written "int4[]".
type Type string

// The types expressions may use. Other Postgres types are rejected
// (deny by default): Go and Postgres must agree on every value, so a type
// is added only with its input, output, comparison and cast rules.
const (
	Unknown Type = "unknown"
	Bool    Type = "bool"
	Int2    Type = "int2"
	Int4    Type = "int4"
	Int8    Type = "int8"
	Numeric Type = "numeric"
	Text    Type = "text"
	Varchar Type = "varchar"
	UUID    Type = "uuid"
)

// Column is one column of the shape's root table, as in the catalog:
// Type is pg_type.typname ("int4", "varchar"; arrays "_int4" or "int4[]").
type Column struct {
	Name string
	Type string
}

// IsArray reports whether t is an array type.
func (t Type) IsArray() bool { return strings.HasSuffix(string(t), "[]") }

// Elem is the element type of an array type.
func (t Type) Elem() Type { return Type(strings.TrimSuffix(string(t), "[]")) }

func arrayOf(t Type) Type { return t + "[]" }

var scalarTypes = map[Type]bool{Bool: true, Int2: true, Int4: true, Int8: true, Numeric: true, Text: true, Varchar: true, UUID: true,
	Float4: true, Float8: true, Bytea: true, Bpchar: true, Name: true, Date: true, Timestamp: true, TimestampTZ: true, Time: true, Interval: true}

// typeAliases maps the names a cast may spell to the catalog names.
var typeAliases = map[string]Type{
	"bool": Bool, "boolean": Bool,
	"int2": Int2, "smallint": Int2,
	"int4": Int4, "int": Int4, "integer": Int4,
	"int8": Int8, "bigint": Int8,
	"numeric": Numeric, "decimal": Numeric,
	"text": Text, "varchar": Varchar, "uuid": UUID,
	"float4": Float4, "real": Float4, "float8": Float8, "float": Float8,
	"bytea": Bytea, "bpchar": Bpchar, "name": Name,
	"date": Date, "timestamp": Timestamp, "timestamptz": TimestampTZ, "time": Time, "interval": Interval,
}

// columnType resolves a catalog type name; ok is false for types the
// evaluator does not support.
func columnType(name string) (Type, bool) {
	n := strings.ToLower(name)
	arr := false
	if strings.HasPrefix(n, "_") {
		arr, n = true, n[1:]
	} else if strings.HasSuffix(n, "[]") {
		arr, n = true, strings.TrimSuffix(n, "[]")
	}
	t := Type(n)
	if strings.HasPrefix(n, enumPrefix) {
		// The enum's own name keeps its case: it is an identifier.
		t = Type(name[len(name)-len(n):])
		if strings.HasSuffix(name, "[]") {
			t = Type(strings.TrimSuffix(name, "[]"))
		}
	} else if !scalarTypes[t] {
		return "", false
	}
	if arr {
		t = arrayOf(t)
	}
	return t, true
}

func isInteger(t Type) bool { return t == Int2 || t == Int4 || t == Int8 }

func isNumber(t Type) bool { return isInteger(t) || t == Numeric || isFloat(t) }

func isTextual(t Type) bool { return t == Text || t == Varchar || t == Bpchar || t == Name }

func numberRank(t Type) int {
	switch t {
	case Int2:
		return 1
	case Int4:
		return 2
	case Int8:
		return 3
	case Float4:
		return 5
	case Float8:
		return 6
	}
	return 4
}

// commonType is the type both sides are converted to before comparing
// them, following Postgres's implicit casts (int2→int4→int8→numeric,
// varchar→text) and its rule that an untyped literal takes the other
// side's type. ok is false when Postgres has no such operator.
func commonType(a, b Type) (Type, bool) {
	switch {
	case a == b:
		return a, true
	case a == Unknown:
		return b, true
	case b == Unknown:
		return a, true
	case isNumber(a) && isNumber(b):
		if isFloat(a) != isFloat(b) && (a == Float4 || b == Float4) {
			return Float8, true // int or numeric with float4: the float48/84 operators
		}
		if numberRank(a) >= numberRank(b) {
			return a, true
		}
		return b, true
	case isTextual(a) && isTextual(b):
		if t, ok, handled := textLikeCommon(a, b); handled {
			return t, ok
		}
		return Text, true
	case dateKind(a) > 0 && dateKind(b) > 0:
		if dateKind(a) >= dateKind(b) {
			return a, true
		}
		return b, true
	case a.IsArray() && b.IsArray():
		e, ok := commonType(a.Elem(), b.Elem())
		if ok && e != Unknown {
			return arrayOf(e), true
		}
	}
	return "", false
}

// canCast reports whether Postgres has a cast (explicit or implicit) from
// one supported type to another.
func canCast(from, to Type) bool {
	switch {
	case from == to, from == Unknown:
		return true
	case from.IsArray() || to.IsArray():
		// Text input of an array literal, and the array casts of
		// canCastArray.
		return isTextual(from) && to.IsArray() || canCastArray(from, to)
	case isTextual(from) || isTextual(to):
		return true
	case isNumber(from) && isNumber(to):
		return true
	case from == Int4 && to == Bool, from == Bool && to == Int4:
		return true
	case canCastDateTime(from, to):
		return true
	}
	return false
}
