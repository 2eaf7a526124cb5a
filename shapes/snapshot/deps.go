package snapshot

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/shapesync/shapesync/replication/events"
	"github.com/shapesync/shapesync/replication/lsn"
)

// RowEncoder turns one row of text values (nil = NULL, in the order of
// Request.Columns) into a snapshot log item; *logitems.Encoder is one.
type RowEncoder interface {
	AppendSnapshotRowRaw(dst []byte, row [][]byte) ([]byte, error)
}

// Deps is what the host of a snapshot provides: the snapshot pool and the
// messages to the rest of the system, as functions, so the procedure stays a
// plain function run by the goroutine the snapshot actor owns. Every
// function is called on Run's goroutine and may block; each gets Run's
// context.
type Deps struct {
	// Pool is the snapshot pool, configured with ConfigurePool.
	Pool *pgxpool.Pool
	// Encoder encodes rows; unused with Request.ChangesOnly.
	Encoder RowEncoder
	// EnsurePublished puts the table in the publication (through the
	// publication owner, which serialises the DDL) and returns once that is
	// committed. horizon is 0 when the table was already published long
	// enough; otherwise it is publication.Horizon read right after the ALTER
	// committed, and the snapshot waits until its xmin reaches it.
	EnsurePublished func(ctx context.Context, t *events.Table) (horizon uint64, err error)
	// Subscribe asks the collector to route the table's changes to the
	// shape and returns once it acknowledged (I1): every change committed
	// after the snapshot then reaches the consumer.
	Subscribe func(ctx context.Context) error
	// Streamed, if set, returns the xids of the transactions the collector
	// had already routed when Subscribe was acknowledged; a snapshot that
	// does not see all of them is taken again (within StraddleTimeout).
	Streamed func() []uint32
	// SnapshotKnown hands the consumer the snapshot's visibility, so it can
	// skip the transactions the snapshot contains (SHAPE_API §22.4).
	SnapshotKnown func(ctx context.Context, snap lsn.Snapshot) error
	// Rows stores a batch of encoded rows; it blocks until the store-writer
	// gives credit. The batch and its items belong to the callee.
	Rows func(ctx context.Context, batch [][]byte) error
	// End stores the snapshot-end control message after the last row.
	End func(ctx context.Context, snapshotEnd []byte) error
	// OnStraddleWait, if set, hears each time a snapshot is retried because
	// its xmin is below the horizon (for logs and tests).
	OnStraddleWait func(attempt int, snap lsn.Snapshot, horizon uint64)
	Limits         Limits
}

// Limits bound a snapshot. Zero fields take the defaults.
type Limits struct {
	// FirstRowTimeout bounds the wait for the first row (or the end of an
	// empty result); default 30 s (SHAPE_API §22.4 step 5).
	FirstRowTimeout time.Duration
	// AcquireTimeout bounds the wait for a pool connection; default 5 s.
	AcquireTimeout time.Duration
	// StraddleTimeout bounds the straddle guard's retries; default 10 s.
	StraddleTimeout time.Duration
	// BatchRows and BatchBytes end a batch of rows; defaults 1000 rows and
	// 1 MiB.
	BatchRows  int
	BatchBytes int
}

func (l Limits) withDefaults() Limits {
	if l.FirstRowTimeout <= 0 {
		l.FirstRowTimeout = 30 * time.Second
	}
	if l.AcquireTimeout <= 0 {
		l.AcquireTimeout = 5 * time.Second
	}
	if l.StraddleTimeout <= 0 {
		l.StraddleTimeout = 10 * time.Second
	}
	if l.BatchRows <= 0 {
		l.BatchRows = 1000
	}
	if l.BatchBytes <= 0 {
		l.BatchBytes = 1 << 20
	}
	return l
}

// Request is one shape's snapshot.
type Request struct {
	Table *events.Table
	// Columns are indexes into Table.Columns in the order the encoder
	// expects them.
	Columns []int
	// Where is the shape's condition rendered by shapes/where with $n
	// placeholders for Args; "" for every row. See SelectWhereSQL.
	Where string
	Args  []any
	// ChangesOnly is log=changes_only (SHAPE_API §12.7): no rows, only the
	// snapshot-end of a snapshot taken now.
	ChangesOnly bool
	// ServerVersion is server_version_num (0 = unknown), for
	// CheckGeneratedColumns.
	ServerVersion int
}

// Result describes a finished snapshot.
type Result struct {
	Snapshot lsn.Snapshot
	// WALLSN is pg_current_wal_lsn() in the snapshot's first statement.
	WALLSN lsn.LSN
	Rows   int
	// Attempts counts snapshot transactions; more than 1 when the straddle
	// guard retried.
	Attempts int
	// CommitErr is a failed COMMIT of the read-only transaction, after
	// everything was read and handed over: it cannot change what the
	// snapshot holds, so it is reported here for the log, not as a failure.
	CommitErr error
}
