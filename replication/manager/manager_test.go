package manager

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/jackc/pgx/v5"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/shapesync/shapesync/actors"
	"github.com/shapesync/shapesync/replication/decode/builder"
	"github.com/shapesync/shapesync/replication/lock"
	"github.com/shapesync/shapesync/replication/pgwire"
	"github.com/shapesync/shapesync/replication/pool"
	"github.com/shapesync/shapesync/shapes/protocol"
	"github.com/shapesync/shapesync/supervisor/status"
)

const wait = 30 * time.Second

func eventually(t *testing.T, what string, fn func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !fn() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", wait, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// db is a test's own connection to its database.
type db struct {
	t    *testing.T
	conn *pgx.Conn
}

func connect(t *testing.T, dsn string) *db {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return &db{t: t, conn: conn}
}

func (d *db) exec(sql string, args ...any) {
	d.t.Helper()
	if _, err := d.conn.Exec(context.Background(), sql, args...); err != nil {
		d.t.Fatalf("%s: %v", sql, err)
	}
}

func (d *db) text(sql string, args ...any) string {
	d.t.Helper()
	var s string
	if err := d.conn.QueryRow(context.Background(), sql, args...).Scan(&s); err != nil {
		d.t.Fatalf("%s: %v", sql, err)
	}
	return s
}

// lockBackend is the pid of the shapesync_lock session holding slot's lock
// ("" when none).
func (d *db) lockBackend(slot string) string {
	return d.text(`SELECT coalesce(min(l.pid)::text, '') FROM pg_locks l JOIN pg_stat_activity a USING (pid)
		WHERE l.locktype = 'advisory' AND l.granted AND a.application_name = 'shapesync_lock'
		  AND ((l.classid::int8 << 32) | l.objid::int8) = hashtext($1)::int8`, slot)
}

func ids(from, to int) []string {
	var out []string
	for i := from; i <= to; i++ {
		out = append(out, strconv.Itoa(i))
	}
	return out
}

// TestConnManagerAgainstPostgres runs conn-manager with the real lock,
// pools and txn-builder under a kit supervisor, the real status actor, a
// stand-in replication actor on replication/stream and a recording
// collector, through a lock held elsewhere, streaming, a lost lock and a
// pipeline reset.
func TestConnManagerAgainstPostgres(t *testing.T) {
	t.Parallel()
	dsn := pg.CreateDatabase(t)
	sql := connect(t, dsn)
	const slot, pub = "electric_slot_cmtest", "electric_publication_cmtest"
	sql.exec("CREATE TABLE items (id int PRIMARY KEY, v text)")

	// Someone else holds the lock before we start.
	other := connect(t, dsn)
	otherPID := other.text("SELECT pg_backend_pid()::text")
	other.exec("SELECT pg_advisory_lock(hashtext($1))", slot)

	k := actors.NewKit(zaptest.NewLogger(t, zaptest.Level(zap.InfoLevel)), actors.ForTesting(),
		actors.WithSlowReceive(actors.DefaultSlowReceive, func(s actors.SlowReceive) { t.Errorf("slow receive: %+v", s) }))
	shutdown := func() {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		if stuck := k.Shutdown(ctx); stuck != nil {
			t.Errorf("shutdown left actors running: %v", stuck)
		}
	}
	t.Cleanup(shutdown)

	view := status.NewView()
	statusPID, err := k.SpawnRoot(actors.ChildSpec{Label: status.Label, Producer: status.Producer(view, k.Logger()), Bound: actors.Count(256), Policy: actors.Coalesce})
	if err != nil {
		t.Fatal(err)
	}
	pidOf := func(id string) *actors.PID { return actor.NewPID(k.System().Address(), id) }
	collectorPID, builderPID, replicationPID := pidOf("pipeline/shapes"), pidOf("pipeline/conn-manager/txn-builder"), pidOf("pipeline/conn-manager/replication")
	adminSize, snapshotSize := pool.Sizes(4)
	adminView, snapshotView := pool.NewView(), pool.NewView()
	rec := &collector{}
	cfg := Config{
		Kit:    k,
		Status: statusPID,
		AdminPool: pool.ChildSpec(pool.Config{Kit: k, Role: pgwire.RoleAdmin, DSN: dsn, MaxConns: adminSize,
			View: adminView, Status: statusPID}),
		SnapshotPool: pool.ChildSpec(pool.Config{Kit: k, Role: pgwire.RoleSnapshot, DSN: dsn, MaxConns: snapshotSize,
			View: snapshotView, Status: statusPID}),
		Lock: lock.ChildSpec(lock.Config{Kit: k, DSN: dsn, Slot: slot, Status: statusPID,
			PollMin: 20 * time.Millisecond, PollMax: 50 * time.Millisecond,
			HeartbeatEvery: 100 * time.Millisecond, HeartbeatTimeout: time.Second}),
		TxnBuilder:  builder.ChildSpec(builder.Config{Collector: collectorPID, Replication: replicationPID, RetryDelay: 5 * time.Millisecond, Log: k.Logger()}),
		Replication: replicationSpec(k, dsn, builderPID, statusPID),
		Setup:       streamSetup(dsn, slot, pub),
		Shapes:      rec.spec,
		Policy:      Policy{RetryMin: 50 * time.Millisecond, RetryMax: 500 * time.Millisecond, SlowMin: time.Second, SlowMax: 2 * time.Second},
	}
	if _, err := k.SpawnRoot(actors.ChildSpec{Label: "pipeline", Bound: actors.Count(64), Policy: actors.Credit,
		Producer: actors.Supervisor(actors.SupervisorSpec{Strategy: actors.OneForOne,
			Backoff:  actors.Backoff(10*time.Millisecond, 100*time.Millisecond, 0.2, 0),
			Children: []actors.ChildSpec{ChildSpec(cfg)}})}); err != nil {
		t.Fatal(err)
	}

	// 1. The lock is held elsewhere: status says waiting and names the holder.
	eventually(t, "status waiting", func() bool { return view.Current().State == status.Waiting })
	if reasons := strings.Join(view.Current().Reasons, "\n"); !strings.Contains(reasons, "(pid "+otherPID+")") {
		t.Fatalf("waiting reasons do not name the holder pid %s:\n%s", otherPID, reasons)
	}
	if adminView.Pool() == nil {
		t.Fatal("waiting for the lock, but the admin pool is not published")
	}
	if len(rec.startsSeen()) != 0 {
		t.Fatal("shapes started while the lock was held elsewhere")
	}

	// 2. The other holder lets go: setup runs, a new slot means a purging
	// start, and the stream comes up.
	other.exec("SELECT pg_advisory_unlock(hashtext($1))", slot)
	eventually(t, "our slot to be streamed", func() bool {
		return len(rec.startsSeen()) > 0 && sql.text(`SELECT count(*)::text FROM pg_stat_replication
			WHERE application_name = 'shapesync_replication' AND state = 'streaming'`) == "1"
	})
	if starts := rec.startsSeen(); len(starts) != 1 || !starts[0].Purge || starts[0].Setup.Slot != slot || starts[0].Setup.StartLSN == 0 {
		t.Fatalf("shapes starts %+v; want one purging start for the new slot", starts)
	}
	if snapshotView.Pool() == nil {
		t.Fatal("the snapshot pool is not published")
	}
	firstLock := sql.lockBackend(slot)
	if firstLock == "" {
		t.Fatal("no shapesync_lock session holds the lock")
	}

	// 3. Rows inserted now arrive as fragments, in commit order.
	sql.exec(fmt.Sprintf("ALTER PUBLICATION %s ADD TABLE items", pgx.Identifier{pub}.Sanitize()))
	for i := 1; i <= 3; i++ {
		sql.exec("INSERT INTO items VALUES ($1, 'v')", i)
	}
	sql.exec("INSERT INTO items SELECT g, 'v' FROM generate_series(4, 6) g")
	epochs := rec.epochs
	inEpoch := func(want []string) func() bool {
		return func() bool {
			e := epochs()
			if len(e) == 0 {
				return false
			}
			got, err := rec.inserted(e[len(e)-1])
			if err != nil {
				t.Fatal(err)
			}
			return slices.Equal(got, want)
		}
	}
	eventually(t, "rows 1–6 in order", inEpoch(ids(1, 6)))
	eventually(t, "the stream to report itself live", func() bool {
		return !slices.ContainsFunc(view.Current().Reasons, func(r string) bool { return strings.HasPrefix(r, protocol.CondReplication) })
	})

	// 4. The lock's backend is killed: conn-manager fences, re-acquires the
	// lock on a new session and restarts the stream from the acknowledged
	// position (nothing was acknowledged, so everything is replayed).
	sql.exec("SELECT pg_terminate_backend($1::int)", firstLock)
	eventually(t, "the lock re-acquired on a new session", func() bool {
		l := sql.lockBackend(slot)
		return l != "" && l != firstLock
	})
	eventually(t, "a new stream epoch", func() bool { return len(epochs()) == 2 })
	sql.exec("INSERT INTO items VALUES (7, 'v')")
	eventually(t, "rows 1–7 replayed in order in the new epoch", inEpoch(ids(1, 7)))
	if starts := rec.startsSeen(); len(starts) != 1 {
		t.Fatalf("shapes started %d times; a reused subsystem starts once", len(starts))
	}

	// 5. A pipeline reset restarts the stream once more.
	k.Root().Send(pidOf("pipeline/conn-manager"), &protocol.PipelineReset{Reason: "test"})
	eventually(t, "a third stream epoch", func() bool { return len(epochs()) == 3 })
	eventually(t, "rows 1–7 replayed after the reset", inEpoch(ids(1, 7)))

	// 6. Shutting down frees the lock.
	shutdown()
	eventually(t, "the lock to be free after shutdown", func() bool {
		return other.text("SELECT pg_try_advisory_lock(hashtext($1))::text", slot) == "true"
	})
}
