package pgcluster

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// childEnvVar makes the test binary, re-executed by
// TestCrashedOwnerLeavesNoServerAndIsSwept, act as a process that owns a
// cluster and then dies without cleaning up.
const childEnvVar = "PGCLUSTER_TEST_CRASH_CHILD"

// runChild starts a cluster, reports "<postmaster pid> <data dir>" on
// stdout and waits for stdin to close (or to be killed) without ever
// calling Destroy.
func runChild() {
	c, err := Start(context.Background(), Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	fmt.Printf("%d %s\n", c.PID(), c.DataDir())
	_, _ = io.Copy(io.Discard, os.Stdin)
	os.Exit(0)
}

func TestCrashedOwnerLeavesNoServerAndIsSwept(t *testing.T) {
	t.Parallel()
	child := exec.Command(os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), childEnvVar+"=1")
	child.Stderr = os.Stderr
	stdin, err := child.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	stdout, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		lines <- line
	}()
	var line string
	select {
	case line = <-lines:
	case <-time.After(60 * time.Second):
		_ = child.Process.Kill()
		<-lines
		t.Fatal("child did not report its cluster within 60s")
	}
	var pid int
	var dataDir string
	if _, err := fmt.Sscanf(line, "%d %s", &pid, &dataDir); err != nil {
		_ = child.Process.Kill()
		_ = child.Wait()
		t.Fatalf("child reported %q: %v", line, err)
	}
	if !processAlive(pid) {
		t.Fatalf("child's postmaster %d not running", pid)
	}

	// The owner dies the hardest way: no deferred call, no t.Cleanup.
	if err := child.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = child.Wait()
	checkFor(t, 15*time.Second, 20*time.Millisecond, func() error {
		if processAlive(pid) {
			return fmt.Errorf("postmaster %d still alive after its owner was killed", pid)
		}
		if pids, err := ServerPIDs(dataDir); err != nil || len(pids) > 0 {
			return fmt.Errorf("server processes %v (%v) of %s still alive", pids, err, dataDir)
		}
		return nil
	})

	runDir := filepath.Dir(dataDir)
	sweepStaleRunDirs(os.TempDir()) // what the next Start does
	if _, err := os.Stat(runDir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("run dir %s of the dead owner after a sweep: %v, want it removed", runDir, err)
	}
}

// A run directory whose owner is alive is never swept, even without a
// server in it.
func TestSweepKeepsLiveOwners(t *testing.T) {
	t.Parallel()
	u, err := currentServerUser()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := createRunDir(u)
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	sweepStaleRunDirs(os.TempDir())
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("sweep removed the live run dir %s: %v", dir, err)
	}
	// The same directory with a dead owner (PID reuse is caught by the start
	// time) goes.
	if err := os.WriteFile(filepath.Join(dir, ownerFile), fmt.Appendf(nil, "%d 1\n", os.Getpid()), 0o644); err != nil {
		t.Fatal(err)
	}
	sweepStaleRunDirs(os.TempDir())
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("run dir with a dead owner survived the sweep: %v", err)
	}
}
