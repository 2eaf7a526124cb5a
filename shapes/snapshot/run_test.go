package snapshot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/shapesync/shapesync/replication/events"
	"github.com/shapesync/shapesync/replication/lsn"
	"github.com/shapesync/shapesync/replication/publication"
	"github.com/shapesync/shapesync/shapes/logitems"
)

// recorder plays the snapshot's collaborators: it records every call in
// order and keeps what was handed over. Hooks run inside the calls.
type recorder struct {
	mu      sync.Mutex
	calls   []string
	known   []lsn.Snapshot
	batches [][][]byte
	end     []byte

	onSubscribe func(ctx context.Context) error
	onKnown     func(snap lsn.Snapshot)
	onStraddle  func(attempt int)
}

func (r *recorder) record(call string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, call)
}

func (r *recorder) callList() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.calls)
}

// deps builds Deps around pool; ensure is the publication step.
func (r *recorder) deps(pool *pgxpool.Pool, enc RowEncoder, ensure func(context.Context, *events.Table) (uint64, error)) Deps {
	return Deps{
		Pool:    pool,
		Encoder: enc,
		EnsurePublished: func(ctx context.Context, t *events.Table) (uint64, error) {
			r.record("publish")
			return ensure(ctx, t)
		},
		Subscribe: func(ctx context.Context) error {
			r.record("subscribe")
			if r.onSubscribe != nil {
				return r.onSubscribe(ctx)
			}
			return nil
		},
		SnapshotKnown: func(_ context.Context, snap lsn.Snapshot) error {
			r.record("known")
			r.mu.Lock()
			r.known = append(r.known, snap)
			r.mu.Unlock()
			if r.onKnown != nil {
				r.onKnown(snap)
			}
			return nil
		},
		Rows: func(_ context.Context, batch [][]byte) error {
			r.record("rows")
			r.mu.Lock()
			defer r.mu.Unlock()
			r.batches = append(r.batches, batch)
			return nil
		},
		End: func(_ context.Context, end []byte) error {
			r.record("end")
			r.mu.Lock()
			defer r.mu.Unlock()
			r.end = end
			return nil
		},
		OnStraddleWait: func(attempt int, _ lsn.Snapshot, _ uint64) {
			r.record("straddle")
			if r.onStraddle != nil {
				r.onStraddle(attempt)
			}
		},
	}
}

// snapshotRow is one decoded snapshot log item.
type snapshotRow struct {
	Key     string             `json:"key"`
	Value   map[string]*string `json:"value"`
	Headers map[string]any     `json:"headers"`
}

func (r *recorder) rows(t *testing.T) map[string]map[string]*string {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]map[string]*string{}
	for _, b := range r.batches {
		for _, item := range b {
			var row snapshotRow
			if err := json.Unmarshal(item, &row); err != nil {
				t.Fatalf("snapshot item %s: %v", item, err)
			}
			if row.Headers["operation"] != "insert" {
				t.Fatalf("snapshot item %s is not an insert", item)
			}
			out[row.Key] = row.Value
		}
	}
	return out
}

// endMessage decodes snapshot-end and checks it against snap.
func (r *recorder) checkEnd(t *testing.T, snap lsn.Snapshot) {
	t.Helper()
	var end struct {
		Headers struct {
			Control string   `json:"control"`
			Xmin    string   `json:"xmin"`
			Xmax    string   `json:"xmax"`
			Xip     []string `json:"xip_list"`
		} `json:"headers"`
	}
	r.mu.Lock()
	raw := r.end
	r.mu.Unlock()
	if err := json.Unmarshal(raw, &end); err != nil {
		t.Fatalf("snapshot-end %s: %v", raw, err)
	}
	xip := make([]string, len(snap.Xip))
	for i, x := range snap.Xip {
		xip[i] = strconv.FormatUint(x, 10)
	}
	h := end.Headers
	if h.Control != "snapshot-end" || h.Xmin != strconv.FormatUint(snap.Xmin, 10) || h.Xmax != strconv.FormatUint(snap.Xmax, 10) || !slices.Equal(h.Xip, xip) || h.Xip == nil {
		t.Errorf("snapshot-end %s does not carry snapshot %+v as decimal strings", raw, snap)
	}
}

// encoderFor builds the shape's encoder for all of tb's columns.
func encoderFor(t *testing.T, tb *events.Table, cols []int) *logitems.Encoder {
	t.Helper()
	rel := &events.Relation{ID: tb.OID, Schema: tb.Schema, Name: tb.Name}
	for _, c := range tb.Columns {
		rel.Columns = append(rel.Columns, events.Column{Name: c.Name, TypeOID: c.TypeOID, TypeMod: c.TypeMod})
	}
	enc, err := logitems.NewEncoder(logitems.Config{Schema: tb.Schema, Table: tb.Name, Relation: rel, Columns: cols, KeyColumns: tb.KeyColumns()})
	if err != nil {
		t.Fatal(err)
	}
	return enc
}

// publishWith is EnsurePublished as the publication owner does it: add
// the table, and when it is new, read the horizon right after the commit.
func publishWith(pool *pgxpool.Pool) func(context.Context, *events.Table) (uint64, error) {
	return func(ctx context.Context, t *events.Table) (uint64, error) {
		added, err := publication.AddTable(ctx, pool, testPub, t)
		if err != nil || !added {
			return 0, err
		}
		return publication.Horizon(ctx, pool)
	}
}

// openWriter begins a transaction on its own connection that inserts
// into table and returns its 32-bit xid and a commit function.
func openWriter(t *testing.T, d *db, insert string) (xid uint32, commit func()) {
	t.Helper()
	ctx := context.Background()
	conn, err := d.admin.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, insert); err != nil {
		t.Fatalf("%s: %v", insert, err)
	}
	var x8 uint64
	if err := tx.QueryRow(ctx, "SELECT pg_current_xact_id()::text::int8").Scan(&x8); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	commit = func() {
		once.Do(func() {
			if err := tx.Commit(ctx); err != nil {
				t.Errorf("commit: %v", err)
			}
			conn.Release()
		})
	}
	t.Cleanup(func() {
		once.Do(func() { _ = tx.Rollback(ctx); conn.Release() })
	})
	return uint32(x8), commit
}

func committedXid(t *testing.T, d *db, insert string) uint32 {
	t.Helper()
	xid, commit := openWriter(t, d, insert)
	commit()
	return xid
}

func TestRunEndToEnd(t *testing.T) {
	t.Parallel()
	d := newDB(t)
	ctx := context.Background()
	d.exec(t, `CREATE TABLE items (id int PRIMARY KEY, title text NOT NULL, note text)`)
	d.exec(t, `INSERT INTO items SELECT i, 'title ' || i, CASE WHEN i % 2 = 0 THEN 'n' || i END FROM generate_series(1, 10) i`)
	tb := d.lookup(t, "public", "items")
	cols := allColumns(tb)
	// Published beforehand: this test holds a writer open across the
	// snapshot, which the straddle guard would wait for.
	if _, err := publication.AddTable(ctx, d.admin, testPub, tb); err != nil {
		t.Fatal(err)
	}

	before := committedXid(t, d, "INSERT INTO items VALUES (100, 'before', NULL)")
	openXid, commitOpen := openWriter(t, d, "INSERT INTO items VALUES (101, 'open across', NULL)")
	var duringSubscribe uint32

	rec := &recorder{}
	rec.onSubscribe = func(ctx context.Context) error {
		// Before the snapshot's first statement: the transaction is open
		// but has no snapshot yet (backend_xmin is NULL), and a commit now
		// must be in the snapshot.
		var state string
		var hasXmin bool
		err := d.admin.QueryRow(ctx, `SELECT state, backend_xmin IS NOT NULL FROM pg_stat_activity
			WHERE application_name = 'shapesync_snapshot' AND datname = current_database() AND state <> 'idle'`).Scan(&state, &hasXmin)
		if err != nil {
			return fmt.Errorf("find the snapshot backend: %w", err)
		}
		if state != "idle in transaction" || hasXmin {
			return fmt.Errorf("at Subscribe the snapshot backend is %q with a snapshot: %v", state, hasXmin)
		}
		duringSubscribe = committedXid(t, d, "INSERT INTO items VALUES (102, 'during subscribe', NULL)")
		return nil
	}
	rec.onKnown = func(lsn.Snapshot) {
		commitOpen() // commits after the snapshot was taken
		committedXid(t, d, "INSERT INTO items VALUES (103, 'after', NULL)")
	}
	res, err := Run(ctx, rec.deps(d.snap, encoderFor(t, tb, cols), publishWith(d.admin)), Request{Table: tb, Columns: cols, ServerVersion: 150000})
	if err != nil {
		t.Fatal(err)
	}

	calls := rec.callList()
	if want := []string{"publish", "subscribe", "known", "rows", "end"}; !slices.Equal(calls, want) {
		t.Errorf("calls %v; want %v", calls, want)
	}
	snap := res.Snapshot
	if len(rec.known) != 1 || !slices.Equal(rec.known[0].Xip, snap.Xip) || rec.known[0].Xmin != snap.Xmin {
		t.Errorf("SnapshotKnown got %+v, result %+v", rec.known, snap)
	}
	if !snap.Visible(before) || !snap.Visible(duringSubscribe) {
		t.Errorf("snapshot %+v: xids committed before it (%d, %d) not visible", snap, before, duringSubscribe)
	}
	if snap.Visible(openXid) || !slices.Contains(snap.Xip, uint64(openXid)) && uint64(openXid) < snap.Xmax {
		t.Errorf("snapshot %+v: xid %d open across it is visible", snap, openXid)
	}
	if res.Attempts != 1 || res.Rows != 12 || res.WALLSN == 0 || res.CommitErr != nil {
		t.Errorf("result %+v", res)
	}

	rows := rec.rows(t)
	if len(rows) != 12 {
		t.Fatalf("%d rows; want 10 + before + during subscribe", len(rows))
	}
	for i := 1; i <= 10; i++ {
		v := rows[fmt.Sprintf(`"public"."items"/"%d"`, i)]
		if v == nil || *v["id"] != strconv.Itoa(i) || *v["title"] != "title "+strconv.Itoa(i) {
			t.Fatalf("row %d: %v", i, v)
		}
		if (i%2 == 0) != (v["note"] != nil) || i%2 == 0 && *v["note"] != "n"+strconv.Itoa(i) {
			t.Errorf("row %d note %v", i, v["note"])
		}
	}
	for key, want := range map[string]bool{`"public"."items"/"100"`: true, `"public"."items"/"102"`: true, `"public"."items"/"101"`: false, `"public"."items"/"103"`: false} {
		if _, ok := rows[key]; ok != want {
			t.Errorf("row %s in snapshot: %v, want %v", key, ok, want)
		}
	}
	rec.checkEnd(t, snap)
	if st := d.snap.Stat(); st.AcquiredConns() != 0 {
		t.Errorf("%d snapshot connections still acquired", st.AcquiredConns())
	}
}

func TestRunBatchesAndChangesOnly(t *testing.T) {
	t.Parallel()
	d := newDB(t)
	ctx := context.Background()
	d.exec(t, `CREATE TABLE nums (n int)`) // no primary key: every column is the key
	d.exec(t, `INSERT INTO nums SELECT generate_series(1, 10)`)
	tb := d.lookup(t, "public", "nums")
	cols := allColumns(tb)

	rec := &recorder{}
	deps := rec.deps(d.snap, encoderFor(t, tb, cols), publishWith(d.admin))
	deps.Limits.BatchRows = 3
	res, err := Run(ctx, deps, Request{Table: tb, Columns: cols})
	if err != nil {
		t.Fatal(err)
	}
	var sizes []int
	for _, b := range rec.batches {
		sizes = append(sizes, len(b))
	}
	if !slices.Equal(sizes, []int{3, 3, 3, 1}) || res.Rows != 10 {
		t.Errorf("batch sizes %v, rows %d", sizes, res.Rows)
	}
	if len(rec.rows(t)) != 10 {
		t.Errorf("rows %v", rec.rows(t))
	}

	only := &recorder{}
	deps = only.deps(d.snap, nil, publishWith(d.admin))
	deps.Rows = nil
	res, err = Run(ctx, deps, Request{Table: tb, Columns: cols, ChangesOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if calls := only.callList(); !slices.Equal(calls, []string{"publish", "subscribe", "known", "end"}) || res.Rows != 0 {
		t.Errorf("changes_only: calls %v, rows %d", calls, res.Rows)
	}
	only.checkEnd(t, res.Snapshot)
}

// A table locked ACCESS EXCLUSIVE by another session blocks the snapshot
// query: after FirstRowTimeout the snapshot fails as transient, and the
// cancelled query leaves nothing behind on the server.
func TestRunFirstRowTimeout(t *testing.T) {
	t.Parallel()
	d := newDB(t)
	ctx := context.Background()
	d.exec(t, `CREATE TABLE locked (id int PRIMARY KEY)`)
	d.exec(t, `INSERT INTO locked VALUES (1)`)
	tb := d.lookup(t, "public", "locked")
	if _, err := publication.AddTable(ctx, d.admin, testPub, tb); err != nil {
		t.Fatal(err)
	}
	_, release := openWriter(t, d, "LOCK TABLE locked IN ACCESS EXCLUSIVE MODE")

	rec := &recorder{}
	deps := rec.deps(d.snap, encoderFor(t, tb, []int{0}), publishWith(d.admin))
	deps.Limits.FirstRowTimeout = time.Second
	start := time.Now()
	_, err := Run(ctx, deps, Request{Table: tb, Columns: []int{0}})
	elapsed := time.Since(start)
	var e *Error
	if !errors.As(err, &e) || e.Kind != KindTransient || !errors.Is(err, ErrFirstRowTimeout) {
		t.Fatalf("Run = %v; want a transient first-row timeout", err)
	}
	if elapsed < time.Second || elapsed > 4*time.Second {
		t.Errorf("failed after %s; want about the 1s limit", elapsed)
	}
	if calls := rec.callList(); !slices.Equal(calls, []string{"publish", "subscribe", "known"}) {
		t.Errorf("calls %v", calls)
	}
	// The query was cancelled on the server (ConfigurePool's cancel
	// request), not just abandoned: its connection is idle and back in the
	// pool, with no lock wait queued behind the holder.
	checkFor(t, 5*time.Second, func() error {
		var busy, idle, waiting int
		err := d.admin.QueryRow(ctx, `SELECT
			(SELECT count(*) FROM pg_stat_activity WHERE application_name = 'shapesync_snapshot' AND datname = current_database() AND state <> 'idle'),
			(SELECT count(*) FROM pg_stat_activity WHERE application_name = 'shapesync_snapshot' AND datname = current_database() AND state = 'idle'),
			(SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE NOT l.granted AND a.application_name = 'shapesync_snapshot')`).Scan(&busy, &idle, &waiting)
		if err != nil {
			return err
		}
		if busy != 0 || idle != 1 || waiting != 0 || d.snap.Stat().AcquiredConns() != 0 || d.snap.Stat().IdleConns() != 1 {
			return fmt.Errorf("snapshot backends: %d busy, %d idle, %d lock waits; pool: %d acquired, %d idle",
				busy, idle, waiting, d.snap.Stat().AcquiredConns(), d.snap.Stat().IdleConns())
		}
		return nil
	})

	// Once the lock is gone the same pool snapshots the table.
	release()
	rec = &recorder{}
	if res, err := Run(ctx, rec.deps(d.snap, encoderFor(t, tb, []int{0}), publishWith(d.admin)), Request{Table: tb, Columns: []int{0}}); err != nil || res.Rows != 1 {
		t.Fatalf("after the lock: %+v, %v", res, err)
	}
}
