package logitems

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"

	"github.com/shapesync/shapesync/replication/events"
	"github.com/shapesync/shapesync/replication/lsn"
)

// ErrTruncate is returned for a TRUNCATE change: it has no message; the
// caller invalidates the shape (SHAPE_API §12.3, §21).
var ErrTruncate = errors.New("logitems: truncate has no log item; invalidate the shape")

// Match says which row images satisfy the shape's where clause. The zero
// value, MatchBoth, is right for shapes without a where clause.
type Match uint8

// The match states (SHAPE_API §12.3). For an insert only the new row counts,
// for a delete only the old one.
const (
	MatchBoth    Match = iota // old and new row match (or no where clause)
	MatchOldOnly              // the update moves the row out of the shape
	MatchNewOnly              // the update moves the row into the shape
	MatchNeither
)

// MatchOf builds a Match from the where clause's verdicts.
func MatchOf(oldMatches, newMatches bool) Match {
	switch {
	case oldMatches && newMatches:
		return MatchBoth
	case oldMatches:
		return MatchOldOnly
	case newMatches:
		return MatchNewOnly
	}
	return MatchNeither
}

func (m Match) old() bool { return m == MatchBoth || m == MatchOldOnly }
func (m Match) new() bool { return m == MatchBoth || m == MatchNewOnly }

// which columns of a row an item's "value" carries
type valueSet uint8

const (
	allColumns   valueSet = iota
	keyColumns            // delete with replica=default
	keyOrChanged          // update with replica=default
	changedOnly           // old_value with replica=full
)

// AppendChange appends the log items of one change to dst, following the
// table of SHAPE_API §12.3: an insert, a delete, an update, a delete+insert
// pair at op and op+1 for a key change (last on the insert), a delete or
// insert when the update moves the row out of or into the shape (m), or
// nothing (no shape column changed, or no row image matches). last marks the
// final change of the transaction for this shape; when that is only known
// afterwards, pass false and use MarkLast on the final item.
//
// Tuples are in relation order and must be complete (REPLICA IDENTITY FULL,
// unchanged TOAST already restored). A TRUNCATE returns ErrTruncate.
func (e *Encoder) AppendChange(dst []Item, tx Tx, ch *events.Change, m Match, last bool) ([]Item, error) {
	switch ch.Kind {
	case events.Insert:
		if err := e.checkTuple(ch, "new", ch.New); err != nil {
			return dst, err
		}
		if !m.new() {
			return dst, nil
		}
		return append(dst, e.insert(tx, ch.Op, ch.New, nil, last)), nil
	case events.Delete:
		if err := e.checkTuple(ch, "old", ch.Old); err != nil {
			return dst, err
		}
		if !m.old() {
			return dst, nil
		}
		return append(dst, e.delete(tx, ch.Op, ch.Old, nil, last)), nil
	case events.Update:
		if err := e.checkTuple(ch, "old", ch.Old); err != nil {
			return dst, err
		}
		if err := e.checkTuple(ch, "new", ch.New); err != nil {
			return dst, err
		}
		return e.update(dst, tx, ch, m, last), nil
	case events.Truncate:
		return dst, ErrTruncate
	}
	return dst, fmt.Errorf("logitems: change of unknown kind %d", ch.Kind)
}

func (e *Encoder) checkTuple(ch *events.Change, which string, t events.Tuple) error {
	if len(t) < e.minLen {
		return fmt.Errorf("logitems: %s change at op %d: %s tuple has %d values, the shape needs %d", ch.Kind, ch.Op, which, len(t), e.minLen)
	}
	return nil
}

func (e *Encoder) update(dst []Item, tx Tx, ch *events.Change, m Match, last bool) []Item {
	switch m {
	case MatchNeither:
		return dst
	case MatchOldOnly:
		return append(dst, e.delete(tx, ch.Op, ch.Old, nil, last))
	case MatchNewOnly:
		return append(dst, e.insert(tx, ch.Op, ch.New, nil, last))
	}
	changed, keyChanged := false, false
	for _, c := range e.cols {
		if ch.Old[c.idx] != ch.New[c.idx] {
			changed = true
			if c.isKey {
				keyChanged = true
			}
		}
	}
	if !changed {
		return dst
	}
	if keyChanged {
		// The key of a row is compared in canonical form, but a stream
		// change carries canonical text already, so a raw difference in a
		// key column is a key change.
		e.oldKey = e.appendKeyOf(e.oldKey[:0], ch.Old)
		e.newKey = e.appendKeyOf(e.newKey[:0], ch.New)
		del := e.delete(tx, ch.Op, ch.Old, e.newKey, false)
		return append(dst, del, e.insert(tx, ch.Op+1, ch.New, e.oldKey, last))
	}
	b := e.begin(ch.New)
	if e.replica == ReplicaFull {
		b = e.appendValues(b, ch.New, nil, allColumns)
		b = append(b, `},"old_value":{`...)
		b = e.appendValues(b, ch.Old, ch.New, changedOnly)
	} else {
		b = e.appendValues(b, ch.New, ch.Old, keyOrChanged)
	}
	e.scratch = e.appendHeaders(b, "update", tx, ch.Op, "", nil, last)
	return append(dst, e.finish(lsn.LogOffset{Tx: uint64(tx.CommitLSN), Op: ch.Op}))
}

// insert writes an insert of the full row; keyChangeFrom is the raw old key
// of a key-changing update, nil otherwise.
func (e *Encoder) insert(tx Tx, op uint64, row events.Tuple, keyChangeFrom []byte, last bool) Item {
	b := e.begin(row)
	b = e.appendValues(b, row, nil, allColumns)
	e.scratch = e.appendHeaders(b, "insert", tx, op, "key_change_from", keyChangeFrom, last)
	return e.finish(lsn.LogOffset{Tx: uint64(tx.CommitLSN), Op: op})
}

// delete writes a delete of the old row: key columns, or the full row with
// replica=full; keyChangeTo is the raw new key of a key-changing update.
func (e *Encoder) delete(tx Tx, op uint64, row events.Tuple, keyChangeTo []byte, last bool) Item {
	b := e.begin(row)
	set := keyColumns
	if e.replica == ReplicaFull {
		set = allColumns
	}
	b = e.appendValues(b, row, nil, set)
	e.scratch = e.appendHeaders(b, "delete", tx, op, "key_change_to", keyChangeTo, last)
	return e.finish(lsn.LogOffset{Tx: uint64(tx.CommitLSN), Op: op})
}

// begin starts an item in the scratch buffer: `{"key":"…","value":{`.
func (e *Encoder) begin(row events.Tuple) []byte {
	e.rowKey = e.appendKeyOf(e.rowKey[:0], row)
	b := append(e.scratch[:0], `{"key":`...)
	b = appendJSONString(b, e.rowKey)
	return append(b, `,"value":{`...)
}

// appendValues writes the members of a value object from row; other is the
// tuple compared against for the changed-column sets.
func (e *Encoder) appendValues(b []byte, row, other events.Tuple, set valueSet) []byte {
	first := true
	for _, c := range e.cols {
		switch set {
		case keyColumns:
			if !c.isKey {
				continue
			}
		case keyOrChanged:
			if !c.isKey && row[c.idx] == other[c.idx] {
				continue
			}
		case changedOnly:
			if row[c.idx] == other[c.idx] {
				continue
			}
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, c.name...)
		b = appendJSONValue(b, row[c.idx].Text, row[c.idx].Null)
	}
	return b
}

func appendJSONValue[T text](b []byte, v T, null bool) []byte {
	if null {
		return append(b, "null"...)
	}
	return appendJSONString(b, v)
}

// appendHeaders closes the value object and writes the change headers.
// Headers come last and the item ends in "}}", which MarkLast relies on.
func (e *Encoder) appendHeaders(b []byte, op string, tx Tx, pos uint64, linkName string, link []byte, last bool) []byte {
	b = append(b, `},"headers":{"operation":"`...)
	b = append(b, op...)
	b = append(b, `",`...)
	b = append(b, e.relHeader...)
	b = append(b, `,"lsn":"`...)
	b = strconv.AppendUint(b, uint64(tx.CommitLSN), 10)
	b = append(b, `","op_position":`...)
	b = strconv.AppendUint(b, pos, 10)
	b = append(b, `,"txids":[`...)
	b = strconv.AppendUint(b, uint64(tx.Xid), 10)
	b = append(b, ']')
	if link != nil {
		b = append(b, ',', '"')
		b = append(b, linkName...)
		b = append(b, '"', ':')
		b = appendJSONString(b, link)
	}
	if last {
		b = append(b, lastHeader...)
	}
	return append(b, '}', '}')
}

const lastHeader = `,"last":true`

// MarkLast returns the change item with the header "last": true added, for
// callers that learn which change was the transaction's last for the shape
// only after encoding it. The result is byte-identical to encoding the change
// with last=true. The input is not modified (its bytes may be shared); an
// item that already carries the header is returned as is.
func MarkLast(it Item) (Item, error) {
	j := it.JSON
	if bytes.HasSuffix(j, []byte(lastHeader+"}}")) {
		return it, nil
	}
	if !bytes.HasSuffix(j, []byte("}}")) || !bytes.Contains(j, []byte(`,"op_position":`)) {
		return it, errors.New("logitems: MarkLast needs a change item written by this package")
	}
	out := make([]byte, 0, len(j)+len(lastHeader))
	out = append(out, j[:len(j)-2]...)
	out = append(out, lastHeader...)
	out = append(out, '}', '}')
	return Item{Offset: it.Offset, JSON: out}, nil
}
