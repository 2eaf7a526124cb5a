package snapshot

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/shapesync/shapesync/replication/lsn"
	"github.com/shapesync/shapesync/shapes/logitems"
)

// The transient failures Run reports in Error.Err; errors.Is finds them.
var (
	ErrFirstRowTimeout = errors.New("the first row did not arrive in time")
	ErrPoolExhausted   = errors.New("no snapshot connection became free in time")
	ErrStraddleTimeout = errors.New("transactions older than the table's publication are still running")
)

// errStopped cancels a query that Run abandons (a failing callback), so the
// server stops sending rows nobody reads.
var errStopped = errors.New("snapshot stopped")

// snapshotSQL is the first statement of the snapshot transaction: it takes
// the transaction's snapshot, reports it with the WAL position, and checks
// that the table's name still belongs to the table the shape was defined
// on (a recreated table is a different table, RELIABILITY C3).
const snapshotSQL = `
SELECT pg_catalog.pg_current_snapshot()::text, pg_catalog.pg_current_wal_insert_lsn()::text,
  (SELECT c.oid FROM pg_catalog.pg_class c
     JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = $1 AND c.relname = $2)`

// Run takes the initial snapshot of one shape (SHAPE_API §22.4,
// ARCHITECTURE §1.4 "Snapshotter"), in this order:
//
//  1. reject generated columns (before any query);
//  2. EnsurePublished: every change committed after the snapshot must
//     reach the stream;
//  3. acquire a snapshot-pool connection and BEGIN ISOLATION LEVEL
//     REPEATABLE READ READ ONLY (BEGIN takes no snapshot yet);
//  4. Subscribe and wait for the acknowledgement, before the first
//     statement: from then on the consumer buffers the table's changes, so
//     none committed after the snapshot can be missed (I1), and the window
//     it buffers before SnapshotKnown is one round trip;
//  5. the first statement takes the snapshot (pg_current_snapshot(),
//     pg_current_wal_lsn()); below the horizon, roll back and retry;
//  6. SnapshotKnown, then the rows in batches, then snapshot-end, COMMIT.
//
// Every error is an *Error naming the table; Kind says how to answer.
func Run(ctx context.Context, deps Deps, req Request) (Result, error) {
	if req.Table == nil {
		return Result{}, &Error{Kind: KindInternal, Table: "(none)", Reason: "no table given"}
	}
	r := &runner{deps: deps, req: req, lim: deps.Limits.withDefaults(), table: displayName(req.Table.Schema, req.Table.Name)}
	if err := r.check(); err != nil {
		return Result{}, err
	}
	if err := CheckGeneratedColumns(req.Table, req.Columns, req.ServerVersion); err != nil {
		return Result{}, err
	}
	if !req.ChangesOnly {
		q, err := SelectWhereSQL(req.Table, req.Columns, req.Where)
		if err != nil {
			return Result{}, &Error{Kind: KindInternal, Table: r.table, Reason: "build the snapshot query: " + err.Error(), Err: err}
		}
		r.query = q
	}

	horizon, err := deps.EnsurePublished(ctx, req.Table)
	if err != nil {
		return Result{}, classify(ctx, r.table, "publish the table", err)
	}

	// The straddle guard. Logical decoding decodes a transaction with the
	// catalog as of its start, so a transaction that wrote to the table
	// before the ALTER PUBLICATION committed is decoded under the old
	// publication and its changes never reach the stream, even if it
	// commits after our snapshot (which then does not contain them either).
	// Every such transaction has an xid below the horizon, an xid assigned
	// after the ALTER committed (publication.Horizon says why the xmax of a
	// snapshot read then is not enough); a snapshot whose xmin is at or
	// above the horizon was taken when all of them had ended, so it contains
	// whatever they committed. The subscription made in the first attempt
	// stays, so the consumer buffers during the retries; StraddleTimeout
	// bounds that.
	deadline := time.Now().Add(r.lim.StraddleTimeout)
	backoff := 20 * time.Millisecond
	for attempt := 1; ; attempt++ {
		r.res.Attempts = attempt
		below, err := r.attempt(ctx, horizon)
		if err != nil {
			return r.res, err
		}
		if !below {
			return r.res, nil
		}
		if deps.OnStraddleWait != nil {
			deps.OnStraddleWait(attempt, r.res.Snapshot, horizon)
		}
		if time.Now().Add(backoff).After(deadline) {
			return r.res, &Error{Kind: KindTransient, Table: r.table, Err: ErrStraddleTimeout,
				Reason: fmt.Sprintf("transactions that were running when the table was added to the publication are still open after %s (snapshot xmin %d, horizon %d); retry once they finish",
					r.lim.StraddleTimeout, r.res.Snapshot.Xmin, horizon)}
		}
		select {
		case <-ctx.Done():
			return r.res, classify(ctx, r.table, "wait for older transactions", ctx.Err())
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 500*time.Millisecond)
	}
}

// runner holds one Run's state across its attempts.
type runner struct {
	deps       Deps
	req        Request
	lim        Limits
	table      string
	query      string
	subscribed bool
	res        Result
}

func (r *runner) check() error {
	d := r.deps
	missing := ""
	switch {
	case d.Pool == nil:
		missing = "Pool"
	case d.Encoder == nil && !r.req.ChangesOnly:
		missing = "Encoder"
	case d.EnsurePublished == nil:
		missing = "EnsurePublished"
	case d.Subscribe == nil:
		missing = "Subscribe"
	case d.SnapshotKnown == nil:
		missing = "SnapshotKnown"
	case d.Rows == nil && !r.req.ChangesOnly:
		missing = "Rows"
	case d.End == nil:
		missing = "End"
	}
	if missing != "" {
		return &Error{Kind: KindInternal, Table: r.table, Reason: "snapshot dependency " + missing + " is not set"}
	}
	return nil
}

// attempt runs one snapshot transaction. below reports a snapshot under the
// horizon, rolled back before anything was handed over.
func (r *runner) attempt(ctx context.Context, horizon uint64) (below bool, err error) {
	conn, err := r.acquire(ctx)
	if err != nil {
		return false, err
	}
	defer conn.Release() // a connection left in a transaction is destroyed, not reused
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return false, classify(ctx, r.table, "begin the snapshot transaction", err)
	}
	defer rollback(tx) // a no-op after Commit

	if !r.subscribed {
		// The subscription stays in place across straddle retries, so it
		// precedes the first statement of every attempt.
		if err := r.deps.Subscribe(ctx); err != nil {
			return false, classify(ctx, r.table, "subscribe to the table's changes", err)
		}
		r.subscribed = true
	}

	var snapText, walText string
	var oid *uint32
	if err := tx.QueryRow(ctx, snapshotSQL, r.req.Table.Schema, r.req.Table.Name).Scan(&snapText, &walText, &oid); err != nil {
		return false, classify(ctx, r.table, "take the snapshot", err)
	}
	snap, err := ParsePgSnapshot(snapText)
	if err != nil {
		return false, &Error{Kind: KindInternal, Table: r.table, Reason: err.Error(), Err: err}
	}
	wal, err := lsn.ParseLSN(walText)
	if err != nil {
		return false, &Error{Kind: KindInternal, Table: r.table, Reason: err.Error(), Err: err}
	}
	snap.WAL = wal
	r.res.Snapshot, r.res.WALLSN = snap, wal
	if oid == nil || *oid != r.req.Table.OID {
		return false, &Error{Kind: KindTableChanged, Table: r.table, SQLState: "42P01",
			Reason: fmt.Sprintf("the table (oid %d) was dropped or replaced since the shape was defined", r.req.Table.OID)}
	}
	if snap.Xmin < horizon {
		return true, nil
	}
	// A transaction the collector streamed before the subscription must be
	// visible here, or the shape would get it from neither side: a commit
	// reaches the stream a moment before new snapshots see it. Take the
	// snapshot again; it becomes visible within moments.
	if r.deps.Streamed != nil {
		for _, xid := range r.deps.Streamed() {
			if !snap.Visible(xid) {
				return true, nil
			}
		}
	}

	if err := r.deps.SnapshotKnown(ctx, snap); err != nil {
		return false, classify(ctx, r.table, "report the snapshot", err)
	}
	if !r.req.ChangesOnly {
		if err := r.streamRows(ctx, tx); err != nil {
			return false, err
		}
	}
	if err := r.deps.End(ctx, logitems.AppendSnapshotEnd(nil, snap)); err != nil {
		return false, classify(ctx, r.table, "store snapshot-end", err)
	}
	r.res.CommitErr = tx.Commit(ctx)
	return false, nil
}

func (r *runner) acquire(ctx context.Context) (*pgxpool.Conn, error) {
	actx, cancel := context.WithTimeout(ctx, r.lim.AcquireTimeout)
	defer cancel()
	conn, err := r.deps.Pool.Acquire(actx)
	if err == nil {
		return conn, nil
	}
	if ctx.Err() == nil && errors.Is(actx.Err(), context.DeadlineExceeded) {
		return nil, &Error{Kind: KindTransient, Table: r.table, Err: ErrPoolExhausted,
			Reason: fmt.Sprintf("no snapshot connection became free within %s (the snapshot pool is exhausted); retry shortly", r.lim.AcquireTimeout)}
	}
	return nil, classify(ctx, r.table, "acquire a snapshot connection", err)
}

// streamRows runs the snapshot query and hands its rows over in batches.
// The first row must arrive within FirstRowTimeout; after that the query
// runs as long as the rows keep coming and the store keeps giving credit.
func (r *runner) streamRows(ctx context.Context, tx pgx.Tx) error {
	qctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	timer := time.AfterFunc(r.lim.FirstRowTimeout, func() { cancel(ErrFirstRowTimeout) })
	defer timer.Stop()

	// Every column is text already (SelectSQL casts); asking for text
	// results keeps pgx from choosing a binary format for any of them.
	args := append([]any{pgx.QueryResultFormats{pgx.TextFormatCode}}, r.req.Args...)
	rows, err := tx.Query(qctx, r.query, args...)
	if err != nil {
		return r.queryError(ctx, qctx, err)
	}
	defer func() {
		// Cancel before Close: Close reads the rest of the result, which an
		// abandoned snapshot must not wait for.
		cancel(errStopped)
		rows.Close()
	}()

	var batch [][]byte
	var batchBytes int
	var scratch []byte
	first := true
	for rows.Next() {
		if first {
			timer.Stop()
			first = false
		}
		scratch, err = r.deps.Encoder.AppendSnapshotRowRaw(scratch[:0], rows.RawValues())
		if err != nil {
			return &Error{Kind: KindInternal, Table: r.table, Reason: "encode a row: " + err.Error(), Err: err}
		}
		// Items are stored and cached on their own: give each exactly its
		// size instead of a slice of a shared buffer.
		batch = append(batch, append(make([]byte, 0, len(scratch)), scratch...))
		batchBytes += len(scratch)
		r.res.Rows++
		if len(batch) >= r.lim.BatchRows || batchBytes >= r.lim.BatchBytes {
			if err := r.deps.Rows(ctx, batch); err != nil {
				return classify(ctx, r.table, "store snapshot rows", err)
			}
			batch, batchBytes = nil, 0
		}
	}
	timer.Stop()
	if err := rows.Err(); err != nil {
		return r.queryError(ctx, qctx, err)
	}
	if len(batch) > 0 {
		if err := r.deps.Rows(ctx, batch); err != nil {
			return classify(ctx, r.table, "store snapshot rows", err)
		}
	}
	return nil
}

// queryError explains a failed snapshot query: our own first-row timeout
// first, whatever the driver made of the cancellation.
func (r *runner) queryError(ctx, qctx context.Context, err error) error {
	if errors.Is(context.Cause(qctx), ErrFirstRowTimeout) && ctx.Err() == nil {
		return &Error{Kind: KindTransient, Table: r.table, Err: ErrFirstRowTimeout,
			Reason: fmt.Sprintf("the snapshot query returned no row within %s (is the table locked by another session?); retry later", r.lim.FirstRowTimeout)}
	}
	return classify(ctx, r.table, "run the snapshot query", err)
}

// rollback ends a transaction that was not committed, with its own short
// deadline: the caller's context may be what failed.
func rollback(tx pgx.Tx) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = tx.Rollback(ctx) // on failure pgx closes the connection and the pool drops it
}
