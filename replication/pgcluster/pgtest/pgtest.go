package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/shapesync/shapesync/replication/pgcluster"
)

// Timeouts for cluster operations made on a test's behalf.
const (
	startTimeout = 2 * time.Minute
	opTimeout    = 30 * time.Second
)

// Start starts a cluster for t and destroys it in t.Cleanup, whether the test
// passes, fails or panics. It fails t if the cluster does not start.
func Start(t testing.TB, o pgcluster.Options) *pgcluster.Cluster {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	c, err := pgcluster.Start(ctx, o)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("pgtest: server log of %s:\n%s", c.DataDir(), c.ServerLog())
		}
		ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
		defer cancel()
		if err := c.Destroy(ctx); err != nil {
			t.Errorf("pgtest: %v", err)
		}
	})
	return c
}

// CreateDatabase creates an empty database on c, named after the test,
// drops it in t.Cleanup, and returns its DSN.
func CreateDatabase(t testing.TB, c *pgcluster.Cluster) string {
	t.Helper()
	name := databaseName(t.Name())
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	if err := execAdmin(ctx, c, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("pgtest: create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		if c.PID() == 0 {
			return // the test stopped or killed the cluster: nothing to drop
		}
		ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
		defer cancel()
		if err := execAdmin(ctx, c, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	return c.DSN(name)
}

func execAdmin(ctx context.Context, c *pgcluster.Cluster, sql string) error {
	conn, err := pgx.Connect(ctx, c.DSN("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}

// databaseName is a valid, unique database name that says which test made
// it: lower-case test name (identifier characters only, shortened to fit
// Postgres's 63 bytes) plus a random suffix.
func databaseName(testName string) string {
	var b strings.Builder
	b.WriteString("t_")
	for _, r := range strings.ToLower(testName) {
		if b.Len() >= 44 {
			break
		}
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	suffix := make([]byte, 6)
	_, _ = rand.Read(suffix) // never fails (crypto/rand)
	b.WriteByte('_')
	b.WriteString(hex.EncodeToString(suffix))
	return b.String()
}

// Shared is one cluster for a whole test binary. Declare it in a _test.go
// file, set Options before Run if needed, and call Run from TestMain. The
// zero value is ready to use.
type Shared struct {
	Options pgcluster.Options

	once    sync.Once
	cluster *pgcluster.Cluster
	err     error
}

// Run runs the tests and then destroys the cluster if one was started. Its
// result is the exit code for os.Exit; a failed Destroy turns success into 1.
func (s *Shared) Run(m *testing.M) int {
	code := m.Run()
	s.once.Do(func() { s.err = fmt.Errorf("pgtest: Shared used after Run") })
	if s.cluster != nil {
		ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
		defer cancel()
		if err := s.cluster.Destroy(ctx); err != nil {
			fmt.Fprintf(os.Stderr, "pgtest: destroying the shared cluster: %v\n", err)
			if code == 0 {
				code = 1
			}
		}
	}
	return code
}

// Cluster returns the shared cluster, starting it on first use. A failed
// start fails every test that asks for it.
func (s *Shared) Cluster(t testing.TB) *pgcluster.Cluster {
	t.Helper()
	s.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
		defer cancel()
		s.cluster, s.err = pgcluster.Start(ctx, s.Options)
	})
	if s.err != nil {
		t.Fatalf("pgtest: shared cluster: %v", s.err)
	}
	return s.cluster
}

// CreateDatabase is CreateDatabase on the shared cluster.
func (s *Shared) CreateDatabase(t testing.TB) string {
	t.Helper()
	return CreateDatabase(t, s.Cluster(t))
}
