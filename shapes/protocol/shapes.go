package protocol

import (
	"github.com/shapesync/shapesync/actors"
	"github.com/shapesync/shapesync/replication/events"
	"github.com/shapesync/shapesync/replication/lsn"
)

// ShapeID is a shape's 8-byte storage id (the handle is its public name).
type ShapeID uint64

// Subscribe asks the collector to route changes of one table to a
// consumer: those whose old or new row may satisfy Route. The collector
// answers Subscribed only once the route takes effect, so the snapshot
// taken after it misses nothing (I1).
type Subscribe struct {
	Shape    ShapeID
	Handle   string
	Schema   string
	Table    string
	Consumer *actors.PID
	ReplyTo  *actors.PID
	Seq      uint64
	// Route is the shape's routing condition for the collector's index: a
	// filter.Condition built by the wiring from the where clause (this
	// layer-0 package cannot name the type; the collector asserts it). Nil
	// routes every change of the table; any other type is refused by the
	// collector, which then routes every change too.
	Route any
}

// Subscribed acknowledges Subscribe. Streamed lists the xids of the
// transactions the collector routed (most recent last, bounded) before the
// route took effect: a commit can reach the stream a moment before it is
// visible to new snapshots, so the snapshot taken next must see every one
// of them, or be taken again (ARCHITECTURE §4, snapshot/stream stitching).
type Subscribed struct {
	Shape    ShapeID
	Seq      uint64
	Streamed []uint32
}

// Unsubscribe removes a shape's route and unpins it from the flush tracker;
// it takes effect at once and is not answered.
type Unsubscribe struct {
	Shape ShapeID
}

// Deliver hands one transaction fragment to a consumer. The fragment is
// shared by every consumer and must not be modified.
type Deliver struct {
	Seq      uint64
	Fragment *events.Fragment
}

// Delivered answers Deliver once the consumer's appends for it were
// accepted by the store-writer (or buffered, before the snapshot is known).
type Delivered struct {
	Seq   uint64
	Shape ShapeID
}

// LogItem is one encoded message of a shape log at its offset.
type LogItem struct {
	Offset lsn.LogOffset
	JSON   []byte
}

// Append adds a consumer's log items for one fragment to the store-writer's
// pending batch. Commit, when set, marks the end of a transaction for this
// shape, also for transactions that produced no items (skipped or filtered),
// so the writer reports flushes in commit order.
type Append struct {
	Seq     uint64
	Shape   ShapeID
	Items   []LogItem
	Commit  *CommitMark
	ReplyTo *actors.PID
}

// CommitMark marks a transaction end in a shape's log.
type CommitMark struct {
	// LSN is the transaction's commit LSN (the tx part of its offsets).
	LSN lsn.LSN
}

// Accepted answers Append: the items are in the writer's pending batch.
type Accepted struct {
	Seq   uint64
	Shape ShapeID
}

// FlushedBatch tells the collector which transactions are now durable: for
// each shape, the commit LSN of the newest transaction end synced.
type FlushedBatch struct {
	Shapes map[ShapeID]lsn.LSN
}

// PersistAck asks the store-writer to persist S|acked = LSN with its next
// sync; it answers AckPersisted once synced.
type PersistAck struct {
	LSN lsn.LSN
}

// AckPersisted reports that S|acked = LSN is synced.
type AckPersisted struct {
	LSN lsn.LSN
}

// SnapshotKnown tells a consumer the visibility of its initial snapshot:
// transactions visible in it are skipped, the others appended.
type SnapshotKnown struct {
	Shape    ShapeID
	Snapshot lsn.Snapshot
}

// SnapshotRows carries encoded snapshot rows to the store-writer; it answers
// RowsAccepted (credit for the next batch).
type SnapshotRows struct {
	Shape   ShapeID
	Seq     uint64
	Rows    [][]byte
	ReplyTo *actors.PID
}

// RowsAccepted answers SnapshotRows.
type RowsAccepted struct {
	Shape ShapeID
	Seq   uint64
}

// SnapshotEnd closes a shape's snapshot region with the snapshot-end control
// message; the writer answers SnapshotStored once it is synced.
type SnapshotEnd struct {
	Shape   ShapeID
	Seq     uint64
	JSON    []byte
	ReplyTo *actors.PID
}

// SnapshotStored reports that a shape's whole snapshot is durable.
type SnapshotStored struct {
	Shape ShapeID
	Seq   uint64
}

// SnapshotFailed reports that a snapshot could not be taken; the shape is
// invalidated.
type SnapshotFailed struct {
	Shape ShapeID
	Err   error
}
