package snapshot

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.uber.org/goleak"

	"github.com/shapesync/shapesync/replication/events"
	"github.com/shapesync/shapesync/replication/pgcluster/pgtest"
	"github.com/shapesync/shapesync/replication/pgwire"
)

// pg is the cluster this package's tests share, one database per test.
//
// xmin and the creation of logical slots depend on every transaction of the
// cluster, so the tests that wait on them (straddle guard, pgoutput
// comparison) are not parallel: Go runs the sequential tests before it
// releases the parallel ones, and no parallel test then holds a
// transaction open under them.
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

// db is a fresh database with the test publication, an admin pool and a
// snapshot pool configured as production configures it.
type db struct {
	dsn   string
	admin *pgxpool.Pool
	snap  *pgxpool.Pool
}

func newDB(t *testing.T) *db {
	t.Helper()
	d := &db{dsn: pg.CreateDatabase(t)}
	d.admin = newPool(t, d.dsn, nil)
	d.snap = newSnapshotPool(t, d.dsn, 4)
	d.exec(t, "CREATE PUBLICATION "+testPub)
	return d
}

func newPool(t *testing.T, dsn string, edit func(*pgxpool.Config)) *pgxpool.Pool {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(cfg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// newSnapshotPool is a pool as the snapshot-pool owner builds it: role
// snapshot (application_name shapesync_snapshot) and ConfigurePool.
func newSnapshotPool(t *testing.T, dsn string, size int32) *pgxpool.Pool {
	t.Helper()
	return newPool(t, dsn, func(cfg *pgxpool.Config) {
		pgwire.ApplyRole(&cfg.ConnConfig.Config, pgwire.RoleSnapshot, pgwire.DialOptions{})
		cfg.MaxConns = size
		ConfigurePool(cfg)
	})
}

func (d *db) exec(t *testing.T, sql string, args ...any) {
	t.Helper()
	if _, err := d.admin.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func (d *db) lookup(t *testing.T, schema, name string) *events.Table {
	t.Helper()
	tb, err := LookupTable(context.Background(), d.admin, schema, name)
	if err != nil {
		t.Fatalf("LookupTable(%q, %q): %v", schema, name, err)
	}
	return tb
}

func (d *db) queryString(t *testing.T, sql string, args ...any) string {
	t.Helper()
	var s string
	if err := d.admin.QueryRow(context.Background(), sql, args...).Scan(&s); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return s
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

func allColumns(t *events.Table) []int {
	out := make([]int, len(t.Columns))
	for i := range out {
		out[i] = i
	}
	return out
}
