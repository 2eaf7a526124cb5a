package scenarios

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/shapesync/shapesync/chaos/oracle"
	"github.com/shapesync/shapesync/chaos/service"
)

const (
	b14Repetitions = 20
	// b14SeedRows rows exist before the writers start; id 0 is left to the
	// straddling transaction, which also inserts id -1.
	b14SeedRows = 40
	// b14CommitsAfterSnapshot is how many writer commits the client follows
	// after the first response before the writers stop.
	b14CommitsAfterSnapshot = 30
)

// TestB14ShapeCreatedWhileWriterBusy is RELIABILITY B14: shapes created on
// tables under continuous small transactions from two writers, with one
// transaction that straddles the shape's snapshot. Each change must be in
// the snapshot or in the log, exactly once. Two writers make WAL commit
// order differ from xid order, and a commit can reach the stream a moment
// before other sessions see it; the snapshot's visibility has to be right
// for both. The repetitions alternate two ways a straddling transaction
// can meet a new shape:
//
//   - published: the table is already in the publication (as an operator
//     with manual publishing sets it up), the transaction writes before the
//     first request and commits after its response. Its changes are not in
//     the snapshot and must come through the log, once.
//   - guarded: the shape's creation publishes the table, the transaction
//     wrote before that and commits once the publication lists the table,
//     while the first request is in flight. Logical decoding may decode it
//     with the catalog as of its start and never stream it, which is why
//     the service holds the snapshot until it has ended (the straddle
//     guard); either way its changes must be in the snapshot or in the
//     log, once.
//
// Each repetition uses a fresh table (ARCHITECTURE, notes on the open
// issues, #3).
func TestB14ShapeCreatedWhileWriterBusy(t *testing.T) {
	svc := startInstance(t, false, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	defer cancel()
	admin := connect(t, svc.DSN)
	r := b14Run{svc: svc, pub: instancePublication(ctx, t, admin), admin: admin,
		writers: []*pgx.Conn{connect(t, svc.DSN), connect(t, svc.DSN)}, straddle: connect(t, svc.DSN)}
	began := time.Now()
	done := 0
	for rep := range b14Repetitions {
		published := rep%2 == 0
		name := fmt.Sprintf("%02d_guarded", rep)
		if published {
			name = fmt.Sprintf("%02d_published", rep)
		}
		if !t.Run(name, func(t *testing.T) { r.repetition(ctx, t, rep, published) }) {
			break
		}
		done++
	}
	t.Logf("%d of %d repetitions passed in %v", done, b14Repetitions, time.Since(began).Round(time.Millisecond))
}

// b14Run is what the repetitions share: one service and its connections
// (setup and checks, one per writer, the straddling transaction).
type b14Run struct {
	svc             *instance
	pub             string
	admin, straddle *pgx.Conn
	writers         []*pgx.Conn
}

func (r *b14Run) exec(ctx context.Context, t *testing.T, sql string, args ...any) {
	t.Helper()
	if _, err := r.admin.Exec(ctx, sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func (r *b14Run) repetition(ctx context.Context, t *testing.T, rep int, published bool) {
	began := time.Now()
	table := fmt.Sprintf("b14_%02d", rep)
	ident := pgx.Identifier{"public", table}.Sanitize()
	// REPLICA IDENTITY FULL up front: otherwise publishing the table would
	// need an ACCESS EXCLUSIVE lock that the straddling transaction's
	// writes hold off (RELIABILITY C7), which is another scenario.
	r.exec(ctx, t, "CREATE TABLE "+ident+" (id int PRIMARY KEY, version int NOT NULL, note text NOT NULL)")
	r.exec(ctx, t, "ALTER TABLE "+ident+" REPLICA IDENTITY FULL")
	r.exec(ctx, t, "INSERT INTO "+ident+" SELECT g, 1, 'seed' FROM generate_series(0, $1) g", b14SeedRows-1)
	if published {
		r.exec(ctx, t, "ALTER PUBLICATION "+pgx.Identifier{r.pub}.Sanitize()+" ADD TABLE "+ident)
	}

	w := startB14Writers(ctx, r.writers, table, uint64(rep))
	stopped := false
	stopWriters := func() {
		if stopped {
			return
		}
		stopped = true
		if err := w.halt(); err != nil {
			t.Errorf("writers: %v", err)
		}
	}
	defer stopWriters()
	waitCommits(t, w, 10)

	// The straddling transaction: its xid is assigned before the shape's
	// snapshot is taken.
	tx, err := r.straddle.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(context.Background()) }()
	var straddleXid string
	if err := tx.QueryRow(ctx, "SELECT pg_catalog.pg_current_xact_id()::text").Scan(&straddleXid); err != nil {
		t.Fatal(err)
	}
	for _, sql := range []string{
		"INSERT INTO " + ident + " (id, version, note) VALUES (-1, 1, 'straddle')",
		"UPDATE " + ident + " SET version = version + 1, note = 'straddle' WHERE id = 0",
	} {
		if _, err := tx.Exec(ctx, sql); err != nil {
			t.Fatalf("straddling transaction: %s: %v", sql, err)
		}
	}

	tr := &snapshotTracker{f: oracle.New(r.svc.URL(), table)}
	if published {
		if err := tr.poll(ctx); err != nil {
			t.Fatalf("first request: %v", err)
		}
		if err := tx.Commit(ctx); err != nil {
			t.Fatalf("commit the straddling transaction: %v", err)
		}
	} else {
		first := make(chan error, 1)
		go func() { first <- tr.poll(ctx) }()
		r.waitPublished(ctx, t, table)
		if err := tx.Commit(ctx); err != nil {
			t.Fatalf("commit the straddling transaction: %v", err)
		}
		if err := <-first; err != nil {
			t.Fatalf("first request: %v", err)
		}
	}

	// Follow while the writers go on, then let the shape catch up.
	target := w.commits() + b14CommitsAfterSnapshot
	for w.commits() < target {
		if err := w.failed(); err != nil {
			t.Fatalf("writers: %v", err)
		}
		if err := tr.poll(ctx); err != nil {
			stopWriters()
			explainB14Keys(t, r.svc.URL(), table, tr, w, straddleXid, nil, []string{followErrorKey(err)})
			t.Fatalf("follow: %v; the last changes applied:%s", err, lastChanges(tr.f, 8))
		}
	}
	stopWriters()
	want, err := readTableRows(ctx, r.admin, table, []string{"id", "version", "note"})
	if err != nil {
		t.Fatal(err)
	}
	catchUp, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := tr.until(catchUp, func() bool { return shapeTableDiff(want, tr.f.Rows) == "" }); err != nil {
		explainB14(t, r.svc.URL(), table, tr, w, straddleXid, want)
		t.Fatalf("the shape did not converge to the table: %v; %s", err, shapeTableDiff(want, tr.f.Rows))
	}

	if keys, ok := checkB14Log(t, tr, table, published); !ok {
		explainB14Keys(t, r.svc.URL(), table, tr, w, straddleXid, want, keys)
	}
	t.Logf("%s: %d snapshot rows, %d changes, %d writer commits, %v",
		table, len(tr.snapshot), len(tr.f.Changes), w.commits(), time.Since(began).Round(time.Millisecond))
}

// waitCommits waits until the writers have committed n transactions.
func waitCommits(t *testing.T, w b14Writers, n int64) {
	t.Helper()
	service.Eventually(t, 10*time.Second, 5*time.Millisecond, func() error {
		if err := w.failed(); err != nil {
			return err
		}
		if c := w.commits(); c < n {
			return fmt.Errorf("the writers committed %d transactions, want %d", c, n)
		}
		return nil
	})
}

// waitPublished waits until the publication lists the table.
func (r *b14Run) waitPublished(ctx context.Context, t *testing.T, table string) {
	t.Helper()
	service.Eventually(t, 15*time.Second, 5*time.Millisecond, func() error {
		var n int
		err := r.admin.QueryRow(ctx, `SELECT count(*) FROM pg_catalog.pg_publication_tables
			WHERE pubname = $1 AND schemaname = 'public' AND tablename = $2`, r.pub, table).Scan(&n)
		if err == nil && n == 0 {
			err = fmt.Errorf("%s is not in publication %s yet", table, r.pub)
		}
		return err
	})
}

// checkB14Log checks what the client received: every change the next
// version of its row, and the straddling transaction on the side the
// flavour demands.
func checkB14Log(t *testing.T, tr *snapshotTracker, table string, published bool) (keys []string, ok bool) {
	t.Helper()
	defer func() { ok = !t.Failed() }()
	if tr.snapshot == nil {
		t.Fatal("the snapshot's rows were never known (no change and no up-to-date)")
	}
	problems, keys := auditVersions(tr.snapshot, tr.f.Changes)
	if len(problems) > 0 {
		t.Errorf("%d changes are not the next version of their row: %s", len(problems), strings.Join(problems[:min(len(problems), 8)], "; "))
	}
	if n := len(tr.f.Changes); n < b14CommitsAfterSnapshot {
		t.Errorf("the client received %d changes; the writer committed at least %d transactions after the snapshot", n, b14CommitsAfterSnapshot)
	}
	inserted, updated := keyOfRow(table, "-1"), keyOfRow(table, "0")
	var straddle []oracle.Change
	for _, c := range tr.f.Changes {
		if c.Key == inserted || c.Key == updated {
			straddle = append(straddle, c)
		}
	}
	_, insertedInSnapshot := tr.snapshot[inserted]
	updatedVersion := textOrNULL(tr.snapshot[updated]["version"])
	if published {
		// In progress when the snapshot was taken: invisible to it, and one
		// transaction (one commit LSN) in the log.
		if insertedInSnapshot || updatedVersion != "1" {
			t.Errorf("the snapshot holds the straddling transaction's writes (row -1 present: %v, row 0 version %s): was it still open when the snapshot was taken?", insertedInSnapshot, updatedVersion)
		}
		if len(straddle) != 2 || straddle[0].Key != inserted || straddle[1].Key != updated || straddle[0].LSN != straddle[1].LSN {
			t.Errorf("the straddling transaction reached the log as %v; want its insert of -1 then its update of 0, at one commit LSN", straddle)
		}
		return keys, ok
	}
	// Either side will do, as long as it is one of them, whole.
	inSnapshot := insertedInSnapshot && updatedVersion == "2" && len(straddle) == 0
	inLog := !insertedInSnapshot && updatedVersion == "1" && len(straddle) == 2 &&
		straddle[0].Key == inserted && straddle[1].Key == updated && straddle[0].LSN == straddle[1].LSN
	if !inSnapshot && !inLog {
		t.Errorf("the straddling transaction is neither wholly in the snapshot nor wholly in the log: row -1 in the snapshot: %v, row 0 snapshot version %s, log %v",
			insertedInSnapshot, updatedVersion, straddle)
	}
	return keys, ok
}
