package scenarios

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shapesync/shapesync/chaos/oracle"
	"github.com/shapesync/shapesync/chaos/service"
	"github.com/shapesync/shapesync/replication/lsn"
)

const (
	b11Writers = 2
	// b11Writes bounds the busy phase by time and by WAL volume, whichever
	// ends first.
	b11Writes    = 8 * time.Second
	b11WALVolume = 256 << 20
	// b11RetainedTarget is B11's target; a test fails only past 3× a target
	// (RELIABILITY, introduction).
	b11RetainedTarget = 64 << 20
	// b11AckWithin is how soon after the writes the acknowledgement must
	// pass them.
	b11AckWithin = 10 * time.Second
)

// TestB11QuietShapesOnBusyDatabase is RELIABILITY B11: one shape on a
// quiet table while heavy writes go only to a table no shape uses. Nothing
// is ever pending for a shape, so the acknowledged position must follow
// the WAL: retained WAL stays bounded during the writes, and within 10 s
// after them confirmed_flush_lsn passes both the position before the
// writes and the last busy commit. The quiet shape must still follow its
// table afterwards.
func TestB11QuietShapesOnBusyDatabase(t *testing.T) {
	svc := startInstance(t, false, nil)
	db := connect(t, svc.DSN)
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	for _, sql := range []string{
		`CREATE TABLE quiet (id int PRIMARY KEY, v text NOT NULL)`,
		`INSERT INTO quiet VALUES (1, 'a'), (2, 'b'), (3, 'c')`,
		`CREATE TABLE busy (id bigserial PRIMARY KEY, payload text NOT NULL)`,
	} {
		if _, err := db.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	f := oracle.New(svc.URL(), "quiet")
	if err := followUntil(ctx, f, func() bool { return len(f.Rows) == 3 }); err != nil {
		t.Fatalf("quiet shape: %v", err)
	}
	slot := instanceSlot(ctx, t, db)
	before, err := currentWALLSN(ctx, db)
	if err != nil {
		t.Fatal(err)
	}

	// The busy phase, sampled every 100 ms.
	var stop atomic.Bool
	var wg sync.WaitGroup
	errs := make([]error, b11Writers)
	for k := range b11Writers {
		conn := connect(t, svc.DSN)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() && errs[k] == nil {
				_, errs[k] = conn.Exec(ctx, `INSERT INTO busy (payload) SELECT repeat(md5(g::text), 16) FROM generate_series(1, 500) g`)
			}
		}()
	}
	var maxRetained lsn.LSN
	samples := 0
	began := time.Now()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for ; time.Since(began) < b11Writes; <-tick.C {
		pos, err := readSlotPosition(ctx, db, slot)
		if err != nil {
			t.Fatal(err)
		}
		cur, err := currentWALLSN(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		samples++
		if cur > pos.ConfirmedFlush {
			maxRetained = max(maxRetained, cur-pos.ConfirmedFlush)
		}
		if cur-before >= b11WALVolume {
			break
		}
	}
	stop.Store(true)
	wg.Wait()
	for k, err := range errs {
		if err != nil {
			t.Fatalf("busy writer %d: %v", k, err)
		}
	}
	// The last busy commit: its commit record starts after this position.
	tx, err := db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var lastText string
	if _, err := tx.Exec(ctx, `INSERT INTO busy (payload) VALUES ('last')`); err != nil {
		t.Fatal(err)
	}
	if err := tx.QueryRow(ctx, `SELECT pg_catalog.pg_current_wal_insert_lsn()::text`).Scan(&lastText); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	last, err := lsn.ParseLSN(lastText)
	if err != nil {
		t.Fatal(err)
	}
	written := last - before
	t.Logf("busy phase: %.1f MB of WAL in %v, %d samples, retained WAL at most %.1f MB (target %d MB)",
		float64(written)/(1<<20), time.Since(began).Round(time.Millisecond), samples, float64(maxRetained)/(1<<20), b11RetainedTarget>>20)
	if written < 32<<20 {
		t.Errorf("the busy phase wrote only %d bytes of WAL; the scenario needs heavy writes", written)
	}
	if maxRetained >= 3*b11RetainedTarget {
		t.Errorf("retained WAL reached %d bytes during the busy phase; the ceiling is 3 × %d", maxRetained, b11RetainedTarget)
	}

	ended := time.Now()
	service.Eventually(t, b11AckWithin, 50*time.Millisecond, func() error {
		pos, err := readSlotPosition(ctx, db, slot)
		if err != nil {
			return err
		}
		if pos.ConfirmedFlush <= before || pos.ConfirmedFlush < last {
			return fmt.Errorf("confirmed_flush_lsn %s; want past %s (before the writes) and at least %s (inside the last busy transaction)", pos.ConfirmedFlush, before, last)
		}
		return nil
	})
	t.Logf("confirmed_flush_lsn passed the last busy commit %v after it", time.Since(ended).Round(time.Millisecond))

	// The quiet shape still follows its table.
	if _, err := db.Exec(ctx, `INSERT INTO quiet VALUES (4, 'd')`); err != nil {
		t.Fatal(err)
	}
	followCtx, cancelFollow := context.WithTimeout(ctx, 10*time.Second)
	defer cancelFollow()
	if err := followUntil(followCtx, f, func() bool { return len(f.Rows) == 4 }); err != nil {
		t.Fatalf("the quiet shape missed an insert after the busy phase: %v; rows %v", err, f.Rows)
	}
}
