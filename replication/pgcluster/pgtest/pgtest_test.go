package pgtest

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"go.uber.org/goleak"

	"github.com/shapesync/shapesync/replication/pgcluster"
)

// pg is this binary's shared cluster; TestMain checks that Run removed it.
var pg Shared

func TestMain(m *testing.M) {
	code := pg.Run(m)
	if c := pg.cluster; c != nil {
		if err := gone(c.DataDir(), filepath.Dir(c.DataDir())); err != nil {
			fmt.Fprintf(os.Stderr, "after Shared.Run: %v\n", err)
			code = 1
		}
	}
	if err := goleak.Find(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	os.Exit(code)
}

// gone checks that no server runs on dataDir and dir no longer exists.
func gone(dataDir, dir string) error {
	if pids, err := pgcluster.ServerPIDs(dataDir); err != nil || len(pids) > 0 {
		return fmt.Errorf("server processes %v (%v) still running on %s", pids, err, dataDir)
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s still there (%v)", dir, err)
	}
	return nil
}

func query(t *testing.T, dsn, sql string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var s string
	if err := conn.QueryRow(ctx, sql).Scan(&s); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return s
}

func TestStartDestroysAtCleanup(t *testing.T) {
	t.Parallel()
	var dataDir string
	var pid int
	t.Run("uses a cluster", func(t *testing.T) {
		c := Start(t, pgcluster.Options{})
		dataDir, pid = c.DataDir(), c.PID()
		if got := query(t, c.DSN("postgres"), "SHOW wal_level"); got != "logical" {
			t.Errorf("wal_level = %q", got)
		}
	})
	if err := gone(dataDir, filepath.Dir(dataDir)); err != nil {
		t.Error(err)
	}
	if _, err := os.FindProcess(pid); err == nil && pidAlive(pid) {
		t.Errorf("postmaster %d alive after the test's cleanup", pid)
	}
}

func pidAlive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := strings.LastIndexByte(string(b), ')')
	return i > 0 && i+2 < len(b) && b[i+2] != 'Z'
}

// helperEnv makes TestHelperProcess, run in a child test binary, start a
// cluster, write "<pid> <data dir>" to the file it names, and then fail in
// the way helperModeEnv says. Without it TestHelperProcess does nothing
// (the os/exec idiom for re-executing the test binary).
const (
	helperEnv     = "PGTEST_HELPER_OUT"
	helperModeEnv = "PGTEST_HELPER_MODE"
)

func TestHelperProcess(t *testing.T) {
	out := os.Getenv(helperEnv)
	if out == "" {
		return
	}
	c := Start(t, pgcluster.Options{})
	if err := os.WriteFile(out, fmt.Appendf(nil, "%d %s\n", c.PID(), c.DataDir()), 0o644); err != nil {
		t.Fatal(err)
	}
	switch os.Getenv(helperModeEnv) {
	case "panic":
		panic("helper panics on purpose")
	default:
		t.Fatal("helper fails on purpose")
	}
}

func TestClusterRemovedAfterFailingTest(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"fail", "panic"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			out := filepath.Join(t.TempDir(), "cluster")
			child := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1", "-test.v")
			child.Env = append(os.Environ(), helperEnv+"="+out, helperModeEnv+"="+mode)
			output, err := child.CombinedOutput()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() == 0 {
				t.Fatalf("helper test should fail, got %v:\n%s", err, output)
			}
			if !strings.Contains(string(output), "on purpose") {
				t.Errorf("helper output lacks its failure:\n%s", output)
			}
			// The testing package drops what a cleanup logs while a panic
			// unwinds, so only a plain failure shows the server log.
			if mode == "fail" && !strings.Contains(string(output), "pgtest: server log of") {
				t.Errorf("failed helper test did not log the server output:\n%s", output)
			}
			b, err := os.ReadFile(out)
			if err != nil {
				t.Fatalf("helper did not report its cluster: %v\n%s", err, output)
			}
			var pid int
			var dataDir string
			if _, err := fmt.Sscanf(string(b), "%d %s", &pid, &dataDir); err != nil {
				t.Fatalf("helper reported %q: %v", b, err)
			}
			if pidAlive(pid) {
				t.Errorf("postmaster %d of the failed test still running", pid)
			}
			if err := gone(dataDir, filepath.Dir(dataDir)); err != nil {
				t.Errorf("after the failed test: %v", err)
			}
		})
	}
}

func TestCreateDatabaseIsolatesAndDrops(t *testing.T) {
	t.Parallel()
	c := pg.Cluster(t)
	if pg.Cluster(t) != c {
		t.Fatal("Shared.Cluster returned a second cluster")
	}
	var names []string
	for _, sub := range []string{"first", "second"} {
		t.Run(sub, func(t *testing.T) {
			dsn := pg.CreateDatabase(t)
			name := query(t, dsn, "SELECT current_database()")
			names = append(names, name)
			if n := query(t, dsn, "SELECT count(*)::text FROM pg_class WHERE relname = 'mine'"); n != "0" {
				t.Errorf("database %s is not fresh: table mine exists", name)
			}
			ctx := context.Background()
			conn, err := pgx.Connect(ctx, dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close(ctx)
			if _, err := conn.Exec(ctx, "CREATE TABLE mine (v int)"); err != nil {
				t.Fatal(err)
			}
		})
	}
	if len(names) != 2 || names[0] == names[1] {
		t.Fatalf("database names %v, want two distinct", names)
	}
	n := query(t, c.DSN("postgres"), fmt.Sprintf("SELECT count(*)::text FROM pg_database WHERE datname IN ('%s', '%s')", names[0], names[1]))
	if n != "0" {
		t.Errorf("%s of the databases survived their tests' cleanup", n)
	}
}

func TestDatabaseName(t *testing.T) {
	t.Parallel()
	valid := regexp.MustCompile(`^t_[a-z0-9_]+_[0-9a-f]{12}$`)
	long := strings.Repeat("TestSomething/With Spaces/and-Ünïcode", 5)
	a, b := databaseName(long), databaseName(long)
	if a == b {
		t.Errorf("two names for one test are equal: %s", a)
	}
	for _, n := range []string{a, b, databaseName("TestX")} {
		if len(n) > 63 || !valid.MatchString(n) {
			t.Errorf("databaseName = %q: want at most 63 bytes matching %s", n, valid)
		}
	}
}
