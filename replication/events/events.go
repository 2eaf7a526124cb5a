package events

import "github.com/shapesync/shapesync/replication/lsn"

// Column describes one column of a relation as the stream announced it.
type Column struct {
	Name    string
	TypeOID uint32
	TypeMod int32
	// InIdentity is pgoutput's flag: the column is part of the replica
	// identity (every column under REPLICA IDENTITY FULL).
	InIdentity bool
}

// Relation is a table as announced by a pgoutput Relation message.
type Relation struct {
	ID     uint32
	Schema string
	Name   string
	// ReplicaIdentity is pgoutput's setting: 'd' default, 'n' nothing,
	// 'f' full, 'i' index.
	ReplicaIdentity byte
	Columns         []Column
}

// Value is one column value in Postgres text form. Unchanged TOAST values
// never reach this type: the transaction builder restores them from the old
// tuple.
type Value struct {
	Text string
	Null bool
}

// Tuple holds a row's values in the relation's column order.
type Tuple []Value

// ChangeKind says what a change does.
type ChangeKind uint8

// The change kinds.
const (
	Insert ChangeKind = iota + 1
	Update
	Delete
	Truncate
)

func (k ChangeKind) String() string {
	switch k {
	case Insert:
		return "insert"
	case Update:
		return "update"
	case Delete:
		return "delete"
	case Truncate:
		return "truncate"
	}
	return "unknown"
}

// Change is one row change (or one truncated relation) inside a transaction.
type Change struct {
	Kind     ChangeKind
	Relation *Relation
	// Old is the previous row for updates and deletes (complete, because
	// shaped tables have REPLICA IDENTITY FULL); nil for inserts.
	Old Tuple
	// New is the new row for inserts and updates; nil for deletes.
	New Tuple
	// Op is the change's position inside its transaction: 0, 2, 4, … in the
	// order Postgres sent them (SHAPE_API §7.3).
	Op uint64
}

// Event is what the builder hands downstream: a Fragment, a RelationEvent or
// a WalEnd marker.
type Event interface{ isEvent() }

// Fragment is a slice of one transaction with at most a bounded number of
// changes. The boundaries are deterministic: the same WAL gives the same
// fragments, so a replay rewrites the same offsets (I2).
type Fragment struct {
	Xid uint32
	// CommitLSN is BEGIN's final LSN, the tx part of every offset of this
	// transaction.
	CommitLSN lsn.LSN
	// EndLSN is the end of the commit record (TransactionEndLSN); set only
	// on the fragment that carries the commit. It is what Postgres is told
	// is flushed once every shape has the transaction on disk.
	EndLSN lsn.LSN
	// HasBegin marks the first fragment of a transaction, Commit the last.
	HasBegin bool
	Commit   bool
	Changes  []Change
}

// RelationEvent announces a relation definition (first use, or a change of
// its columns) in stream order.
type RelationEvent struct {
	Relation *Relation
}

// WalEnd carries a primary keepalive's server WAL end through the event
// stream, so it reaches the flush tracker only after everything received
// before it. Outside a transaction it acts as an empty commit at LSN.
type WalEnd struct {
	LSN lsn.LSN
}

func (*Fragment) isEvent()      {}
func (*RelationEvent) isEvent() {}
func (*WalEnd) isEvent()        {}
