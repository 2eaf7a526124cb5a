package decode

import (
	"errors"
	"fmt"

	"github.com/jackc/pglogrepl"

	"github.com/shapesync/shapesync/replication/events"
	"github.com/shapesync/shapesync/replication/lsn"
)

// Defaults for Options, as upstream (max_batch_size, max_txn_size).
const (
	DefaultMaxFragmentChanges = 100
	DefaultMaxTxnBytes        = 250 << 20
)

// Options bound what the Builder holds. A value ≤ 0 selects the default.
type Options struct {
	// MaxFragmentChanges is the most changes one Fragment carries.
	MaxFragmentChanges int
	// MaxTxnBytes is the most row data (text bytes of old and new rows) one
	// transaction may carry before Apply fails with *TxnTooLargeError.
	MaxTxnBytes int64
}

// Builder turns a pgoutput v1 message stream into events: a RelationEvent per
// Relation message and the changes of each transaction in Fragments.
//
// Op numbering counts every change Postgres sent (each insert, update, delete
// and each truncated relation) whether or not the Builder keeps it: a no-op
// update that is dropped still uses up its op. Offsets are thus a function of
// the WAL alone, so a replay rewrites identical offsets (I2) even if the rule
// for what is dropped changes between versions.
//
// Fragment boundaries depend only on the changes kept: every fragment but the
// last of a transaction carries exactly MaxFragmentChanges changes, and a
// full fragment is held back until the next kept change or the COMMIT, so
// the commit fragment is empty only for a transaction that kept no change.
// Relation messages do not cut fragments, because pgoutput re-announces
// relations at different places after a reconnect; every Change points to the
// Relation in force when Postgres sent it, so nothing downstream depends on
// where a RelationEvent falls between fragments.
//
// A Builder is not safe for concurrent use.
type Builder struct {
	maxChanges int
	maxBytes   int64
	relations  map[uint32]*events.Relation
	txn        *txn // nil between transactions
}

// txn is the transaction being received.
type txn struct {
	xid       uint32
	commitLSN lsn.LSN
	nextOp    uint64
	bytes     int64
	begun     bool // the fragment with HasBegin has been emitted
	changes   []events.Change
}

// NewBuilder returns a Builder with an empty relation cache.
func NewBuilder(opts Options) *Builder {
	b := &Builder{
		maxChanges: opts.MaxFragmentChanges,
		maxBytes:   opts.MaxTxnBytes,
		relations:  make(map[uint32]*events.Relation),
	}
	if b.maxChanges <= 0 {
		b.maxChanges = DefaultMaxFragmentChanges
	}
	if b.maxBytes <= 0 {
		b.maxBytes = DefaultMaxTxnBytes
	}
	return b
}

// Reset starts a new stream epoch: a partially received transaction is
// discarded (Postgres sends it again from its BEGIN). The relation cache is
// kept; pgoutput announces every relation again on a new stream before using
// it, and each announcement replaces the entry.
func (b *Builder) Reset() { b.txn = nil }

// InTransaction reports whether a BEGIN has been applied without its COMMIT.
func (b *Builder) InTransaction() bool { return b.txn != nil }

// WalEnd turns a primary keepalive's wal_end into the event that carries it
// to the flush tracker. Inside a transaction it is dropped: the keepalive may
// lie past the commit of the transaction still being received, and acking it
// would skip that transaction after a crash (I3). The next keepalive after
// the COMMIT advances the position instead.
func (b *Builder) WalEnd(l lsn.LSN) []events.Event {
	if b.txn != nil {
		return nil
	}
	return []events.Event{&events.WalEnd{LSN: l}}
}

// ApplyWAL decodes one XLogData payload and applies it; see Decode and Apply.
func (b *Builder) ApplyWAL(walData []byte, walStart lsn.LSN) ([]events.Event, error) {
	msg, err := Decode(walData)
	if err != nil {
		b.txn = nil
		return nil, fmt.Errorf("pgoutput message at WAL %s: %w", walStart, err)
	}
	return b.Apply(msg, walStart)
}

// Apply feeds one message and returns the events it completes, in stream
// order (often none: changes collect until a fragment is full or the COMMIT).
// walStart (XLogData.WALStart) only locates errors for the operator.
//
// Errors wrap ErrProtocol, ErrMalformed, *ReplicaIdentityError or
// *TxnTooLargeError. After an error the partial transaction is gone: the host
// must restart the stream, which replays the transaction from its BEGIN.
func (b *Builder) Apply(msg pglogrepl.Message, walStart lsn.LSN) ([]events.Event, error) {
	evs, err := b.step(msg)
	if err != nil {
		b.txn = nil
		return nil, fmt.Errorf("pgoutput message at WAL %s: %w", walStart, err)
	}
	return evs, nil
}

func (b *Builder) step(msg pglogrepl.Message) ([]events.Event, error) {
	switch m := msg.(type) {
	case *pglogrepl.RelationMessage:
		return b.relationMessage(m)
	case *pglogrepl.TypeMessage, *pglogrepl.OriginMessage:
		// Values arrive in text form, so custom type names do not matter;
		// the origin is informational.
		return nil, nil
	case *pglogrepl.LogicalDecodingMessage:
		if m.Transactional && b.txn == nil {
			return nil, protocolErrorf("transactional logical decoding message %q outside a transaction", m.Prefix)
		}
		return nil, nil
	case *pglogrepl.BeginMessage:
		if b.txn != nil {
			return nil, protocolErrorf("BEGIN of xid %d inside transaction %d", m.Xid, b.txn.xid)
		}
		b.txn = &txn{xid: m.Xid, commitLSN: lsn.LSN(m.FinalLSN)}
		return nil, nil
	case *pglogrepl.InsertMessage:
		return b.insert(m)
	case *pglogrepl.UpdateMessage:
		return b.update(m)
	case *pglogrepl.DeleteMessage:
		return b.delete(m)
	case *pglogrepl.TruncateMessage:
		return b.truncate(m)
	case *pglogrepl.CommitMessage:
		return b.commit(m)
	case nil:
		return nil, protocolErrorf("nil message")
	}
	return nil, protocolErrorf("unsupported message %T (shapesync streams pgoutput proto_version 1)", msg)
}

func (b *Builder) relationMessage(m *pglogrepl.RelationMessage) ([]events.Event, error) {
	rel := &events.Relation{
		ID:              m.RelationID,
		Schema:          m.Namespace,
		Name:            m.RelationName,
		ReplicaIdentity: m.ReplicaIdentity,
		Columns:         make([]events.Column, len(m.Columns)),
	}
	for i, c := range m.Columns {
		if c == nil {
			return nil, protocolErrorf("Relation message for %s: column %d is missing", QualifiedName(rel), i)
		}
		rel.Columns[i] = events.Column{Name: c.Name, TypeOID: c.DataType, TypeMod: c.TypeModifier, InIdentity: c.Flags&1 != 0}
	}
	// Re-announcing an unchanged relation keeps the cached pointer, so equal
	// definitions stay one object and pointer equality means "same schema".
	if old, ok := b.relations[rel.ID]; ok && relationsEqual(old, rel) {
		rel = old
	}
	b.relations[rel.ID] = rel
	return []events.Event{&events.RelationEvent{Relation: rel}}, nil
}

func relationsEqual(a, b *events.Relation) bool {
	if a.ID != b.ID || a.Schema != b.Schema || a.Name != b.Name || a.ReplicaIdentity != b.ReplicaIdentity || len(a.Columns) != len(b.Columns) {
		return false
	}
	for i := range a.Columns {
		if a.Columns[i] != b.Columns[i] {
			return false
		}
	}
	return true
}

// inTxn returns the open transaction and the relation a change names.
func (b *Builder) inTxn(what string, relID uint32) (*events.Relation, error) {
	if b.txn == nil {
		return nil, protocolErrorf("%s outside a transaction", what)
	}
	rel, ok := b.relations[relID]
	if !ok {
		return nil, protocolErrorf("%s on relation %d, which no Relation message announced", what, relID)
	}
	return rel, nil
}

func (b *Builder) insert(m *pglogrepl.InsertMessage) ([]events.Event, error) {
	rel, err := b.inTxn("INSERT", m.RelationID)
	if err != nil {
		return nil, err
	}
	row, size, err := textTuple(rel, m.Tuple, nil, "new")
	if err != nil {
		return nil, inContext(err, "INSERT", rel)
	}
	return b.add(events.Change{Kind: events.Insert, Relation: rel, New: row}, size, true)
}

func (b *Builder) update(m *pglogrepl.UpdateMessage) ([]events.Event, error) {
	rel, err := b.inTxn("UPDATE", m.RelationID)
	if err != nil {
		return nil, err
	}
	if m.OldTupleType != pglogrepl.UpdateMessageTupleTypeOld || m.OldTuple == nil {
		return nil, &ReplicaIdentityError{Relation: rel, Kind: events.Update, Got: oldRowGot(m.OldTupleType)}
	}
	old, oldSize, err := textTuple(rel, m.OldTuple, nil, "old")
	if err != nil {
		return nil, oldRowError(err, events.Update, rel)
	}
	row, newSize, err := textTuple(rel, m.NewTuple, old, "new")
	if err != nil {
		return nil, inContext(err, "UPDATE", rel)
	}
	// F6: an update that changes no column is dropped; it keeps its op.
	keep := !tuplesEqual(old, row)
	return b.add(events.Change{Kind: events.Update, Relation: rel, Old: old, New: row}, oldSize+newSize, keep)
}

func (b *Builder) delete(m *pglogrepl.DeleteMessage) ([]events.Event, error) {
	rel, err := b.inTxn("DELETE", m.RelationID)
	if err != nil {
		return nil, err
	}
	if m.OldTupleType != pglogrepl.DeleteMessageTupleTypeOld || m.OldTuple == nil {
		return nil, &ReplicaIdentityError{Relation: rel, Kind: events.Delete, Got: oldRowGot(m.OldTupleType)}
	}
	old, size, err := textTuple(rel, m.OldTuple, nil, "old")
	if err != nil {
		return nil, oldRowError(err, events.Delete, rel)
	}
	return b.add(events.Change{Kind: events.Delete, Relation: rel, Old: old}, size, true)
}

func (b *Builder) truncate(m *pglogrepl.TruncateMessage) ([]events.Event, error) {
	rels := make([]*events.Relation, len(m.RelationIDs))
	for i, id := range m.RelationIDs {
		rel, err := b.inTxn("TRUNCATE", id)
		if err != nil {
			return nil, err
		}
		rels[i] = rel
	}
	var out []events.Event
	for _, rel := range rels {
		evs, err := b.add(events.Change{Kind: events.Truncate, Relation: rel}, 0, true)
		if err != nil {
			return nil, err
		}
		out = append(out, evs...)
	}
	return out, nil
}

func (b *Builder) commit(m *pglogrepl.CommitMessage) ([]events.Event, error) {
	t := b.txn
	if t == nil {
		return nil, protocolErrorf("COMMIT %s outside a transaction", lsn.LSN(m.CommitLSN))
	}
	if lsn.LSN(m.CommitLSN) != t.commitLSN {
		return nil, protocolErrorf("COMMIT of xid %d at %s, but its BEGIN announced final LSN %s",
			t.xid, lsn.LSN(m.CommitLSN), t.commitLSN)
	}
	if m.TransactionEndLSN < m.CommitLSN {
		return nil, protocolErrorf("COMMIT of xid %d ends at %s, before its commit LSN %s",
			t.xid, lsn.LSN(m.TransactionEndLSN), t.commitLSN)
	}
	f := t.cut()
	f.Commit = true
	f.EndLSN = lsn.LSN(m.TransactionEndLSN)
	b.txn = nil
	return []events.Event{f}, nil
}

// add numbers a change and, if keep, puts it in the current fragment, first
// emitting the previous one if it is full.
func (b *Builder) add(c events.Change, size int64, keep bool) ([]events.Event, error) {
	t := b.txn
	t.bytes += size
	if t.bytes > b.maxBytes {
		return nil, &TxnTooLargeError{Xid: t.xid, CommitLSN: t.commitLSN, Limit: b.maxBytes, Size: t.bytes}
	}
	c.Op = t.nextOp
	t.nextOp += 2
	if !keep {
		return nil, nil
	}
	var out []events.Event
	if len(t.changes) == b.maxChanges {
		out = []events.Event{t.cut()}
		t.changes = make([]events.Change, 0, b.maxChanges)
	}
	t.changes = append(t.changes, c)
	return out, nil
}

// cut hands the collected changes over in a fragment; the slice now belongs
// to the fragment, which is immutable from here on.
func (t *txn) cut() *events.Fragment {
	f := &events.Fragment{Xid: t.xid, CommitLSN: t.commitLSN, HasBegin: !t.begun, Changes: t.changes}
	t.begun = true
	t.changes = nil
	return f
}

func oldRowGot(tupleType uint8) string {
	if tupleType == pglogrepl.UpdateMessageTupleTypeKey {
		return "only the key columns of the old row"
	}
	return "no old row"
}

// inContext names the change for a tuple error; an unchanged-TOAST value with
// no old row to restore it from can only mean the old row is missing.
func inContext(err error, what string, rel *events.Relation) error {
	var toast errNeedsOldRow
	if errors.As(err, &toast) {
		return protocolErrorf("%s on %s: %s", what, QualifiedName(rel), toast.Error())
	}
	return err
}

// oldRowError: under REPLICA IDENTITY FULL Postgres inlines TOASTed values
// into the old row, so an unchanged-TOAST marker there means the old row is
// incomplete, which the operator fixes like a missing one.
func oldRowError(err error, kind events.ChangeKind, rel *events.Relation) error {
	var toast errNeedsOldRow
	if errors.As(err, &toast) {
		return &ReplicaIdentityError{Relation: rel, Kind: kind, Got: "an old row lacking the TOAST value of column " + toast.column}
	}
	return err
}
