package logitems

import (
	"slices"
	"strconv"
	"strings"
)

// SchemaColumn is what the electric-schema header says about one column,
// read from the catalog (pg_attribute, pg_type, the primary-key index).
type SchemaColumn struct {
	Name string
	// TypeName is pg_type.typname of the column's type; for an array column
	// the element type's name ("int4", not "_int4"). User types go by name.
	TypeName string
	// ArrayTypeName is, for an array column only, the array type's own
	// typname ("_int4"). It is reported instead of TypeName when the catalog
	// gives the column no dimensions (Dims == 0), as the reference does.
	ArrayTypeName string
	// Dims is pg_attribute.attndims (0 for scalars).
	Dims int
	// PKIndex is the 0-based position in the primary key, -1 if the column
	// is not part of it.
	PKIndex int
	NotNull bool
	// TypeMod is pg_attribute.atttypmod (-1 when none).
	TypeMod int32
}

// The interval range bits of a typmod's high half, in the order names use
// (SHAPE_API §13); 0x7FFF means "no restriction".
var intervalUnits = [...]struct {
	name string
	bit  int16
}{
	{"YEAR", 1 << 2}, {"MONTH", 1 << 1}, {"DAY", 1 << 3},
	{"HOUR", 1 << 10}, {"MINUTE", 1 << 11}, {"SECOND", 1 << 12},
}

const intervalFullRange = 0x7FFF

// SchemaJSON returns the electric-schema header value (SHAPE_API §13): an
// object from column name to descriptor. Columns and descriptor keys are
// sorted, so the same catalog gives the same bytes; a repeated column name
// keeps its first entry. The type-modifier rules, reference quirks included
// (§26: time(0) and friends report type_mod 0, bare varbit length -1):
//
//   - varchar/text with typmod > 0: max_length = typmod − 4
//   - bpchar with typmod > 0: length = typmod − 4
//   - bit/varbit: length = typmod (even −1)
//   - interval with typmod ≥ 0: high 16 bits are the range (fields, unless
//     0x7FFF), low 16 bits the precision (unless 0xFFFF)
//   - date/time/timetz/timestamp/timestamptz with typmod > 0: precision
//   - numeric with typmod ≥ 0: precision and scale from typmod − 4
//   - anything else with typmod ≥ 0: type_mod, raw
func SchemaJSON(cols []SchemaColumn) []byte {
	order := make([]int, len(cols))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return strings.Compare(cols[a].Name, cols[b].Name) })
	out := make([]byte, 0, 48*len(cols)+2)
	out = append(out, '{')
	for n, i := range order {
		if n > 0 && cols[i].Name == cols[order[n-1]].Name {
			continue
		}
		if n > 0 {
			out = append(out, ',')
		}
		out = AppendJSONString(out, cols[i].Name)
		out = append(out, ':')
		out = appendSchemaColumn(out, &cols[i])
	}
	return append(out, '}')
}

// schemaDescriptor holds the optional members of one column's descriptor.
type schemaDescriptor struct {
	typ                       string
	fields                    string
	length, maxLength         optInt
	precision, scale, typeMod optInt
	hasFields                 bool
}

type optInt struct {
	v  int64
	ok bool
}

func some(v int64) optInt { return optInt{v: v, ok: true} }

func describe(c *SchemaColumn) schemaDescriptor {
	d := schemaDescriptor{typ: c.TypeName}
	if c.Dims == 0 && c.ArrayTypeName != "" {
		d.typ = c.ArrayTypeName
	}
	tm := c.TypeMod
	switch {
	case (d.typ == "varchar" || d.typ == "text") && tm > 0:
		d.maxLength = some(int64(tm) - 4)
	case d.typ == "bpchar" && tm > 0:
		d.length = some(int64(tm) - 4)
	case d.typ == "bit" || d.typ == "varbit":
		d.length = some(int64(tm))
	case d.typ == "interval" && tm > -1:
		rng, prec := int16(tm>>16), int16(tm)
		if rng != intervalFullRange {
			d.fields, d.hasFields = intervalFields(rng)
		}
		if prec != -1 {
			d.precision = some(int64(prec))
		}
	case isTimeType(d.typ) && tm > 0:
		d.precision = some(int64(tm))
	case d.typ == "numeric" && tm > -1:
		m := tm - 4
		d.precision = some(int64(int16(m >> 16)))
		d.scale = some(int64(int16(m)))
	case tm > -1:
		d.typeMod = some(int64(tm))
	}
	return d
}

func isTimeType(t string) bool {
	switch t {
	case "date", "time", "timetz", "timestamp", "timestamptz":
		return true
	}
	return false
}

// intervalFields names a range restriction: one unit, or "FIRST TO LAST"
// over the set units. A mask with no known unit has no name.
func intervalFields(rng int16) (string, bool) {
	first, last := -1, -1
	for i, u := range intervalUnits {
		if rng&u.bit != 0 {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	switch {
	case first < 0:
		return "", false
	case first == last:
		return intervalUnits[first].name, true
	}
	return intervalUnits[first].name + " TO " + intervalUnits[last].name, true
}

// appendSchemaColumn writes one descriptor with its keys in sorted order:
// dims, fields, length, max_length, not_null, pk_index, precision, scale,
// type, type_mod.
func appendSchemaColumn(b []byte, c *SchemaColumn) []byte {
	d := describe(c)
	b = append(b, '{')
	sep := false
	num := func(name string, v int64) {
		if sep {
			b = append(b, ',')
		}
		sep = true
		b = append(b, '"')
		b = append(b, name...)
		b = append(b, '"', ':')
		b = strconv.AppendInt(b, v, 10)
	}
	opt := func(name string, o optInt) {
		if o.ok {
			num(name, o.v)
		}
	}
	str := func(name, v string) {
		if sep {
			b = append(b, ',')
		}
		sep = true
		b = append(b, '"')
		b = append(b, name...)
		b = append(b, '"', ':')
		b = AppendJSONString(b, v)
	}
	if c.Dims > 0 {
		num("dims", int64(c.Dims))
	}
	if d.hasFields {
		str("fields", d.fields)
	}
	opt("length", d.length)
	opt("max_length", d.maxLength)
	if c.NotNull {
		if sep {
			b = append(b, ',')
		}
		sep = true
		b = append(b, `"not_null":true`...)
	}
	if c.PKIndex >= 0 {
		num("pk_index", int64(c.PKIndex))
	}
	opt("precision", d.precision)
	opt("scale", d.scale)
	str("type", d.typ)
	opt("type_mod", d.typeMod)
	return append(b, '}')
}
