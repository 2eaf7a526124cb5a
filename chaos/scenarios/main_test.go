package scenarios

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/shapesync/shapesync/chaos/service"
	"github.com/shapesync/shapesync/replication/pgcluster"
	"github.com/shapesync/shapesync/replication/pgcluster/pgtest"
)

// Test binaries and the shared cluster live for the whole test run; test
// files may hold such state (ARCHITECTURE §2).
var (
	builds  service.Builds
	pg      = pgtest.Shared{Options: pgcluster.Options{Settings: map[string]string{"wal_sender_timeout": "10s", "max_wal_senders": "20", "max_replication_slots": "20"}}}
	streams atomic.Int64
)

func TestMain(m *testing.M) {
	code := pg.Run(m)
	if err := builds.Close(); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	os.Exit(code)
}

// instance is one shapesync under test with its own database, stream id
// (slot and publication) and storage directory.
type instance struct {
	*service.Process
	DSN string
}

// startInstance builds the binary (once; with the faults tag when asked)
// and starts it on a fresh database, waiting until it is live.
func startInstance(t *testing.T, withFaults bool, env map[string]string) *instance {
	t.Helper()
	opts := service.BuildOptions{}
	if withFaults {
		opts.Tags = []string{"faults"}
	}
	bin := builds.Build(t, opts)
	dsn := pg.CreateDatabase(t)
	e := map[string]string{
		"DATABASE_URL":                   dsn,
		"ELECTRIC_REPLICATION_STREAM_ID": fmt.Sprintf("s%d_%d", os.Getpid(), streams.Add(1)),
		"ELECTRIC_LOG_LEVEL":             "info",
	}
	for k, v := range env {
		e[k] = v
	}
	p := service.Start(t, bin, service.Options{Env: e, StorageDir: t.TempDir()})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := p.WaitHealthy(ctx, 200); err != nil {
		t.Fatalf("shapesync did not become live: %v\n%s", err, p.Output())
	}
	return &instance{Process: p, DSN: dsn}
}

// connect opens a plain connection to the instance's database.
func connect(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	return c
}
