package api

import (
	"context"

	"github.com/shapesync/shapesync/replication/lsn"
)

// ShapeDefinition is what a request asks for, as parsed from its parameters
// (SHAPE_API §6.1). Names are already unquoted and case-folded by the §5.2
// rules (ParseRelation); the backend canonicalises whatever else it needs.
// A later issue adds Log.
type ShapeDefinition struct {
	Schema string
	Table  string
	// Columns is the columns parameter as parsed (§5.3), in the order given
	// and possibly with duplicates; nil when the request selected every
	// column implicitly. The backend checks the names against the catalog
	// and adds the primary key.
	Columns []string
	// Where is the where parameter as given (SHAPE_API §20), "" for none;
	// the backend parses and type-checks it against the table.
	Where string
	// Params are the values of $1, $2, … (Params[0] is $1) from
	// params[n] (§5.5); set only with a Where.
	Params  []string
	Replica Replica
}

// Replica is the replica parameter (SHAPE_API §12.3); the zero value is the
// default mode.
type Replica uint8

// The replica modes.
const (
	// ReplicaDefault: updates carry the key and the changed columns,
	// deletes the key.
	ReplicaDefault Replica = iota
	// ReplicaFull: updates carry the full new row and old_value, deletes
	// the full old row.
	ReplicaFull
)

// Shapes is the shape registry as the HTTP layer sees it.
type Shapes interface {
	// GetOrCreate returns the live (not invalidated) incarnation of the shape
	// for def, registering a new one — with a new, never reissued handle —
	// when there is none. Concurrent calls for the same definition return the
	// same shape, so one snapshot serves them all. It may block (catalog
	// look-up, publication change) but must honour ctx.
	//
	// Errors: *InvalidRequestError for a request the database refuses (use
	// TableNotFound for a missing relation, or a view) → 400;
	// *UnavailableError → 503 with its body and retry-after (use
	// CannotVerifyShape, ShapeCreateFailed, DatabaseUnreachable, …); any other
	// error → 500, logged.
	GetOrCreate(ctx context.Context, def ShapeDefinition) (Shape, error)

	// Current returns the live incarnation for def if one exists, without
	// creating one and without blocking on I/O. It names the replacement
	// handle in the 409 sent to a request whose shape was invalidated while
	// it was being served or held.
	Current(def ShapeDefinition) (Shape, bool)

	// LastSeenLSN is lsnG of SHAPE_API §9: the highest commit LSN the
	// replication pipeline has fully processed for all shapes, as a 64-bit
	// integer; 0 when unknown (the handler then uses the shape's end).
	LastSeenLSN() uint64
}

// Extent is one consistent reading of how far a shape log is durable.
// All fields come from the same moment.
type Extent struct {
	// SnapshotChunks is the number of closed snapshot chunks: chunks
	// 0 … SnapshotChunks-1 (addressed by offsets 0_0 … 0_(SnapshotChunks-1))
	// are complete and durable and will never change.
	SnapshotChunks uint64
	// SnapshotDone reports that the snapshot-end message has been written:
	// the snapshot region is final, chunk SnapshotChunks-1 is its last chunk
	// (so SnapshotChunks >= 1; an empty snapshot is one chunk holding only
	// snapshot-end) and the change region has begun.
	SnapshotDone bool
	// End is the offset of the last durable entry, read only when
	// SnapshotDone: lsn.SnapshotEnd (0_inf) while the shape has no changes,
	// else the offset of the last durable change. End only grows, and it
	// always sits at the end of a transaction (the last change of a
	// committed transaction that affects the shape), because a response
	// ending at End may carry up-to-date (ARCHITECTURE §3, B9).
	End lsn.LogOffset
}

// Shape is one incarnation of a shape (one handle). All methods must be safe
// for concurrent use; none may keep references to the caller's buffers.
type Shape interface {
	// Handle is the incarnation's opaque handle (SHAPE_API §6.2).
	Handle() string

	// SchemaJSON is the electric-schema header value (§13): a JSON object,
	// stable for the handle. The caller does not modify it.
	SchemaJSON() []byte

	// WaitSnapshotStarted returns once the snapshot of a newly created shape
	// has started producing rows (at once for an existing shape). The wait is
	// bounded by the backend (§16 snapshot timeouts) and by ctx. Errors as for
	// Shapes.GetOrCreate: *InvalidRequestError (snapshot query failed with a
	// data exception, SQLSTATE class 22) → 400, *UnavailableError (lock
	// timeout, pool exhausted, slow first row) → 503, ErrShapeInvalidated
	// (e.g. schema changed mid-snapshot) → 409, anything else → 500.
	WaitSnapshotStarted(ctx context.Context) error

	// Extent reports the durable extent of the log. It must not block on I/O.
	Extent() Extent

	// ChunkBoundaryAfter reports the smallest change-region chunk boundary b
	// with after < b <= limit, if there is one. A boundary is the offset of
	// the message that closed a change chunk (SHAPE_API §8: the message with
	// which the chunk's running size reached the threshold), so it may lie
	// inside a transaction. Snapshot chunk ends (0_n) and 0_inf are not
	// boundaries here; after may lie in the snapshot region, in which case
	// the first change boundary <= limit is the answer. The handler calls it
	// only when Extent().SnapshotDone, with limit = Extent().End; since chunk
	// boundaries up to a durable offset never change, the answer does not
	// depend on timing.
	ChunkBoundaryAfter(after, limit lsn.LogOffset) (lsn.LogOffset, bool)

	// Read calls emit, in log order, for every entry at an offset o with
	// from < o <= to. Every message of snapshot chunk n (its rows and, in the
	// last chunk, the snapshot-end control message) counts as being at offset
	// 0_n. item is one complete JSON message, valid only during the call. The
	// handler only asks for durable ranges (to <= End, or to = 0_n with
	// n < SnapshotChunks). If emit returns an error, Read stops and returns
	// it. A log that is gone (shape invalidated, storage reclaimed) is
	// reported as an error wrapping ErrShapeInvalidated.
	Read(ctx context.Context, from, to lsn.LogOffset, emit func(item []byte) error) error

	// Changed returns a channel that is closed at the next change of Extent()
	// or Invalidated() after the call (longpoll.Notifier implements exactly
	// this). The backend publishes the new state before closing the channel;
	// the handler takes the channel before it reads the state (RELIABILITY
	// E1), so no change is missed.
	Changed() <-chan struct{}

	// Invalidated reports whether this incarnation was invalidated (SHAPE_API
	// §21). Once true it stays true, and Shapes no longer returns it.
	Invalidated() bool
}

// Service states reported by StatusView (SHAPE_API §19).
const (
	StateStarting = "starting"
	StateWaiting  = "waiting"
	StateLive     = "live"
	StateFallback = "fallback"
)

// Status is the published service status (SHAPE_API §19).
type Status struct {
	// State is one of StateStarting, StateWaiting, StateLive, StateFallback;
	// anything else is reported as starting.
	State string
	// Reasons name the failing conditions behind State and what the operator
	// can do; empty when all is well.
	Reasons []string
	// ReceivedLSN is the newest WAL position received from Postgres,
	// DurableLSN the acknowledged position as synced to storage, AckedLSN the
	// flushed position last sent to Postgres (never ahead of DurableLSN).
	ReceivedLSN, DurableLSN, AckedLSN lsn.LSN
}

// StatusView is the published service status. Status must be cheap and must
// not block: health probes call it and must answer within 100 ms
// (RELIABILITY E6).
type StatusView interface {
	Status() Status
}

// serving reports whether the service answers long-poll timeouts normally:
// live, or fallback (RELIABILITY G1: stored shapes keep serving).
func (s Status) serving() bool { return s.State == StateLive || s.State == StateFallback }
