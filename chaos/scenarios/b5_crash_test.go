package scenarios

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/shapesync/shapesync/chaos/oracle"
	"github.com/shapesync/shapesync/replication/lsn"
)

// B5 cycle bounds: at least b5MinCycles crashes, more while the budget lasts.
const (
	b5MinCycles = 5
	b5MaxCycles = 10
	b5Budget    = 75 * time.Second
	// b5SyncDelay is the injected delay before every storage sync: the
	// window in which a received commit is not yet durable.
	b5SyncDelay = 2 * time.Second
)

// TestB5CrashBetweenCommitReceivedAndSynced is RELIABILITY B5: every
// storage sync is delayed by 2 s, small single-row transactions stream in,
// and the service is SIGKILLed while /v1/status shows a commit received but
// not durable. After each restart the same follower (same handle, same
// offset) must get every committed change exactly once, replayed from the
// slot, and at no sample may the slot's confirmed_flush_lsn be ahead of the
// service's durable_lsn (I3; keepalive replies are where this goes wrong).
func TestB5CrashBetweenCommitReceivedAndSynced(t *testing.T) {
	const table = "b5_rows"
	svc := startInstance(t, true, map[string]string{"SHAPESYNC_FAULTS": "store.before_sync:sleep=" + b5SyncDelay.String()})
	db := connect(t, svc.DSN)
	ctx, cancel := context.WithTimeout(context.Background(), 170*time.Second)
	defer cancel()
	if _, err := db.Exec(ctx, `CREATE TABLE b5_rows (id int PRIMARY KEY, v text); INSERT INTO b5_rows VALUES (1, 'a'), (2, 'b'), (3, 'c')`); err != nil {
		t.Fatal(err)
	}
	f := oracle.New(svc.URL(), table)
	if err := f.UpToDateNow(ctx); err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	if len(f.Rows) != 3 || len(f.Changes) != 0 {
		t.Fatalf("snapshot has %d rows and %d changes; want 3 and 0", len(f.Rows), len(f.Changes))
	}
	handle := f.Handle
	acks := watchAcks(t, svc)
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 5))
	w := &b5Writes{db: db, svc: svc, rng: rng, nextID: 4}

	start := time.Now()
	cycles := 0
	for cycles < b5MaxCycles && (cycles < b5MinCycles || time.Since(start) < b5Budget) {
		cycles++
		caught := false
		for try := 1; try <= 5 && !caught; try++ {
			var err error
			if caught, err = w.commitAndCatch(ctx); err != nil {
				t.Fatalf("cycle %d: %v", cycles, err)
			}
		}
		if !caught {
			t.Fatalf("cycle %d: five times a commit was durable before the kill could land inside the %v sync delay", cycles, b5SyncDelay)
		}
		svc.Kill()
		svc.Restart(t)
		hctx, hcancel := context.WithTimeout(ctx, 60*time.Second)
		err := svc.WaitHealthy(hctx, 200)
		hcancel()
		if err != nil {
			t.Fatalf("cycle %d: after restart: %v", cycles, err)
		}
		if err := followUntilTable(ctx, f, db, table); err != nil {
			t.Fatalf("cycle %d: after restart: %v", cycles, err)
		}
		if f.Refetches != 0 || f.Handle != handle {
			t.Fatalf("cycle %d: %d refetches, handle %s (was %s); a shape with durable metadata must resume under its handle (D1)",
				cycles, f.Refetches, f.Handle, handle)
		}
		// One change per committed transaction: a lost one is a missing
		// change, a replayed one a second (the oracle also audits offsets).
		if len(f.Changes) != w.committed {
			t.Fatalf("cycle %d: the follower has %d changes for %d committed transactions", cycles, len(f.Changes), w.committed)
		}
	}
	t.Logf("B5: %d kills, each with a commit received but not durable; %d transactions in %v",
		cycles, w.committed, time.Since(start).Round(time.Millisecond))
	acks.check(t, 4*cycles)
}

// b5Writes commits the B5 transactions and times the kills.
type b5Writes struct {
	db        *pgx.Conn
	svc       *instance
	rng       *rand.Rand
	nextID    int
	committed int // transactions committed since the snapshot
}

// commitAndCatch commits one to three single-row transactions, waits until
// the service has received the last of them, waits a random moment inside
// the sync delay and reports whether the first is still not durable, in
// which case the caller kills at once.
func (w *b5Writes) commitAndCatch(ctx context.Context) (caught bool, err error) {
	var first lsn.LSN
	n := 1 + w.rng.IntN(3)
	for i := range n {
		// The insert position inside the transaction is below its commit
		// record, so a durable position below it means the commit is not
		// stored yet.
		var inside string
		if w.rng.IntN(3) == 0 && w.nextID > 4 {
			id := 1 + w.rng.IntN(w.nextID-1)
			err = w.db.QueryRow(ctx, `UPDATE b5_rows SET v = $2 WHERE id = $1 RETURNING pg_current_wal_insert_lsn()::text`,
				id, fmt.Sprintf("u%d", w.committed)).Scan(&inside)
		} else {
			err = w.db.QueryRow(ctx, `INSERT INTO b5_rows VALUES ($1, $2) RETURNING pg_current_wal_insert_lsn()::text`,
				w.nextID, fmt.Sprintf("r%d", w.nextID)).Scan(&inside)
			w.nextID++
		}
		if err != nil {
			return false, fmt.Errorf("write: %w", err)
		}
		w.committed++
		if i == 0 {
			if first, err = lsn.ParseLSN(inside); err != nil {
				return false, err
			}
		}
	}
	// After the commit the insert position is at or past its end: once the
	// service has received that far, it has the commit.
	var after string
	if err := w.db.QueryRow(ctx, `SELECT pg_current_wal_insert_lsn()::text`).Scan(&after); err != nil {
		return false, err
	}
	end, err := lsn.ParseLSN(after)
	if err != nil {
		return false, err
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		st, err := w.svc.Status(ctx)
		if err == nil && st.ReceivedLSN >= end {
			break
		}
		if time.Now().After(deadline) {
			return false, fmt.Errorf("the service did not receive up to %s within 15 s (status %+v, err %v)", end, st, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	// A random moment inside the window, so the kill also lands while the
	// server's keepalives are being answered.
	time.Sleep(time.Duration(w.rng.Int64N(int64(b5SyncDelay * 3 / 5))))
	st, err := w.svc.Status(ctx)
	if err != nil {
		return false, err
	}
	return st.DurableLSN < first, nil
}
