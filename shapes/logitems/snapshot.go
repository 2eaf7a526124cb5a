package logitems

import (
	"fmt"

	"github.com/shapesync/shapesync/replication/events"
)

// AppendSnapshotRow appends the snapshot message of one row (SHAPE_API
// §12.2): an insert with only the operation and relation headers, whose
// value holds every shape column. The row holds the shape's columns in the
// encoder's column order (the order the snapshot query selects them), as
// text from a cast to text; key sections are canonicalised so they match the
// keys of later changes.
func (e *Encoder) AppendSnapshotRow(dst []byte, row events.Tuple) ([]byte, error) {
	if len(row) != len(e.cols) {
		return dst, fmt.Errorf("logitems: snapshot row has %d values, the shape has %d columns", len(row), len(e.cols))
	}
	e.rowKey = append(e.rowKey[:0], e.keyPrefix...)
	for _, k := range e.keys {
		v := row[k.pos]
		e.rowKey = appendKeySection(e.rowKey, canonicalKeyText(k.oid, v.Text), v.Null)
	}
	dst = e.beginSnapshot(dst)
	for i, c := range e.cols {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, c.name...)
		dst = appendJSONValue(dst, row[i].Text, row[i].Null)
	}
	return e.endSnapshot(dst), nil
}

// AppendSnapshotRowRaw is AppendSnapshotRow for raw text values as a driver
// returns them (a nil slice is NULL), so the snapshot path needs no string
// conversions.
func (e *Encoder) AppendSnapshotRowRaw(dst []byte, row [][]byte) ([]byte, error) {
	if len(row) != len(e.cols) {
		return dst, fmt.Errorf("logitems: snapshot row has %d values, the shape has %d columns", len(row), len(e.cols))
	}
	e.rowKey = append(e.rowKey[:0], e.keyPrefix...)
	for _, k := range e.keys {
		v := row[k.pos]
		e.rowKey = appendKeySection(e.rowKey, canonicalKeyText(k.oid, v), v == nil)
	}
	dst = e.beginSnapshot(dst)
	for i, c := range e.cols {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, c.name...)
		dst = appendJSONValue(dst, row[i], row[i] == nil)
	}
	return e.endSnapshot(dst), nil
}

func (e *Encoder) beginSnapshot(dst []byte) []byte {
	dst = append(dst, `{"key":`...)
	dst = appendJSONString(dst, e.rowKey)
	return append(dst, `,"value":{`...)
}

func (e *Encoder) endSnapshot(dst []byte) []byte {
	dst = append(dst, `},"headers":{"operation":"insert",`...)
	dst = append(dst, e.relHeader...)
	return append(dst, '}', '}')
}
