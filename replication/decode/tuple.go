package decode

import (
	"strings"

	"github.com/jackc/pglogrepl"

	"github.com/shapesync/shapesync/replication/events"
)

// errNeedsOldRow is returned by textTuple for an unchanged-TOAST column when
// there is no old row to take the value from; the caller turns it into the
// error that fits the change.
type errNeedsOldRow struct{ column string }

func (e errNeedsOldRow) Error() string {
	return "column " + e.column + " is unchanged TOAST and there is no old row to restore it from"
}

// textTuple converts a pgoutput TupleData into text values in the relation's
// column order. An unchanged-TOAST column takes the value at the same position
// of old (SHAPE_API §12.3). It also returns the bytes of row data carried, for
// the transaction size limit.
//
// All values of one tuple share a single string allocation: a change's values
// live and die together, and this halves the allocations per change.
func textTuple(rel *events.Relation, td *pglogrepl.TupleData, old events.Tuple, role string) (events.Tuple, int64, error) {
	if td == nil {
		return nil, 0, protocolErrorf("%s row of %s is missing", role, QualifiedName(rel))
	}
	if len(td.Columns) != len(rel.Columns) {
		return nil, 0, protocolErrorf("%s row of %s has %d columns but its Relation message announced %d",
			role, QualifiedName(rel), len(td.Columns), len(rel.Columns))
	}
	total := 0
	for i, c := range td.Columns {
		if c == nil {
			return nil, 0, protocolErrorf("%s row of %s: column %q is missing", role, QualifiedName(rel), rel.Columns[i].Name)
		}
		switch c.DataType {
		case pglogrepl.TupleDataTypeText:
			total += len(c.Data)
		case pglogrepl.TupleDataTypeNull:
		case pglogrepl.TupleDataTypeToast:
			if old == nil {
				return nil, 0, errNeedsOldRow{column: quoteIdent(rel.Columns[i].Name)}
			}
		case pglogrepl.TupleDataTypeBinary:
			return nil, 0, protocolErrorf("%s row of %s: column %q is in binary format; shapesync starts replication without binary 'true' and reads text only",
				role, QualifiedName(rel), rel.Columns[i].Name)
		default:
			return nil, 0, protocolErrorf("%s row of %s: column %q has unknown kind %q",
				role, QualifiedName(rel), rel.Columns[i].Name, rune(c.DataType))
		}
	}
	var sb strings.Builder
	sb.Grow(total)
	for _, c := range td.Columns {
		if c.DataType == pglogrepl.TupleDataTypeText {
			sb.Write(c.Data)
		}
	}
	text := sb.String()
	tuple := make(events.Tuple, len(td.Columns))
	at := 0
	for i, c := range td.Columns {
		switch c.DataType {
		case pglogrepl.TupleDataTypeText:
			tuple[i] = events.Value{Text: text[at : at+len(c.Data)]}
			at += len(c.Data)
		case pglogrepl.TupleDataTypeNull:
			tuple[i] = events.Value{Null: true}
		case pglogrepl.TupleDataTypeToast:
			tuple[i] = old[i]
		}
	}
	return tuple, int64(total), nil
}

func tuplesEqual(a, b events.Tuple) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
