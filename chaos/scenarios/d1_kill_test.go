package scenarios

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/shapesync/shapesync/chaos/oracle"
	"github.com/shapesync/shapesync/chaos/service"
)

const d1Kills = 3

// TestD1D4KillWhileFollowing is RELIABILITY D1 and D4: a client follows a
// shape live while transactions run; the service is SIGKILLed at a random
// moment and restarted, three times. The same follower (same handle and
// offset) must continue with no 409, no 400 or 500, no gap (its rows end
// equal to the table) and no change twice (the oracle's audit). A second
// client holds the end-of-snapshot offset of a shape on a table that never
// changes; after every restart that offset must still be served (D4).
func TestD1D4KillWhileFollowing(t *testing.T) {
	svc := startInstance(t, false, nil)
	db := connect(t, svc.DSN)
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	defer cancel()
	if _, err := db.Exec(ctx, `CREATE TABLE d1_live (id int PRIMARY KEY, v text);
		CREATE TABLE d1_quiet (id int PRIMARY KEY, v text);
		INSERT INTO d1_live SELECT i, 'seed' || i FROM generate_series(1, 20) i;
		INSERT INTO d1_quiet SELECT i, 'still' || i FROM generate_series(1, 5) i`); err != nil {
		t.Fatal(err)
	}
	live := oracle.New(svc.URL(), "d1_live")
	if err := live.UpToDateNow(ctx); err != nil {
		t.Fatalf("d1_live snapshot: %v", err)
	}
	quiet := oracle.New(svc.URL(), "d1_quiet")
	if err := quiet.UpToDateNow(ctx); err != nil {
		t.Fatalf("d1_quiet snapshot: %v", err)
	}
	liveHandle, quietHandle := live.Handle, quiet.Handle
	// The offset the quiet client holds, read the same way: the end of the
	// snapshot of a shape that has no changes.
	snapEnd, err := shapeAnswer(ctx, svc.URL(), "d1_quiet", "", "-1")
	for i := 0; err == nil && !snapEnd.upToDate && i < 10; i++ {
		snapEnd, err = shapeAnswer(ctx, svc.URL(), "d1_quiet", snapEnd.handle, snapEnd.offset)
	}
	if err != nil || snapEnd.handle != quietHandle || !snapEnd.upToDate {
		t.Fatalf("d1_quiet from -1: %+v, %v; want 200 up-to-date under handle %s", snapEnd, err, quietHandle)
	}
	t.Logf("D4: the quiet shape's end-of-snapshot offset is %s", snapEnd.offset)

	acks := watchAcks(t, svc)
	writes := startD1Writes(t, svc.DSN)
	follow := startD1Follow(t, live)
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	for kill := 1; kill <= d1Kills; kill++ {
		// Kill while the follower is advancing, at a random moment.
		base := follow.changes.Load()
		waitD1(t, follow, fmt.Sprintf("the follower to advance before kill %d", kill), func() bool { return follow.changes.Load() >= base+20 })
		time.Sleep(time.Duration(rng.Int64N(int64(700 * time.Millisecond))))
		svc.Kill()
		if err := writes.failed(); err != nil {
			t.Fatalf("workload: %v", err)
		}
		restarted := time.Now()
		svc.Restart(t)
		hctx, hcancel := context.WithTimeout(ctx, 30*time.Second)
		err := svc.WaitHealthy(hctx, 200)
		hcancel()
		if err != nil {
			t.Fatalf("restart %d: %v", kill, err)
		}
		t.Logf("restart %d: active %v after the restart began", kill, time.Since(restarted).Round(time.Millisecond))

		// D4: the end-of-snapshot offset is still honoured, directly and
		// by the client that holds it.
		got, err := shapeAnswer(ctx, svc.URL(), "d1_quiet", quietHandle, snapEnd.offset)
		if err != nil || got.code != http.StatusOK || got.handle != quietHandle || !got.upToDate {
			t.Fatalf("restart %d: d1_quiet at handle %s offset %s: %+v, %v; want 200 up-to-date (D4, I5)",
				kill, quietHandle, snapEnd.offset, got, err)
		}
		if err := quiet.UpToDateNow(ctx); err != nil {
			t.Fatalf("restart %d: quiet follower: %v", kill, err)
		}
		if quiet.Refetches != 0 || quiet.Handle != quietHandle || len(quiet.Changes) != 0 || len(quiet.Rows) != 5 {
			t.Fatalf("restart %d: quiet follower: %d refetches, handle %s (was %s), %d changes, %d rows; want 0, same, 0, 5",
				kill, quiet.Refetches, quiet.Handle, quietHandle, len(quiet.Changes), len(quiet.Rows))
		}

		// The live follower picks up where it was.
		base = follow.changes.Load()
		waitD1(t, follow, fmt.Sprintf("the follower to advance after restart %d", kill), func() bool { return follow.changes.Load() >= base+10 })
	}
	txns, err := writes.halt()
	if err != nil {
		t.Fatalf("workload: %v", err)
	}
	if err := follow.halt(); err != nil {
		t.Fatalf("live follower: %v", err)
	}
	if err := followUntilTable(ctx, live, db, "d1_live"); err != nil {
		t.Fatal(err)
	}
	if live.Refetches != 0 || live.Handle != liveHandle {
		t.Fatalf("live follower: %d refetches, handle %s (was %s); want none and the same handle (D1, I5)",
			live.Refetches, live.Handle, liveHandle)
	}
	t.Logf("D1: %d kills, %d transactions, %d changes followed without a refetch", d1Kills, txns, len(live.Changes))
	acks.check(t, 20)
}

// waitD1 waits up to 30 s for cond, failing early if the follower stopped.
func waitD1(t *testing.T, f *d1Follow, what string, cond func() bool) {
	t.Helper()
	service.Eventually(t, 30*time.Second, 20*time.Millisecond, func() error {
		if err := f.failed(); err != nil {
			return fmt.Errorf("waiting for %s: the live follower failed: %w", what, err)
		}
		if !cond() {
			return fmt.Errorf("waiting for %s: %d changes so far", what, f.changes.Load())
		}
		return nil
	})
}

// d1Follow polls a follower on its own goroutine across kills: connection
// failures and 503 (starting) are retried; any other answer that is not
// 200 or 409, and any audit failure, stops it with that error.
type d1Follow struct {
	f       *oracle.Follower
	cancel  context.CancelFunc
	done    chan struct{}
	changes atomic.Int64

	mu  sync.Mutex
	err error
}

func startD1Follow(t *testing.T, f *oracle.Follower) *d1Follow {
	ctx, cancel := context.WithCancel(context.Background())
	d := &d1Follow{f: f, cancel: cancel, done: make(chan struct{})}
	go d.run(ctx)
	t.Cleanup(func() { _ = d.halt() })
	return d
}

func (d *d1Follow) run(ctx context.Context) {
	defer close(d.done)
	for ctx.Err() == nil {
		err := d.f.Poll(ctx)
		if err == nil {
			d.changes.Store(int64(len(d.f.Changes)))
			if d.f.Refetches > 0 {
				d.stop(fmt.Errorf("409 after %d changes under handle %s (D1: a shape with durable metadata resumes under its handle)",
					len(d.f.Changes), d.f.Handle))
				return
			}
			continue
		}
		if ctx.Err() != nil {
			return
		}
		var se *oracle.StatusError
		switch {
		case errors.As(err, &se) && se.Code == http.StatusServiceUnavailable, !errors.As(err, &se) && transportError(err):
			select {
			case <-ctx.Done():
			case <-time.After(50 * time.Millisecond): // the service is restarting
			}
		default:
			d.stop(err)
			return
		}
	}
}

func (d *d1Follow) stop(err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.err = err
}

func (d *d1Follow) failed() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.err
}

// halt stops the goroutine (a poll in flight is abandoned, leaving the
// follower as it was before it) and returns what stopped it early, if
// anything; then the follower belongs to the caller again.
func (d *d1Follow) halt() error {
	d.cancel()
	<-d.done
	return d.failed()
}

// d1Writes is the D1 workload on d1_live: upserts, updates, deletes,
// multi-statement transactions and rolled-back ones, on its own connection.
type d1Writes struct {
	cancel context.CancelFunc
	done   chan struct{}
	txns   atomic.Int64

	mu  sync.Mutex
	err error
}

func startD1Writes(t *testing.T, dsn string) *d1Writes {
	conn := connect(t, dsn)
	ctx, cancel := context.WithCancel(context.Background())
	w := &d1Writes{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(w.done)
		err := w.run(ctx, conn)
		if ctx.Err() == nil {
			w.mu.Lock()
			w.err = err
			w.mu.Unlock()
		}
	}()
	t.Cleanup(func() { _, _ = w.halt() })
	return w
}

func (w *d1Writes) run(ctx context.Context, conn *pgx.Conn) error {
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 2))
	for n := 0; ctx.Err() == nil; n++ {
		var err error
		committed := true
		switch rng.IntN(10) {
		case 0, 1, 2, 3:
			_, err = conn.Exec(ctx, `INSERT INTO d1_live VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET v = EXCLUDED.v`,
				1+rng.IntN(60), fmt.Sprintf("w%d", n))
		case 4, 5:
			_, err = conn.Exec(ctx, `UPDATE d1_live SET v = $2 WHERE id = $1`, 1+rng.IntN(60), fmt.Sprintf("u%d", n))
		case 6:
			_, err = conn.Exec(ctx, `DELETE FROM d1_live WHERE id = $1`, 1+rng.IntN(60))
		case 7, 8:
			err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
				for i := range 2 + rng.IntN(3) {
					if _, err := tx.Exec(ctx, `INSERT INTO d1_live VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET v = EXCLUDED.v`,
						1+rng.IntN(60), fmt.Sprintf("m%d.%d", n, i)); err != nil {
						return err
					}
				}
				_, err := tx.Exec(ctx, `DELETE FROM d1_live WHERE id = $1`, 1+rng.IntN(60))
				return err
			})
		default:
			// Rolled back: none of it may ever be served.
			err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
				if _, err := tx.Exec(ctx, `INSERT INTO d1_live VALUES ($1, 'aborted') ON CONFLICT (id) DO UPDATE SET v = 'aborted'`,
					1+rng.IntN(60)); err != nil {
					return err
				}
				return errD1Rollback
			})
			if errors.Is(err, errD1Rollback) {
				err, committed = nil, false
			}
		}
		if err != nil {
			return err
		}
		if committed {
			w.txns.Add(1)
		}
		select {
		case <-ctx.Done():
		case <-time.After(5 * time.Millisecond): // pacing, so the follower keeps up
		}
	}
	return nil
}

var errD1Rollback = errors.New("rolled back on purpose")

func (w *d1Writes) failed() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// halt stops the workload and returns how many transactions it ran.
func (w *d1Writes) halt() (int64, error) {
	w.cancel()
	<-w.done
	return w.txns.Load(), w.failed()
}

// shapeReply is the part of a shape response D4 checks.
type shapeReply struct {
	code           int
	handle, offset string
	upToDate       bool
	messages       int
}

// shapeAnswer makes one non-live shape request.
func shapeAnswer(ctx context.Context, base, table, handle, offset string) (shapeReply, error) {
	q := url.Values{"table": {table}, "offset": {offset}}
	if handle != "" {
		q.Set("handle", handle)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/v1/shape?"+q.Encode(), nil)
	if err != nil {
		return shapeReply{}, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return shapeReply{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return shapeReply{}, err
	}
	r := shapeReply{code: resp.StatusCode, handle: resp.Header.Get("electric-handle"), offset: resp.Header.Get("electric-offset")}
	if r.code != http.StatusOK {
		return r, fmt.Errorf("status %d: %s", r.code, body)
	}
	var msgs []struct {
		Headers struct {
			Control string `json:"control"`
		} `json:"headers"`
	}
	if err := json.Unmarshal(body, &msgs); err != nil {
		return r, fmt.Errorf("body is not a JSON array: %w", err)
	}
	r.messages = len(msgs)
	for _, m := range msgs {
		r.upToDate = r.upToDate || m.Headers.Control == "up-to-date"
	}
	return r, nil
}
