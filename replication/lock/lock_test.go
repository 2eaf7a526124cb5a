package lock

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/shapesync/shapesync/actors"
	"github.com/shapesync/shapesync/replication/pgwire"
	"github.com/shapesync/shapesync/shapes/protocol"
)

const slot = "electric_slot_locktest"

func TestNextMisses(t *testing.T) {
	t.Parallel()
	const timeout = 5 * time.Second
	cases := []struct {
		name   string
		misses int
		took   time.Duration
		want   int
	}{
		{"ok - a timely answer clears the count", 1, time.Second, 0},
		{"ok - just under the timeout is timely", 0, timeout - time.Nanosecond, 0},
		{"ok - one late answer is one miss", 0, timeout + time.Second, 1},
		{"ok - late twice in a row is two misses", 1, timeout + time.Second, 2},
		{"ok - an answer two timeouts late is two misses at once", 0, 2*timeout + time.Second, 2},
	}
	for _, tc := range cases {
		if got := nextMisses(tc.misses, tc.took, timeout); got != tc.want {
			t.Errorf("%s: nextMisses(%d, %s) = %d; want %d", tc.name, tc.misses, tc.took, got, tc.want)
		}
	}
}

func TestRefusesReplication(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		err  error
		want bool
	}{
		{"ok - no REPLICATION attribute", pgErr("42501", "permission denied to start WAL sender"), true},
		{"ok - max_wal_senders is 0", pgErr("53300", "number of requested standby connections exceeds max_wal_senders (currently 0)"), true},
		{"ok - no pg_hba line for replication", pgErr("28000", `no pg_hba.conf entry for replication connection from host "10.0.0.1"`), true},
		{"ok - all WAL senders busy is retried, not a fallback", pgErr("53300", "number of requested standby connections exceeds max_wal_senders (currently 10)"), false},
		{"ok - wrong password is not a fallback", pgErr("28P01", "password authentication failed"), false},
		{"ok - a network error is not a fallback", errors.New("dial tcp: connection refused"), false},
	}
	for _, tc := range cases {
		if got := refusesReplication(tc.err); got != tc.want {
			t.Errorf("%s: refusesReplication = %t", tc.name, got)
		}
	}
}

// pgErr is a server error as pgconn reports it.
func pgErr(code, msg string) error { return &pgconn.PgError{Code: code, Message: msg} }

func connect(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}

func scan[T any](t *testing.T, conn *pgx.Conn, sql string, args ...any) T {
	t.Helper()
	var v T
	if err := conn.QueryRow(context.Background(), sql, args...).Scan(&v); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return v
}

// ours is the backend pid and type of the session holding slot's lock.
func ours(t *testing.T, conn *pgx.Conn) (pid int32, backendType, app string) {
	t.Helper()
	err := conn.QueryRow(context.Background(), `SELECT l.pid, a.backend_type, a.application_name
		FROM pg_locks l JOIN pg_stat_activity a USING (pid)
		WHERE l.locktype = 'advisory' AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
		  AND ((l.classid::int8 << 32) | l.objid::int8) = hashtext($1)::int8`, slot).Scan(&pid, &backendType, &app)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, "", ""
	}
	if err != nil {
		t.Fatal(err)
	}
	return pid, backendType, app
}

func isHeld(p *parent) bool { c, ok := p.Last(); return ok && c.OK }

func fastConfig(k *actors.Kit, dsn string, st *actors.PID) Config {
	return Config{Kit: k, DSN: dsn, Slot: slot, Status: st,
		PollMin: 20 * time.Millisecond, PollMax: 40 * time.Millisecond,
		HeartbeatEvery: 50 * time.Millisecond, HeartbeatTimeout: 300 * time.Millisecond}
}

func TestLockIsHeldOnAWalsenderAndFreedOnStop(t *testing.T) {
	t.Parallel()
	dsn := pg.CreateDatabase(t)
	k := newKit(t)
	st := &statusRecorder{}
	p := spawnParent(t, k, ChildSpec(fastConfig(k, dsn, st.Spawn(t, k))))
	eventually(t, "the lock", func() bool { return isHeld(p) })
	if c, _ := p.Last(); c.Name != protocol.CondLock {
		t.Fatalf("condition %+v", c)
	}
	eventually(t, "status to hear it", func() bool { s := st.All(); return len(s) == 1 && s[0].OK })

	other := connect(t, dsn)
	pid, backendType, app := ours(t, other)
	if pid == 0 || backendType != "walsender" || app != "shapesync_lock" {
		t.Fatalf("lock held by pid %d (%s, %q); want a walsender named shapesync_lock", pid, backendType, app)
	}
	if scan[bool](t, other, "SELECT pg_try_advisory_lock(hashtext($1))", slot) {
		t.Fatal("another session took the lock we hold")
	}
	k.Root().Send(k.System().NewLocalPID("conn-manager"), &stopChild{})
	eventually(t, "the holder to stop", p.ChildGone)
	eventually(t, "the lock to be free", func() bool { return scan[bool](t, other, "SELECT pg_try_advisory_lock(hashtext($1))", slot) })
	if p.Failure() != nil {
		t.Fatalf("a graceful stop is not a failure: %v", p.Failure())
	}
}

func TestLockWaitsForAnotherHolderAndNamesIt(t *testing.T) {
	t.Parallel()
	dsn := pg.CreateDatabase(t)
	other := connect(t, dsn)
	otherPID := scan[int32](t, other, "SELECT pg_backend_pid()")
	if !scan[bool](t, other, "SELECT pg_try_advisory_lock(hashtext($1))", slot) {
		t.Fatal("could not take the lock first")
	}
	k := newKit(t)
	st := &statusRecorder{}
	p := spawnParent(t, k, ChildSpec(fastConfig(k, dsn, st.Spawn(t, k))))
	eventually(t, "a waiting report", func() bool { c, ok := p.Last(); return ok && !c.OK })
	c, _ := p.Last()
	if want := fmt.Sprintf("(pid %d)", otherPID); !strings.Contains(c.Reason, want) {
		t.Fatalf("waiting reason %q does not name the holder %s", c.Reason, want)
	}
	eventually(t, "status to hear it", func() bool { s := st.All(); return len(s) == 1 && !s[0].OK && s[0].Reason == c.Reason })
	// Polling again while it waits does not repeat the report: give it a
	// few polling rounds (an absence cannot be polled for).
	time.Sleep(5 * 40 * time.Millisecond)
	if n := len(p.Conds()); n != 1 {
		t.Fatalf("%d reports while waiting on the same holder; want 1", n)
	}

	scan[bool](t, other, "SELECT pg_advisory_unlock(hashtext($1))", slot)
	eventually(t, "the lock once the other holder lets go", func() bool { return isHeld(p) })
	if pid, _, _ := ours(t, other); pid == 0 || pid == otherPID {
		t.Fatalf("lock holder pid %d after the handover", pid)
	}
}

func TestLockIsLostWhenItsBackendIsTerminated(t *testing.T) {
	t.Parallel()
	dsn := pg.CreateDatabase(t)
	k := newKit(t)
	p := spawnParent(t, k, ChildSpec(fastConfig(k, dsn, nil)))
	eventually(t, "the lock", func() bool { return isHeld(p) })
	other := connect(t, dsn)
	pid, _, _ := ours(t, other)
	scan[bool](t, other, "SELECT pg_terminate_backend($1)", pid)
	eventually(t, "the holder to fail", func() bool { return p.Failure() != nil && p.ChildGone() })
	c, _ := p.Last()
	if c.OK || !strings.HasPrefix(c.Reason, "lost: ") {
		t.Fatalf("last report %+v; want the lock lost", c)
	}
	err, _ := p.Failure().(error)
	if err == nil || pgwire.Classify(err) != pgwire.Retryable || !strings.Contains(err.Error(), "57P01") {
		t.Fatalf("failure %v: want a retryable error naming 57P01", p.Failure())
	}
}

func TestLockFallsBackToAPlainSession(t *testing.T) {
	t.Parallel()
	dsn := pg.CreateDatabase(t)
	admin := connect(t, dsn)
	db := scan[string](t, admin, "SELECT current_database()")
	role := db + "_app"
	if _, err := admin.Exec(context.Background(), "CREATE ROLE "+pgx.Identifier{role}.Sanitize()+" LOGIN NOREPLICATION"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = connect(t, pg.Cluster(t).DSN("postgres")).Exec(context.Background(), "DROP ROLE IF EXISTS "+pgx.Identifier{role}.Sanitize())
	})
	appDSN := strings.Replace(dsn, "//postgres@", "//"+role+"@", 1)
	k := newKit(t)
	p := spawnParent(t, k, ChildSpec(fastConfig(k, appDSN, nil)))
	eventually(t, "the lock on a plain session", func() bool { return isHeld(p) || p.Failure() != nil })
	if f := p.Failure(); f != nil {
		t.Fatalf("holder failed instead of falling back: %v", f)
	}
	if pid, backendType, app := ours(t, admin); pid == 0 || backendType != "client backend" || app != "shapesync_lock" {
		t.Fatalf("lock held by pid %d (%s, %q); want a plain client backend named shapesync_lock", pid, backendType, app)
	}
}

func TestLockMissedHeartbeatsEndTheSession(t *testing.T) {
	t.Parallel()
	dsn := pg.CreateDatabase(t)
	k := newKit(t)
	p := spawnParent(t, k, ChildSpec(fastConfig(k, dsn, nil)))
	eventually(t, "the lock", func() bool { return isHeld(p) })
	other := connect(t, dsn)
	pid, _, _ := ours(t, other)
	// A frozen backend answers nothing: the heartbeats time out.
	if err := syscall.Kill(int(pid), syscall.SIGSTOP); err != nil {
		t.Fatalf("SIGSTOP backend %d: %v", pid, err)
	}
	t.Cleanup(func() { _ = syscall.Kill(int(pid), syscall.SIGCONT) })
	eventually(t, "the holder to fail", func() bool { return p.Failure() != nil && p.ChildGone() })
	err, _ := p.Failure().(error)
	if !errors.Is(err, ErrHeartbeatsMissed) {
		t.Fatalf("failure %v; want ErrHeartbeatsMissed", p.Failure())
	}
	if c, _ := p.Last(); c.OK {
		t.Fatalf("last report %+v; want the lock lost", c)
	}
}
