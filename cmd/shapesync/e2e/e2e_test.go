// Package e2e_test checks shapesync end to end with the official TypeScript
// client, @electric-sql/client from the npm registry, pinned by the
// package-lock.json in this folder (`npm ci` there; `make test` does it).
// The Go side owns the processes: a private Postgres, the shapesync binary
// and the Node script; the script owns the client-side assertions.
package e2e_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/shapesync/shapesync/chaos/service"
	"github.com/shapesync/shapesync/replication/pgcluster"
	"github.com/shapesync/shapesync/replication/pgcluster/pgtest"
)

// The binaries built by this test binary; test files may hold such state.
var builds service.Builds

func TestMain(m *testing.M) {
	code := m.Run()
	if err := builds.Close(); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	os.Exit(code)
}

const (
	// initialRows is the size of the table before the client connects.
	initialRows = 10000
	// chunkBytes is the service's chunk size threshold. Small enough that
	// the snapshot spans several chunks (so the client's chunk-by-chunk
	// catch-up and prefetch are exercised), big enough that the changes the
	// script makes stay inside one change chunk: a chunk may end inside a
	// transaction (SHAPE_API §8), and the client reports a state at such a
	// boundary, which would look like a half-applied transaction.
	chunkBytes = 1 << 20
	// nodeTimeout bounds the script; it normally takes well under a minute.
	nodeTimeout = 150 * time.Second
	// minNodeMajor is the oldest Node the client and the script support.
	minNodeMajor = 20
)

// createTableSQL and fillTableSQL make the table the script follows. The
// values vary on every column: NULLs, negative numbers, quotes,
// backslashes, tabs and newlines, non-ASCII and astral-plane characters,
// the string "NULL", and arrays that are empty, NULL, or hold NULLs and
// characters the array syntax must quote.
const (
	createTableSQL = `CREATE TABLE e2e_items (
		id int8 PRIMARY KEY,
		title text NOT NULL,
		n int4,
		done bool,
		price numeric(10,2),
		tags text[])`
	fillTableSQL = `INSERT INTO e2e_items (id, title, n, done, price, tags)
		SELECT g,
			format('row %s %s', g, (ARRAY['plain', 'it''s "quoted"', 'back\slash \\ two',
				'ünïcödé ✓ 日本語', 'emoji 🚀', E'tab\tnew\nline', '{x,"y"}', 'NULL', ''])[1 + g % 9]),
			CASE WHEN g % 7 = 0 THEN NULL ELSE (g * 37) % 2001 - 1000 END,
			CASE g % 3 WHEN 0 THEN true WHEN 1 THEN false END,
			CASE WHEN g % 11 = 0 THEN NULL ELSE ((g * 7919) % 2000000 - 1000000)::numeric / 100 END,
			CASE g % 6
				WHEN 0 THEN NULL
				WHEN 1 THEN '{}'::text[]
				WHEN 2 THEN ARRAY['a', 'b' || g]
				WHEN 3 THEN ARRAY['with space', 'com,ma', 'quo"te', 'back\slash', 'NULL', NULL, '']
				WHEN 4 THEN ARRAY['{br}', 'ü']
				ELSE ARRAY[]::text[] || ('t' || g)
			END
		FROM generate_series(1, $1::int) AS g`
)

// TestOfficialClientWholeTable follows a whole-table shape with the official
// client through an initial sync of 10,000 rows and 1,000 random changes in
// 100 transactions; whole_table.mjs says what it checks.
func TestOfficialClientWholeTable(t *testing.T) {
	dir, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	node := requireNode(t)
	requireNodeModules(t, dir)

	cluster := pgtest.Start(t, pgcluster.Options{})
	dsn := cluster.DSN("postgres")
	fillTable(t, dsn)

	bin := builds.Build(t, service.BuildOptions{})
	svc := service.Start(t, bin, service.Options{
		Env: map[string]string{
			"DATABASE_URL":                         dsn,
			"ELECTRIC_REPLICATION_STREAM_ID":       "e2e",
			"ELECTRIC_SHAPE_CHUNK_BYTES_THRESHOLD": strconv.Itoa(chunkBytes),
			"ELECTRIC_LOG_LEVEL":                   "info",
		},
		StorageDir: t.TempDir(),
	})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := svc.WaitHealthy(ctx, 200); err != nil {
		t.Fatalf("shapesync did not become active: %v", err)
	}

	seed := os.Getenv("E2E_SEED") // the one knob: replay a failed run
	if seed == "" {
		seed = strconv.FormatInt(time.Now().UnixNano()%100000, 10)
	}
	t.Logf("E2E_SEED=%s (set it to replay this run)", seed)

	ctx, cancel = context.WithTimeout(context.Background(), nodeTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "whole_table.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"SHAPESYNC_URL="+svc.URL(),
		"DATABASE_URL="+dsn,
		"E2E_SEED="+seed,
		"E2E_TABLE=e2e_items",
		"E2E_ROWS="+strconv.Itoa(initialRows),
		"E2E_TXNS=100",
		"E2E_OPS=1000",
		"E2E_WAIT_MS=60000", // per wait for the client; a healthy run needs milliseconds
	)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	cmd.WaitDelay = 5 * time.Second
	start := time.Now()
	err = cmd.Run()
	took := time.Since(start).Round(100 * time.Millisecond)
	switch {
	case ctx.Err() != nil:
		t.Fatalf("node whole_table.mjs did not finish within %v (E2E_SEED=%s); its output:\n%s", nodeTimeout, seed, out.String())
	case err != nil:
		t.Fatalf("node whole_table.mjs failed after %v (%v, E2E_SEED=%s); its output:\n%s", took, err, seed, out.String())
	}
	t.Logf("node whole_table.mjs passed in %v:\n%s", took, out.String())
}

// requireNode finds node on PATH and checks its major version.
func requireNode(t *testing.T) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node not found on PATH: install Node %d or newer (https://nodejs.org) to run the end-to-end test with the official client: %v", minNodeMajor, err)
	}
	v, err := exec.Command(node, "--version").Output()
	if err != nil {
		t.Fatalf("%s --version: %v", node, err)
	}
	m := regexp.MustCompile(`^v(\d+)\.`).FindSubmatch(bytes.TrimSpace(v))
	if m == nil {
		t.Fatalf("%s --version printed %q; want vMAJOR.MINOR.PATCH", node, v)
	}
	if major, _ := strconv.Atoi(string(m[1])); major < minNodeMajor {
		t.Fatalf("%s is Node %s; install Node %d or newer", node, bytes.TrimSpace(v), minNodeMajor)
	}
	return node
}

// requireNodeModules checks the locked client is installed next to the script.
func requireNodeModules(t *testing.T, dir string) {
	t.Helper()
	for _, pkg := range []string{"@electric-sql/client", "pg"} {
		manifest := filepath.Join(dir, "node_modules", pkg, "package.json")
		if _, err := os.Stat(manifest); err != nil {
			if errors.Is(err, os.ErrNotExist) {
				t.Fatalf("%s is not installed: run `npm ci` in %s (`make test` does it)", pkg, dir)
			}
			t.Fatal(err)
		}
	}
}

// fillTable creates the table and its initial rows in one transaction.
func fillTable(t *testing.T, dsn string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close(context.Background()) }()
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, createTableSQL); err != nil {
			return fmt.Errorf("creating the table: %w", err)
		}
		if _, err := tx.Exec(ctx, fillTableSQL, initialRows); err != nil {
			return fmt.Errorf("filling the table: %w", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
