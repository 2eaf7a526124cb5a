package pgcluster

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	if os.Getenv(childEnvVar) != "" {
		runChild() // never returns
	}
	goleak.VerifyTestMain(m)
}

func TestStartIsLogicalUTF8AndPrivate(t *testing.T) {
	t.Parallel()
	c := startCluster(t, Options{})
	dsn := c.DSN("postgres")
	if want := fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", c.Port()); dsn != want {
		t.Errorf("DSN = %q, want %q", dsn, want)
	}
	for setting, want := range map[string]string{
		"wal_level":               "logical",
		"server_encoding":         "UTF8",
		"lc_collate":              "C",
		"max_wal_senders":         "10",
		"max_replication_slots":   "10",
		"listen_addresses":        "127.0.0.1",
		"unix_socket_directories": c.SocketDir(),
		"data_directory":          c.DataDir(),
	} {
		if got := queryString(t, dsn, "SELECT current_setting($1)", setting); got != want {
			t.Errorf("%s = %q, want %q", setting, got, want)
		}
	}
	run := filepath.Dir(c.DataDir())
	if fi, err := os.Stat(run); err != nil || fi.Mode().Perm() != 0o755 || filepath.Dir(run) != filepath.Clean(os.TempDir()) {
		t.Errorf("run dir %s: %v %v, want 0755 directly under %s", run, fi.Mode(), err, os.TempDir())
	}
	if os.Geteuid() == 0 {
		for _, d := range []string{c.DataDir(), c.SocketDir()} {
			fi, err := os.Stat(d)
			if err != nil {
				t.Fatal(err)
			}
			if uid := fi.Sys().(*syscall.Stat_t).Uid; uid != c.user.uid || fi.Mode().Perm() != 0o700 {
				t.Errorf("%s: owner %d mode %s, want the postgres user %d and 0700", d, uid, fi.Mode().Perm(), c.user.uid)
			}
		}
		if got := queryString(t, dsn, "SELECT current_setting('is_superuser') || ' ' || session_user"); got != "on postgres" {
			t.Errorf("session = %q", got)
		}
	}
}

func TestDestroyRemovesEverythingItCreated(t *testing.T) {
	t.Parallel()
	c, err := Start(testCtx(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	pid, data := c.PID(), c.DataDir()
	if pid == 0 {
		t.Fatal("PID = 0 for a running cluster")
	}
	if err := c.Destroy(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Dir(data)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("run dir after Destroy: %v, want it gone", err)
	}
	if processAlive(pid) {
		t.Errorf("postmaster %d alive after Destroy", pid)
	}
	if err := c.Destroy(testCtx(t)); err != nil {
		t.Errorf("second Destroy: %v", err)
	}
	if err := c.Restart(testCtx(t)); !errors.Is(err, ErrDestroyed) {
		t.Errorf("Restart after Destroy = %v, want ErrDestroyed", err)
	}
}

func TestRestartKeepsData(t *testing.T) {
	t.Parallel()
	c := startCluster(t, Options{})
	execSQL(t, c.DSN("postgres"), "CREATE TABLE kept (v text)", "INSERT INTO kept VALUES ('before restart')")
	before := c.PID()
	if err := c.Restart(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	if c.PID() == before || processAlive(before) {
		t.Errorf("postmaster %d still the server after Restart (now %d)", before, c.PID())
	}
	if got := queryString(t, c.DSN("postgres"), "SELECT v FROM kept"); got != "before restart" {
		t.Errorf("after Restart: %q", got)
	}
}

func TestKillLeavesNoServerProcess(t *testing.T) {
	t.Parallel()
	c := startCluster(t, Options{})
	execSQL(t, c.DSN("postgres"), "CREATE TABLE crash (v int)", "INSERT INTO crash VALUES (42)")
	// An open session adds a client backend to the processes to kill.
	ctx := testCtx(t)
	conn := connect(t, c.DSN("postgres"))
	defer conn.Close(ctx)
	pids, err := ServerPIDs(c.DataDir())
	if err != nil {
		t.Fatal(err)
	}
	if len(pids) < 3 || !slices.Contains(pids, c.PID()) {
		t.Fatalf("ServerPIDs = %v, want the postmaster %d and its children", pids, c.PID())
	}
	if err := c.Kill(); err != nil {
		t.Fatal(err)
	}
	for _, pid := range pids {
		if processAlive(pid) {
			t.Errorf("process %d of the cluster alive after Kill", pid)
		}
	}
	if left, _ := ServerPIDs(c.DataDir()); len(left) > 0 {
		t.Errorf("ServerPIDs after Kill = %v", left)
	}
	if c.PID() != 0 {
		t.Errorf("PID after Kill = %d", c.PID())
	}
	// Crash recovery brings the committed row back.
	if err := c.Restart(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	if got := queryString(t, c.DSN("postgres"), "SELECT v::text FROM crash"); got != "42" {
		t.Errorf("after Kill and Restart: %q", got)
	}
}

func TestGivenDirIsReusedAndKept(t *testing.T) {
	t.Parallel()
	dir := traversableTempDir(t)
	c1, err := Start(testCtx(t), Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	execSQL(t, c1.DSN("postgres"), "CREATE TABLE survivor (v text)", "INSERT INTO survivor VALUES ('first run')")
	if err := c1.Destroy(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "PG_VERSION")); err != nil {
		t.Fatalf("given data dir after Destroy: %v", err)
	}
	c2 := startCluster(t, Options{Dir: dir})
	if got := queryString(t, c2.DSN("postgres"), "SELECT v FROM survivor"); got != "first run" {
		t.Errorf("second run reads %q", got)
	}
	const initdbSays = "The files belonging to this database system"
	if !strings.Contains(c1.ServerLog(), initdbSays) {
		t.Errorf("first start did not run initdb:\n%s", c1.ServerLog())
	}
	if strings.Contains(c2.ServerLog(), initdbSays) {
		t.Errorf("second start ran initdb:\n%s", c2.ServerLog())
	}
}

func TestSettingsAndSetAndRestart(t *testing.T) {
	t.Parallel()
	c := startCluster(t, Options{Settings: map[string]string{"wal_sender_timeout": "7s", "max_wal_senders": "12"}})
	dsn := c.DSN("postgres")
	if got := queryString(t, dsn, "SHOW wal_sender_timeout"); got != "7s" {
		t.Errorf("wal_sender_timeout = %q, want 7s", got)
	}
	if got := queryString(t, dsn, "SHOW max_wal_senders"); got != "12" {
		t.Errorf("max_wal_senders = %q, want 12", got)
	}
	if err := c.SetAndRestart(testCtx(t), map[string]string{"wal_sender_timeout": "9s"}); err != nil {
		t.Fatal(err)
	}
	if got := queryString(t, dsn, "SHOW wal_sender_timeout"); got != "9s" {
		t.Errorf("after SetAndRestart wal_sender_timeout = %q, want 9s", got)
	}
	if got := queryString(t, dsn, "SHOW max_wal_senders"); got != "12" {
		t.Errorf("SetAndRestart lost max_wal_senders: %q", got)
	}
	err := c.SetAndRestart(testCtx(t), map[string]string{"wal_sender_timeout": "not-a-duration"})
	if err == nil || !strings.Contains(err.Error(), "wal_sender_timeout") {
		t.Fatalf("bad value: err = %v, want the server's complaint about wal_sender_timeout", err)
	}
	if got := queryString(t, dsn, "SHOW wal_sender_timeout"); got != "9s" {
		t.Errorf("after a rejected value wal_sender_timeout = %q, want the previous 9s", got)
	}
}

func TestOptionsRejectedBeforeAnythingStarts(t *testing.T) {
	t.Parallel()
	for name, o := range map[string]Options{
		"managed port":     {Settings: map[string]string{"port": "5432"}},
		"managed sockets":  {Settings: map[string]string{"Unix_Socket_Directories": "/tmp"}},
		"stop mode":        {StopMode: "smart"},
		"wal segment size": {WalSegSizeMB: 3},
		"start lsn":        {StartLSN: "nonsense"},
	} {
		if _, err := Start(testCtx(t), o); err == nil {
			t.Errorf("%s: Start accepted %+v", name, o)
		}
	}
}

func TestStartLSNAndWalSegmentSize(t *testing.T) {
	t.Parallel()
	c := startCluster(t, Options{StartLSN: "2/500000", WalSegSizeMB: 1})
	dsn := c.DSN("postgres")
	if got := queryString(t, dsn, "SHOW wal_segment_size"); got != "1MB" {
		t.Errorf("wal_segment_size = %q, want 1MB", got)
	}
	if got := queryString(t, dsn, "SELECT (pg_current_wal_lsn() >= '2/500000'::pg_lsn)::text"); got != "true" {
		t.Errorf("current WAL LSN %s is below StartLSN 2/500000", queryString(t, dsn, "SELECT pg_current_wal_lsn()::text"))
	}
}

func TestImmediateStopNeedsRecovery(t *testing.T) {
	t.Parallel()
	c := startCluster(t, Options{StopMode: StopImmediate})
	execSQL(t, c.DSN("postgres"), "CREATE TABLE imm (v int)", "INSERT INTO imm VALUES (7)")
	if err := c.Stop(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	if err := c.Restart(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(c.ServerLog(), "automatic recovery in progress") {
		t.Errorf("no crash recovery after an immediate stop; log:\n%s", c.ServerLog())
	}
	if got := queryString(t, c.DSN("postgres"), "SELECT v::text FROM imm"); got != "7" {
		t.Errorf("after recovery: %q", got)
	}
}

func TestRestartMovesOffATakenPort(t *testing.T) {
	t.Parallel()
	c := startCluster(t, Options{})
	if err := c.Stop(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	old := c.Port()
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", old))
	if err != nil {
		t.Fatalf("taking the cluster's port %d: %v", old, err)
	}
	defer l.Close()
	if err := c.Restart(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	if c.Port() == old {
		t.Fatalf("Restart kept the taken port %d", old)
	}
	if got := queryString(t, c.DSN("postgres"), "SHOW port"); got != fmt.Sprint(c.Port()) {
		t.Errorf("server port %s, Port() %d", got, c.Port())
	}
}

func TestFixedPortInUseFails(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	_, err = Start(testCtx(t), Options{Port: port})
	if err == nil || !strings.Contains(err.Error(), fmt.Sprint(port)) {
		t.Fatalf("Start on a taken fixed port: %v, want an error naming port %d", err, port)
	}
}

func TestMissingBinariesNameTheDebianPackage(t *testing.T) {
	empty := t.TempDir()
	_, err := Start(context.Background(), Options{BinDir: empty})
	if !errors.Is(err, ErrNoBinaries) || !strings.Contains(err.Error(), "apt-get install -y postgresql") {
		t.Errorf("Start with an empty BinDir: %v", err)
	}
	t.Setenv(BinDirEnv, empty)
	_, err = FindBinaries()
	if !errors.Is(err, ErrNoBinaries) || !strings.Contains(err.Error(), "apt-get install -y postgresql") || !strings.Contains(err.Error(), empty) {
		t.Errorf("FindBinaries with %s=%s: %v", BinDirEnv, empty, err)
	}
	_, err = Start(context.Background(), Options{})
	if !errors.Is(err, ErrNoBinaries) {
		t.Errorf("Start with %s=%s: %v", BinDirEnv, empty, err)
	}
}

func TestFindBinariesOnThisMachine(t *testing.T) {
	dir, err := FindBinaries()
	if err != nil {
		t.Fatal(err)
	}
	if err := checkBinDir(dir); err != nil {
		t.Errorf("FindBinaries returned %s: %v", dir, err)
	}
}

// An expiring context stops Start promptly and leaves nothing behind. Not
// parallel, so no other test of this binary creates run directories
// meanwhile.
func TestStartHonoursContext(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	before, _ := filepath.Glob(filepath.Join(os.TempDir(), runDirPattern))
	began := time.Now()
	_, err := Start(ctx, Options{})
	if err == nil {
		t.Fatal("Start finished within 50ms; the test needs a slower start")
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Start with an expiring context: %v, want context.DeadlineExceeded", err)
	}
	if took := time.Since(began); took > 10*time.Second {
		t.Errorf("Start took %s after its context expired", took)
	}
	after, _ := filepath.Glob(filepath.Join(os.TempDir(), runDirPattern))
	for _, d := range after {
		// Other test binaries (other packages) may be creating their own.
		owner, _ := os.ReadFile(filepath.Join(d, ownerFile))
		if !slices.Contains(before, d) && strings.HasPrefix(string(owner), fmt.Sprintf("%d ", os.Getpid())) {
			t.Errorf("failed Start left %s", d)
		}
	}
}
