package e2e_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// runNodeScript runs one of this folder's scripts with the official client
// and fails the test with the script's output if it fails or outlives
// nodeTimeout; env is added to the test's environment.
func runNodeScript(t *testing.T, script string, env ...string) {
	t.Helper()
	dir, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	node := requireNode(t)
	requireNodeModules(t, dir)
	ctx, cancel := context.WithTimeout(context.Background(), nodeTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, script)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	cmd.WaitDelay = 5 * time.Second
	err = cmd.Run()
	switch {
	case ctx.Err() != nil:
		t.Fatalf("node %s did not finish within %v; its output:\n%s", script, nodeTimeout, out.String())
	case err != nil:
		t.Fatalf("node %s failed (%v); its output:\n%s", script, err, out.String())
	}
	t.Logf("node %s passed:\n%s", script, out.String())
}
