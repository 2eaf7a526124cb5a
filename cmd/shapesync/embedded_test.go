package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestEmbeddedModeRunsAndStopsClean is the acceptance of `make run`: the
// binary without DATABASE_URL starts its own Postgres, answers health, and
// on SIGINT stops itself and that Postgres, leaving no process behind; a
// second run reuses the data directory.
func TestEmbeddedModeRunsAndStopsClean(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "shapesync")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	// The postgres user must be able to traverse the working directory, and
	// t.TempDir() is 0700: make a 0755 one.
	work, err := os.MkdirTemp("", "shapesync-embedded-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(work) })
	if err := os.Chmod(work, 0o755); err != nil {
		t.Fatal(err)
	}

	for run := 1; run <= 2; run++ {
		port := freePort(t)
		var stdout, stderr lockedBuffer
		cmd := exec.Command(bin)
		cmd.Dir = work
		cmd.Env = append(filteredEnv(), "ELECTRIC_PORT="+strconv.Itoa(port), "ELECTRIC_ADMIN_PORT=0")
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()

		var health map[string]string
		deadline := time.Now().Add(30 * time.Second)
		for {
			resp, err := http.Get("http://127.0.0.1:" + strconv.Itoa(port) + "/v1/health")
			if err == nil {
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err := json.Unmarshal(body, &health); err != nil {
					t.Fatalf("run %d: health body %q is not JSON: %v", run, body, err)
				}
				break
			}
			if time.Now().After(deadline) {
				_ = cmd.Process.Kill()
				t.Fatalf("run %d: no health answer within 30 s: %v\nstderr:\n%s", run, err, stderr.String())
			}
			time.Sleep(100 * time.Millisecond)
		}
		if health["status"] == "" {
			t.Fatalf("run %d: health has no status: %v", run, health)
		}
		// The curl commands are printed once the listener is up, which may
		// be just after health first answers.
		for end := time.Now().Add(5 * time.Second); !strings.Contains(stdout.String(), "curl") && time.Now().Before(end); {
			time.Sleep(20 * time.Millisecond)
		}
		if !strings.Contains(stdout.String(), "curl") {
			t.Fatalf("run %d: embedded mode printed no curl commands:\n%s", run, stdout.String())
		}
		pmPID := postmasterPID(t, work)

		if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-exited:
			if err != nil {
				t.Fatalf("run %d: exit after SIGINT: %v\nstderr:\n%s", run, err, stderr.String())
			}
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			t.Fatalf("run %d: still running 30 s after SIGINT\nstderr:\n%s", run, stderr.String())
		}
		if processAlive(pmPID) {
			t.Fatalf("run %d: the embedded postmaster (pid %d) survived shapesync", run, pmPID)
		}
	}
	if _, err := os.Stat(filepath.Join(work, ".shapesync", "pg", "PG_VERSION")); err != nil {
		t.Fatalf("embedded data directory not kept under ./.shapesync/pg: %v", err)
	}
}

// lockedBuffer collects a child's output while the test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// filteredEnv drops variables that would take the binary out of embedded
// mode or change its storage.
func filteredEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "DATABASE_") || strings.HasPrefix(kv, "ELECTRIC_") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// postmasterPID reads the embedded cluster's postmaster.pid while it runs.
func postmasterPID(t *testing.T, work string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(work, ".shapesync", "pg", "postmaster.pid"))
	if err != nil {
		t.Fatalf("read postmaster.pid: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0]))
	if err != nil {
		t.Fatalf("parse postmaster.pid: %v", err)
	}
	return pid
}

func processAlive(pid int) bool {
	_, err := os.Stat("/proc/" + strconv.Itoa(pid))
	return err == nil
}
