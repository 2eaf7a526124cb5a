package consumer

import (
	"errors"
	"fmt"

	"github.com/shapesync/shapesync/replication/events"
	"github.com/shapesync/shapesync/replication/lsn"
	"github.com/shapesync/shapesync/shapes/logitems"
	"github.com/shapesync/shapesync/shapes/protocol"
)

// Reasons a shape cannot continue; the consumer reports them as
// protocol.ShapeInvalid.
var (
	ErrTruncated       = errors.New("the table was truncated")
	ErrRelationChanged = errors.New("the table's columns changed")
	ErrJoinedInvisible = errors.New("joined a transaction in the middle, but it is not visible in the snapshot (it would be half in the log)")
	ErrUnexpectedTxn   = errors.New("a fragment of another transaction arrived while one was open (the collector must abort it first)")
)

// layout is what the shape expects of the stream: its table's published
// columns (generated columns are not sent by pgoutput v1) and the encoder
// bound to them.
type layout struct {
	schema, name string
	oid          uint32
	columns      []events.Column
	enc          *logitems.Encoder
}

// newLayout builds the encoder of a shape over table t. columns are indexes
// into t.Columns (nil: every published column); keys are t's primary key or,
// without one, every column.
func newLayout(t *events.Table, columns []int, replica logitems.Replica) (*layout, error) {
	if t == nil {
		return nil, errors.New("consumer: no table")
	}
	relIndex := make([]int, len(t.Columns)) // table column → published column, -1 if generated
	l := &layout{schema: t.Schema, name: t.Name, oid: t.OID}
	for i, c := range t.Columns {
		if c.Generated != 0 {
			relIndex[i] = -1
			continue
		}
		relIndex[i] = len(l.columns)
		l.columns = append(l.columns, events.Column{Name: c.Name, TypeOID: c.TypeOID, TypeMod: c.TypeMod, InIdentity: true})
	}
	mapCols := func(what string, idx []int) ([]int, error) {
		out := make([]int, 0, len(idx))
		for _, i := range idx {
			if i < 0 || i >= len(t.Columns) {
				return nil, fmt.Errorf("consumer: %s column index %d out of range for %s.%s", what, i, t.Schema, t.Name)
			}
			if relIndex[i] < 0 {
				return nil, fmt.Errorf("consumer: %s column %q of %s.%s is generated; the replication stream does not carry it", what, t.Columns[i].Name, t.Schema, t.Name)
			}
			out = append(out, relIndex[i])
		}
		return out, nil
	}
	var cols []int
	if columns == nil {
		for i := range l.columns {
			cols = append(cols, i)
		}
	} else {
		var err error
		if cols, err = mapCols("shape", columns); err != nil {
			return nil, err
		}
	}
	keys, err := mapCols("key", t.KeyColumns())
	if err != nil {
		return nil, err
	}
	rel := &events.Relation{ID: t.OID, Schema: t.Schema, Name: t.Name, ReplicaIdentity: 'f', Columns: l.columns}
	l.enc, err = logitems.NewEncoder(logitems.Config{
		Schema: t.Schema, Table: t.Name, Relation: rel, Columns: cols, KeyColumns: keys, Replica: replica,
	})
	if err != nil {
		return nil, fmt.Errorf("consumer: %w", err)
	}
	return l, nil
}

// matches reports whether rel is the shape's table as the stream announces
// it; an error when it is the table but its layout differs.
func (l *layout) matches(rel *events.Relation) (bool, error) {
	if rel.Schema != l.schema || rel.Name != l.name {
		return false, nil
	}
	if l.oid != 0 && rel.ID != l.oid {
		return true, fmt.Errorf("%w: relation id %d, the shape's table had %d (dropped and recreated?)", ErrRelationChanged, rel.ID, l.oid)
	}
	if len(rel.Columns) != len(l.columns) {
		return true, fmt.Errorf("%w: the stream has %d columns, the shape's table %d", ErrRelationChanged, len(rel.Columns), len(l.columns))
	}
	for i, c := range rel.Columns {
		e := l.columns[i]
		if c.Name != e.Name || c.TypeOID != e.TypeOID || c.TypeMod != e.TypeMod {
			return true, fmt.Errorf("%w: column %d is %q (type %d, mod %d), the shape's table has %q (type %d, mod %d)",
				ErrRelationChanged, i+1, c.Name, c.TypeOID, c.TypeMod, e.Name, e.TypeOID, e.TypeMod)
		}
	}
	return true, nil
}

// txnState is the transaction whose fragments are being converted.
type txnState struct {
	xid       uint32
	commitLSN lsn.LSN
	skip      bool // replay, or visible in the snapshot: emits nothing
	appended  bool // items of it were handed out (an abort must roll back)
}

// output is what one fragment asks the consumer to send.
type output struct {
	Items  []protocol.LogItem
	Commit *protocol.CommitMark
	// StateChanged: the visibility state changed (filtering ended) and must
	// be stored before Items.
	StateChanged bool
}

// converter turns one shape's fragments into log items. It is pure: the
// consumer actor feeds it in delivery order once the visibility is known.
type converter struct {
	l       *layout
	checked *events.Relation // last stream relation that matched the layout
	floor   lsn.LSN          // transactions committed at or below it are stored already
	vis     Visibility
	txn     *txnState
	held    *logitems.Item // last encoded item, not yet known to be its transaction's last
	scratch []logitems.Item
	match   func(events.Tuple) bool // the where clause; nil: every row
}

// matchOf is the where clause's verdict on a change's row images: the new
// row for an insert, the old for a delete, both for an update.
func (c *converter) matchOf(ch *events.Change) logitems.Match {
	if c.match == nil {
		return logitems.MatchBoth
	}
	switch ch.Kind {
	case events.Insert:
		m := c.match(ch.New)
		return logitems.MatchOf(m, m)
	case events.Delete:
		m := c.match(ch.Old)
		return logitems.MatchOf(m, m)
	}
	return logitems.MatchOf(c.match(ch.Old), c.match(ch.New))
}

func newConverter(l *layout, floor lsn.LSN, vis Visibility) *converter {
	return &converter{l: l, floor: floor, vis: vis}
}

// SetSnapshot records the snapshot's visibility; filtering starts.
func (c *converter) SetSnapshot(s lsn.Snapshot) {
	c.vis = Visibility{Known: true, Snapshot: s, Filtering: true}
}

// Abort forgets the open transaction; it reports whether items of it were
// handed out, so the writer must roll the shape back to its last commit.
func (c *converter) Abort() (rollback bool) {
	rollback = c.txn != nil && c.txn.appended
	c.txn, c.held = nil, nil
	return rollback
}

// Fragment converts one fragment. An error means the shape cannot continue.
func (c *converter) Fragment(f *events.Fragment) (output, error) {
	var out output
	if c.txn != nil && (f.HasBegin || f.CommitLSN != c.txn.commitLSN || f.Xid != c.txn.xid) {
		return out, fmt.Errorf("%w: xid %d at %s while xid %d at %s is open", ErrUnexpectedTxn, f.Xid, f.CommitLSN, c.txn.xid, c.txn.commitLSN)
	}
	if c.txn == nil {
		t, changed, err := c.begin(f)
		if err != nil {
			return out, err
		}
		c.txn, out.StateChanged = t, changed
	}
	t := c.txn
	if !t.skip {
		if err := c.encode(f, &out); err != nil {
			return out, err
		}
	}
	if f.Commit {
		if c.held != nil {
			last, err := logitems.MarkLast(*c.held)
			if err != nil {
				return out, fmt.Errorf("consumer: %w", err)
			}
			out.Items = append(out.Items, protocol.LogItem{Offset: last.Offset, JSON: last.JSON})
			c.held = nil
		}
		out.Commit = &protocol.CommitMark{LSN: f.CommitLSN}
		if !t.skip && f.CommitLSN > c.floor {
			c.floor = f.CommitLSN
		}
		c.txn = nil
	}
	if len(out.Items) > 0 {
		t.appended = true
	}
	return out, nil
}

// begin decides, at a transaction's first fragment, whether it is appended.
func (c *converter) begin(f *events.Fragment) (*txnState, bool, error) {
	t := &txnState{xid: f.Xid, commitLSN: f.CommitLSN}
	changed := false
	if c.vis.Filtering && c.vis.Snapshot.WAL != 0 && f.CommitLSN >= c.vis.Snapshot.WAL {
		// Its commit record follows the snapshot's WAL position, so it is
		// not visible, and no later transaction is (lsn.Snapshot.WAL). An
		// xid at or above xmax does not prove that: commits can become
		// visible in another order than the stream's. Without the position
		// (state stored by an older build) filtering simply continues.
		c.vis.Filtering = false
		changed = true
	}
	visible := c.vis.Filtering && c.vis.Snapshot.Visible(f.Xid)
	switch {
	case f.CommitLSN <= c.floor:
		t.skip = true
	case !f.HasBegin && !visible:
		return nil, changed, fmt.Errorf("%w: xid %d at %s", ErrJoinedInvisible, f.Xid, f.CommitLSN)
	case visible:
		t.skip = true
	}
	return t, changed, nil
}

// encode appends the items of the fragment's changes to the shape's table,
// holding the newest one back.
func (c *converter) encode(f *events.Fragment, out *output) error {
	tx := logitems.Tx{CommitLSN: f.CommitLSN, Xid: f.Xid}
	for i := range f.Changes {
		ch := &f.Changes[i]
		if ch.Relation == nil {
			continue
		}
		if ch.Relation != c.checked {
			ok, err := c.l.matches(ch.Relation)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
			c.checked = ch.Relation
		}
		if ch.Kind == events.Truncate {
			return fmt.Errorf("%w (xid %d at %s)", ErrTruncated, f.Xid, f.CommitLSN)
		}
		m := c.matchOf(ch)
		if m == logitems.MatchNeither {
			continue
		}
		items, err := c.l.enc.AppendChange(c.scratch[:0], tx, ch, m, false)
		if err != nil {
			return fmt.Errorf("consumer: xid %d: %w", f.Xid, err)
		}
		for _, it := range items {
			if c.held != nil {
				out.Items = append(out.Items, protocol.LogItem{Offset: c.held.Offset, JSON: c.held.JSON})
			}
			held := it
			c.held = &held
		}
		c.scratch = items[:0]
	}
	return nil
}
