package snapshot

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"
)

// The straddle guard (not parallel: it waits on cluster-wide xmin). A
// transaction writes to a table that is not yet published and stays open
// while the snapshot adds the table: its changes were logged before the
// ALTER PUBLICATION and will not be decoded for the shape, so the snapshot
// must wait for it and contain its row.
func TestRunStraddleGuard(t *testing.T) {
	d := newDB(t)
	ctx := context.Background()
	d.exec(t, `CREATE TABLE s (id int PRIMARY KEY)`)
	d.exec(t, `ALTER TABLE s REPLICA IDENTITY FULL`) // so adding it takes no lock the writer blocks
	tb := d.lookup(t, "public", "s")
	xid, commit := openWriter(t, d, "INSERT INTO s VALUES (1)")

	waiting := make(chan struct{})
	var once sync.Once
	rec := &recorder{onStraddle: func(int) { once.Do(func() { close(waiting) }) }}
	deps := rec.deps(d.snap, encoderFor(t, tb, []int{0}), publishWith(d.admin))
	deps.Limits.StraddleTimeout = 30 * time.Second
	type outcome struct {
		res Result
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		res, err := Run(ctx, deps, Request{Table: tb, Columns: []int{0}})
		done <- outcome{res, err}
	}()

	select {
	case <-waiting:
	case o := <-done:
		t.Fatalf("Run finished without waiting for the straddling transaction: %+v, %v", o.res, o.err)
	case <-time.After(20 * time.Second):
		t.Fatal("the straddle guard never retried")
	}
	rec.mu.Lock()
	known := len(rec.known)
	rec.mu.Unlock()
	if known != 0 {
		t.Fatal("SnapshotKnown was called with a snapshot below the horizon")
	}
	commit()

	var o outcome
	select {
	case o = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not finish after the straddling transaction committed")
	}
	if o.err != nil {
		t.Fatal(o.err)
	}
	if o.res.Attempts < 2 || !o.res.Snapshot.Visible(xid) {
		t.Errorf("result %+v: want a retry and the straddler's xid %d visible", o.res, xid)
	}
	if _, ok := rec.rows(t)[`"public"."s"/"1"`]; !ok || o.res.Rows != 1 {
		t.Errorf("the straddler's row is not in the snapshot: %v", rec.rows(t))
	}
	calls := rec.callList()
	if calls[0] != "publish" || calls[1] != "subscribe" || slices.Index(calls, "straddle") != 2 ||
		!slices.Equal(calls[len(calls)-3:], []string{"known", "rows", "end"}) || countOf(calls, "subscribe") != 1 {
		t.Errorf("calls %v: want publish, subscribe once, straddle retries, then known, rows, end", calls)
	}
	rec.checkEnd(t, o.res.Snapshot)
}

// The guard is bounded: a straddler that stays open fails the snapshot as
// transient, without handing over a snapshot.
func TestRunStraddleTimeout(t *testing.T) {
	d := newDB(t)
	ctx := context.Background()
	d.exec(t, `CREATE TABLE s (id int PRIMARY KEY)`)
	d.exec(t, `ALTER TABLE s REPLICA IDENTITY FULL`)
	tb := d.lookup(t, "public", "s")
	openWriter(t, d, "INSERT INTO s VALUES (1)")

	rec := &recorder{}
	deps := rec.deps(d.snap, encoderFor(t, tb, []int{0}), publishWith(d.admin))
	deps.Limits.StraddleTimeout = 300 * time.Millisecond
	start := time.Now()
	_, err := Run(ctx, deps, Request{Table: tb, Columns: []int{0}})
	var e *Error
	if !errors.As(err, &e) || e.Kind != KindTransient || !errors.Is(err, ErrStraddleTimeout) {
		t.Fatalf("Run = %v; want a transient straddle timeout", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("gave up after %s; the limit is 300ms", d)
	}
	calls := rec.callList()
	if slices.Contains(calls, "known") || countOf(calls, "subscribe") != 1 || countOf(calls, "straddle") < 2 {
		t.Errorf("calls %v", calls)
	}
	if d.snap.Stat().AcquiredConns() != 0 {
		t.Error("a snapshot connection is still acquired")
	}
}

func countOf(calls []string, call string) int {
	n := 0
	for _, c := range calls {
		if c == call {
			n++
		}
	}
	return n
}
