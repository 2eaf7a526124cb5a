// Package faultbin is a test helper: it builds a program with the build
// tag "faults" once per test process and starts it as a child process
// with SHAPESYNC_FAULTS set (ARCHITECTURE §4 (i)). Import it only from
// _test.go files; like every test helper it may keep package-level state
// (the build cache).
package faultbin

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/shapesync/shapesync/actors/faults"
)

// built caches binaries per package for the whole test process.
var built struct {
	mu   sync.Mutex
	dir  string
	bins map[string]string
}

// Build compiles pkg (an import path, or a directory relative to the
// test's working directory) with -tags faults and returns the binary's
// path; later calls for the same pkg reuse it. Call Cleanup from TestMain
// to remove the binaries.
func Build(t testing.TB, pkg string) string {
	t.Helper()
	built.mu.Lock()
	defer built.mu.Unlock()
	if bin, ok := built.bins[pkg]; ok {
		return bin
	}
	if built.dir == "" {
		dir, err := os.MkdirTemp("", "shapesync-faultbin-")
		if err != nil {
			t.Fatalf("faultbin: %v", err)
		}
		built.dir, built.bins = dir, make(map[string]string)
	}
	name := strings.NewReplacer("/", "_", ".", "_").Replace(pkg)
	bin := filepath.Join(built.dir, name)
	cmd := exec.Command(goTool(), "build", "-tags", "faults", "-o", bin, pkg)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("faultbin: go build -tags faults %s: %v\n%s", pkg, err, out)
	}
	built.bins[pkg] = bin
	return bin
}

// Command prepares bin to run with SHAPESYNC_FAULTS=spec in addition to
// the test's environment.
func Command(ctx context.Context, bin, spec string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), faults.EnvVar+"="+spec)
	return cmd
}

// Cleanup removes every binary Build produced.
func Cleanup() {
	built.mu.Lock()
	defer built.mu.Unlock()
	if built.dir != "" {
		_ = os.RemoveAll(built.dir)
		built.dir, built.bins = "", nil
	}
}

// goTool is the go command of the running toolchain's PATH (go test put
// it there).
func goTool() string { return "go" }
