package publication

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.uber.org/goleak"

	"github.com/shapesync/shapesync/replication/events"
	"github.com/shapesync/shapesync/replication/pgcluster/pgtest"
)

// pg is the cluster this package's tests share; each test gets its own
// database. Roles are cluster-wide, so tests that make one give it a random
// name.
var pg pgtest.Shared

func TestMain(m *testing.M) {
	code := pg.Run(m)
	if err := goleak.Find(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	os.Exit(code)
}

const testPub = "electric_publication_test"

// fixture is a fresh database with the test publication and an admin
// connection to it.
type fixture struct {
	dsn   string
	admin *pgxpool.Pool // a pool, so parallel subtests can share it
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	dsn := pg.CreateDatabase(t)
	admin, err := pgxpool.New(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(admin.Close)
	f := &fixture{dsn: dsn, admin: admin}
	f.exec(t, "CREATE PUBLICATION "+testPub)
	return f
}

func connect(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// connectAs connects to the fixture's database as role.
func (f *fixture) connectAs(t *testing.T, role string) *pgx.Conn {
	t.Helper()
	cfg, err := pgx.ParseConfig(f.dsn)
	if err != nil {
		t.Fatal(err)
	}
	cfg.User = role
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func (f *fixture) exec(t *testing.T, sql string, args ...any) {
	t.Helper()
	if _, err := f.admin.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// table describes schema.name as the shape layer would (only the fields
// this package uses: OID and names).
func (f *fixture) table(t *testing.T, schema, name string) *events.Table {
	t.Helper()
	tb := &events.Table{Schema: schema, Name: name}
	err := f.admin.QueryRow(context.Background(), `
		SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = $1 AND c.relname = $2`, schema, name).Scan(&tb.OID)
	if err != nil {
		t.Fatalf("oid of %s.%s: %v", schema, name, err)
	}
	return tb
}

func (f *fixture) replident(t *testing.T, oid uint32) string {
	t.Helper()
	var s string
	if err := f.admin.QueryRow(context.Background(), "SELECT relreplident::text FROM pg_class WHERE oid = $1", oid).Scan(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

func (f *fixture) isMember(t *testing.T, oid uint32) bool {
	t.Helper()
	return f.isMemberOf(t, testPub, oid)
}

func (f *fixture) isMemberOf(t *testing.T, pub string, oid uint32) bool {
	t.Helper()
	var ok bool
	err := f.admin.QueryRow(context.Background(), `
		SELECT EXISTS (SELECT 1 FROM pg_publication_rel r JOIN pg_publication p ON p.oid = r.prpubid
		               WHERE p.pubname = $1 AND r.prrelid = $2)`, pub, oid).Scan(&ok)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

// newRole creates a login role with a random name and drops it (and what it
// owns in the fixture's database) when the test ends.
func (f *fixture) newRole(t *testing.T) string {
	t.Helper()
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	role := "r_" + hex.EncodeToString(b)
	f.exec(t, "CREATE ROLE "+role+" LOGIN")
	t.Cleanup(func() {
		ctx := context.Background()
		for _, sql := range []string{"REASSIGN OWNED BY " + role + " TO postgres", "DROP OWNED BY " + role, "DROP ROLE " + role} {
			if _, err := f.admin.Exec(ctx, sql); err != nil {
				t.Errorf("%s: %v", sql, err)
			}
		}
	})
	return role
}

// holdLock opens a transaction on its own connection that takes a lock by
// running sql, and returns a function ending it.
func holdLock(t *testing.T, dsn, sql string) (release func()) {
	t.Helper()
	conn := connect(t, dsn)
	ctx := context.Background()
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	done := false
	release = func() {
		if !done {
			done = true
			_ = tx.Rollback(ctx)
		}
	}
	t.Cleanup(release)
	return release
}

// checkFor polls fn until it returns nil, failing the test with fn's last
// error after timeout.
func checkFor(t *testing.T, timeout time.Duration, fn func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := fn()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %v", timeout, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
