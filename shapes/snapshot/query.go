package snapshot

import (
	"fmt"
	"strings"

	"github.com/shapesync/shapesync/replication/events"
	"github.com/shapesync/shapesync/shapes/where"
)

// firstUserOID is Postgres' FirstNormalObjectId: types with an OID at or
// above it were created by users or extensions (domains, enums, composites,
// ranges). Only domains render differently under ::text and the output
// function; for the others concat gives the same text.
const firstUserOID = 16384

// SelectSQL builds the snapshot query for a table's given columns (indexes
// into t.Columns, in the order the values should come back). Every value is
// read as text, the form the replication stream uses (SHAPE_API §12.6);
// char(n) and user-defined types go through concat (the output function,
// which pgoutput uses too) so char(n) padding survives and domains read as
// the stream sends them.
func SelectSQL(t *events.Table, columns []int) (string, error) {
	return SelectWhereSQL(t, columns, "")
}

// SelectWhereSQL is SelectSQL restricted by a where clause. cond must be SQL
// rendered by shapes/where from a validated expression, with every value a
// $n parameter bound by the caller (SHAPE_API §20.8): never user text. ""
// selects every row.
func SelectWhereSQL(t *events.Table, columns []int, cond string) (string, error) {
	rel, ok := where.QualifiedName(t.Schema, t.Name)
	if !ok {
		return "", fmt.Errorf("table name %q.%q cannot be quoted", t.Schema, t.Name)
	}
	if len(columns) == 0 {
		return "", fmt.Errorf("no columns selected from %s", rel)
	}
	var b strings.Builder
	b.WriteString("SELECT ")
	for i, ci := range columns {
		if ci < 0 || ci >= len(t.Columns) {
			return "", fmt.Errorf("column index %d out of range for %s", ci, rel)
		}
		col := t.Columns[ci]
		q, ok := where.QuoteIdent(col.Name)
		if !ok {
			return "", fmt.Errorf("column name %q of %s cannot be quoted", col.Name, rel)
		}
		if i > 0 {
			b.WriteString(", ")
		}
		if !col.IsArray && (col.TypeName == "bpchar" || col.TypeOID >= firstUserOID) {
			// concat renders with the type's output function, as pgoutput
			// does: it keeps the padding that ::text trims from char(n), and
			// a domain's ::text is its base type's cast (a domain over
			// char(n) would lose its padding, one over bool or inet would
			// differ from the stream and so break its keys). The CASE keeps
			// NULL, which concat would turn into ''.
			b.WriteString("CASE WHEN " + q + " IS NULL THEN NULL ELSE concat(" + q + ", '') END")
		} else {
			b.WriteString(q + "::text")
		}
	}
	b.WriteString(" FROM ")
	b.WriteString(rel)
	if cond != "" {
		b.WriteString(" WHERE (")
		b.WriteString(cond)
		b.WriteString(")")
	}
	return b.String(), nil
}
