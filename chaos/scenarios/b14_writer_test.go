package scenarios

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync/atomic"

	"github.com/jackc/pgx/v5"

	"github.com/shapesync/shapesync/chaos/oracle"
)

// b14Writer runs small transactions on one table until stopped: one to
// three statements each, inserting new rows at version 1 or bumping an
// existing row's version by one. The version column makes every change a
// client sees checkable: per key, the versions it sees after the snapshot
// must continue the snapshot's without a gap or a repeat.
type b14Writer struct {
	commits  atomic.Int64
	stop     atomic.Bool
	finished chan struct{} // closed when run returns
	err      error         // run's result, read after finished
	txs      []b14Tx       // what run committed, read after finished
}

// b14Tx is one committed writer transaction, kept to explain a failure.
type b14Tx struct {
	Note  string // the note it wrote, "w<k>.tx<n>"
	Xid   string // pg_current_xact_id()
	IDs   []int  // the rows it wrote
	After string // pg_current_wal_lsn() right after COMMIT
}

// startB14Writer starts the writer on conn. It updates only the ids it is
// given or inserted itself and inserts from nextID up, so the rows the
// straddling transaction writes never wait on its row locks.
func startB14Writer(ctx context.Context, conn *pgx.Conn, table string, ids []int, nextID int, seed uint64, name string) *b14Writer {
	w := &b14Writer{finished: make(chan struct{})}
	go func() {
		defer close(w.finished)
		w.err = w.run(ctx, conn, table, ids, nextID, seed, name)
	}()
	return w
}

// b14Writers are the concurrent writers of one repetition. Two of them
// make commit order in the WAL differ from xid order, which is what a
// shape's snapshot visibility has to get right.
type b14Writers []*b14Writer

// startB14Writers starts one writer per connection; writer k updates the
// seed rows 1+k, 1+k+n, … and inserts ids from (k+1)·100000 up.
func startB14Writers(ctx context.Context, conns []*pgx.Conn, table string, seed uint64) b14Writers {
	ws := make(b14Writers, len(conns))
	for k, conn := range conns {
		var ids []int
		for id := 1 + k; id < b14SeedRows; id += len(conns) {
			ids = append(ids, id)
		}
		ws[k] = startB14Writer(ctx, conn, table, ids, (k+1)*100000, seed*16+uint64(k), fmt.Sprintf("w%d.", k))
	}
	return ws
}

func (ws b14Writers) commits() int64 {
	var n int64
	for _, w := range ws {
		n += w.commits.Load()
	}
	return n
}

// halt stops every writer and returns their errors.
func (ws b14Writers) halt() error {
	for _, w := range ws {
		w.stop.Store(true)
	}
	errs := make([]error, len(ws))
	for k, w := range ws {
		errs[k] = w.halt()
	}
	return errors.Join(errs...)
}

// failed reports the first writer that stopped by itself.
func (ws b14Writers) failed() error {
	for _, w := range ws {
		if err := w.failed(); err != nil {
			return err
		}
	}
	return nil
}

// txs lists what every writer committed; only after halt.
func (ws b14Writers) txs() []b14Tx {
	var out []b14Tx
	for _, w := range ws {
		out = append(out, w.txs...)
	}
	return out
}

// halt stops the writer and returns its error.
func (w *b14Writer) halt() error {
	w.stop.Store(true)
	<-w.finished
	return w.err
}

// failed reports the writer's error if it has stopped by itself.
func (w *b14Writer) failed() error {
	select {
	case <-w.finished:
		if w.err == nil {
			return fmt.Errorf("the writer stopped")
		}
		return w.err
	default:
		return nil
	}
}

func (w *b14Writer) run(ctx context.Context, conn *pgx.Conn, table string, ids []int, nextID int, seed uint64, name string) error {
	rng := rand.New(rand.NewPCG(seed, 14))
	ident := pgx.Identifier{"public", table}.Sanitize()
	insert := "INSERT INTO " + ident + " (id, version, note) VALUES ($1, 1, $2)"
	update := "UPDATE " + ident + " SET version = version + 1, note = $2 WHERE id = $1"
	for n := 0; !w.stop.Load(); n++ {
		tx, err := conn.Begin(ctx)
		if err != nil {
			return fmt.Errorf("writer transaction %d: begin: %w", n, err)
		}
		note := name + "tx" + strconv.Itoa(n)
		rec := b14Tx{Note: note}
		if err := tx.QueryRow(ctx, "SELECT pg_catalog.pg_current_xact_id()::text").Scan(&rec.Xid); err != nil {
			_ = tx.Rollback(context.Background())
			return fmt.Errorf("writer transaction %d: %w", n, err)
		}
		added := []int{}
		for range 1 + rng.IntN(3) {
			// Updates may hit a row this transaction inserted: its insert
			// and update then reach the log as two changes.
			if rng.IntN(4) == 0 {
				_, err = tx.Exec(ctx, insert, nextID, note)
				added = append(added, nextID)
				rec.IDs = append(rec.IDs, nextID)
				nextID++
			} else {
				pick := rng.IntN(len(ids) + len(added))
				id := 0
				if pick < len(ids) {
					id = ids[pick]
				} else {
					id = added[pick-len(ids)]
				}
				_, err = tx.Exec(ctx, update, id, note)
				rec.IDs = append(rec.IDs, id)
			}
			if err != nil {
				_ = tx.Rollback(context.Background())
				return fmt.Errorf("writer transaction %d: %w", n, err)
			}
		}
		if err := tx.Commit(ctx); err != nil {
			return fmt.Errorf("writer transaction %d: commit: %w", n, err)
		}
		if err := conn.QueryRow(ctx, "SELECT pg_catalog.pg_current_wal_lsn()::text").Scan(&rec.After); err != nil {
			return fmt.Errorf("writer transaction %d: after commit: %w", n, err)
		}
		ids = append(ids, added...)
		w.txs = append(w.txs, rec)
		w.commits.Add(1)
	}
	return nil
}

// snapshotTracker drives a follower and keeps the rows as the snapshot
// delivered them. A response holds either snapshot chunks or changes, never
// both (SHAPE_API §8: offset -1 is answered with chunk 0_0, changes start
// after the last chunk), so the rows just before the first response that
// carries a change, or at the first up-to-date, are the snapshot's.
type snapshotTracker struct {
	f        *oracle.Follower
	snapshot map[string]oracle.Row // nil until known
}

// poll sends requests until one succeeds (see retryPoll). A 409 fails it:
// nothing in B14 may invalidate the shape.
func (s *snapshotTracker) poll(ctx context.Context) error {
	return retryPoll(ctx, func(ctx context.Context) error {
		var before map[string]oracle.Row
		if s.snapshot == nil {
			before = cloneRows(s.f.Rows)
		}
		n := len(s.f.Changes)
		if err := s.f.Poll(ctx); err != nil {
			return err
		}
		if s.f.Refetches > 0 {
			return fmt.Errorf("the shape answered 409 (handle now %s); nothing in this scenario invalidates it", s.f.Handle)
		}
		switch {
		case s.snapshot != nil:
		case len(s.f.Changes) > n:
			s.snapshot = before
		case s.f.UpToDate:
			s.snapshot = cloneRows(s.f.Rows)
		}
		return nil
	})
}

// until polls until the follower is up to date and done holds.
func (s *snapshotTracker) until(ctx context.Context, done func() bool) error {
	for !s.f.UpToDate || !done() {
		if err := s.poll(ctx); err != nil {
			return err
		}
	}
	return nil
}

// auditVersions replays the changes a client received on top of the
// snapshot and reports every change that is not the next version of its
// row: an insert not at version 1, or an update that does not add exactly
// one. A change that was both in the snapshot and in the log shows up as a
// repeated version, one in neither as a gap. keys lists the rows concerned.
func auditVersions(snapshot map[string]oracle.Row, changes []oracle.Change) (problems, keys []string) {
	cur := map[string]int{}
	report := func(key, problem string) {
		problems = append(problems, problem)
		if !slices.Contains(keys, key) {
			keys = append(keys, key)
		}
	}
	for k, r := range snapshot {
		v, err := strconv.Atoi(textOrNULL(r["version"]))
		if err != nil {
			report(k, fmt.Sprintf("snapshot row %s: version %s", k, textOrNULL(r["version"])))
			continue
		}
		cur[k] = v
	}
	for _, c := range changes {
		at := fmt.Sprintf("%s at %d_%d", c.Key, c.LSN, c.Op)
		v, err := strconv.Atoi(textOrNULL(c.Value["version"]))
		if err != nil && c.Operation != "delete" {
			report(c.Key, fmt.Sprintf("%s %s without a version: %v", c.Operation, at, c.Value))
			continue
		}
		prev, present := cur[c.Key]
		switch {
		case c.Operation == "insert" && (present || v != 1):
			report(c.Key, fmt.Sprintf("insert %s at version %d (present before: %v)", at, v, present))
		case c.Operation == "update" && (!present || v != prev+1):
			report(c.Key, fmt.Sprintf("update %s to version %d after version %d: a change repeated or missed", at, v, prev))
		case c.Operation == "delete":
			report(c.Key, fmt.Sprintf("delete %s: the writer never deletes", at))
		}
		cur[c.Key] = v
	}
	return problems, keys
}
