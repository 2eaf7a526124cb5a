package pool

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/shapesync/shapesync/replication/pgcluster"
	"github.com/shapesync/shapesync/replication/pgcluster/pgtest"
	"github.com/shapesync/shapesync/replication/pgwire"
	"github.com/shapesync/shapesync/shapes/protocol"
)

func TestSizes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		total           int
		admin, snapshot int32
	}{
		{0, 1, 1}, {1, 1, 1}, {2, 1, 1}, {4, 1, 3}, {8, 2, 6}, {20, 4, 16}, {100, 4, 96},
	}
	for _, tc := range cases {
		if a, s := Sizes(tc.total); a != tc.admin || s != tc.snapshot {
			t.Errorf("Sizes(%d) = %d, %d; want %d, %d", tc.total, a, s, tc.admin, tc.snapshot)
		}
	}
}

func queryRow(t *testing.T, ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, sql string, args ...any) string {
	t.Helper()
	var s string
	if err := q.QueryRow(ctx, sql, args...).Scan(&s); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return s
}

func TestSnapshotPoolConnectsWithRoleAndDisplaySettings(t *testing.T) {
	t.Parallel()
	dsn := pg.CreateDatabase(t)
	k := newKit(t)
	st := &statusRecorder{}
	view := NewView()
	p := spawnParent(t, k, ChildSpec(Config{Kit: k, Role: pgwire.RoleSnapshot, DSN: dsn, MaxConns: 3, View: view, Status: st.Spawn(t, k)}))
	eventually(t, "the pool to be published", func() bool { return view.Pool() != nil })
	eventually(t, "the parent to hear it is ready", func() bool { c, ok := p.Last(); return ok && c.OK })
	if c, _ := p.Last(); c.Name != CondSnapshotPool {
		t.Fatalf("condition %+v; want %s", c, CondSnapshotPool)
	}
	eventually(t, "status to hear it too", func() bool { return len(st.All()) == 1 && st.All()[0].OK })

	ctx := context.Background()
	pool := view.Pool()
	if got := pool.Config().MaxConns; got != 3 {
		t.Fatalf("MaxConns = %d", got)
	}
	checks := map[string]string{
		"SELECT current_setting('application_name')": "shapesync_snapshot",
		"SHOW DateStyle":          "ISO, DMY",
		"SHOW TimeZone":           "UTC",
		"SHOW bytea_output":       "hex",
		"SHOW extra_float_digits": "1",
		"SHOW IntervalStyle":      "iso_8601",
	}
	for sql, want := range checks {
		if got := queryRow(t, ctx, pool, sql); got != want {
			t.Errorf("%s = %q; want %q", sql, got, want)
		}
	}
}

func TestAdminPoolClosesItsConnectionsWhenStopped(t *testing.T) {
	t.Parallel()
	dsn := pg.CreateDatabase(t)
	k := newKit(t)
	view := NewView()
	p := spawnParent(t, k, ChildSpec(Config{Kit: k, Role: pgwire.RoleAdmin, DSN: dsn, View: view}))
	eventually(t, "the pool to be published", func() bool { return view.Pool() != nil })
	if c, _ := p.Last(); c.Name != protocol.CondDatabase || !c.OK {
		t.Fatalf("condition %+v", c)
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	db := queryRow(t, ctx, conn, "SELECT current_database()")
	admins := func() string {
		return queryRow(t, ctx, conn, "SELECT count(*)::text FROM pg_stat_activity WHERE datname = $1 AND application_name = 'shapesync_admin'", db)
	}
	if n := admins(); n == "0" {
		t.Fatal("no admin connection in pg_stat_activity")
	}
	k.Root().Send(k.System().NewLocalPID("conn-manager"), &stopChild{})
	eventually(t, "the owner to stop", p.ChildGone)
	if view.Pool() != nil {
		t.Fatal("the view still shows the pool after its owner stopped")
	}
	eventually(t, "the admin connections to close", func() bool { return admins() == "0" })
}

func TestPoolFailsWithAClassifiedErrorWhenItCannotConnect(t *testing.T) {
	t.Parallel()
	dsn := pg.Cluster(t).DSN("no_such_database")
	k := newKit(t)
	st := &statusRecorder{}
	view := NewView()
	p := spawnParent(t, k, ChildSpec(Config{Kit: k, Role: pgwire.RoleAdmin, DSN: dsn, View: view, Status: st.Spawn(t, k)}))
	eventually(t, "the owner to fail", func() bool { return p.Failure() != nil && p.ChildGone() })
	err, ok := p.Failure().(error)
	if !ok {
		t.Fatalf("failure %T %v is not an error", p.Failure(), p.Failure())
	}
	d := pgwire.Diagnose(err)
	if d.Class != pgwire.OperatorNeeded || d.SQLState != "3D000" || !strings.Contains(d.Remedy, "no_such_database") {
		t.Fatalf("diagnosis %v", d)
	}
	if !strings.Contains(err.Error(), "application_name=shapesync_admin") {
		t.Fatalf("error does not name the connection: %v", err)
	}
	c, _ := p.Last()
	if c.OK || c.Name != protocol.CondDatabase || !strings.Contains(c.Reason, "3D000") {
		t.Fatalf("parent heard %+v", c)
	}
	eventually(t, "status to hear the reason", func() bool { s := st.All(); return len(s) == 1 && !s[0].OK })
	if view.Pool() != nil {
		t.Fatal("a failed owner published a pool")
	}
}

func TestPoolPingReportsTheDatabaseGoingAndComingBack(t *testing.T) {
	t.Parallel()
	c := pgtest.Start(t, pgcluster.Options{})
	k := newKit(t)
	view := NewView()
	p := spawnParent(t, k, ChildSpec(Config{Kit: k, Role: pgwire.RoleAdmin, DSN: c.DSN("postgres"), View: view,
		PingEvery: 20 * time.Millisecond, PingTimeout: 2 * time.Second}))
	eventually(t, "ready", func() bool { l, ok := p.Last(); return ok && l.OK })
	ctx := context.Background()
	if err := c.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the ping to report the database gone", func() bool { l, _ := p.Last(); return !l.OK })
	if p.ChildGone() {
		t.Fatal("the owner must survive a failed ping (pgxpool reconnects)")
	}
	if err := c.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the ping to report it back", func() bool { l, _ := p.Last(); return l.OK })
	if view.Pool() == nil {
		t.Fatal("the view lost the pool")
	}
}
