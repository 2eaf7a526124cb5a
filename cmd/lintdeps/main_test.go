package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeModule writes a module with no external dependencies, so go list
// runs offline.
func writeModule(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	files["go.mod"] = "module example.com/synth\n\ngo 1.26\n"
	for name, content := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func offline(t *testing.T) {
	t.Setenv("GOPROXY", "off")
	t.Setenv("GOTOOLCHAIN", "local")
	t.Setenv("GOWORK", "off")
	t.Setenv("GOFLAGS", "")
}

func runOn(t *testing.T, dir string, extra ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(append([]string{"-C", dir, "-module", "example.com/synth"}, extra...), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestRejectsForbiddenImportsInARealModule(t *testing.T) {
	offline(t)
	dir := writeModule(t, map[string]string{
		// layer 0 importing layer 2
		"replication/lsn/lsn.go":            "package lsn\n\nimport _ \"example.com/synth/shapes/registry\"\n",
		"shapes/registry/registry.go":       "package registry\n",
		"http/api/api.go":                   "package api\n\nimport _ \"example.com/synth/replication/lsn\"\n",
		"replication/events/events.go":      "package events\n",
		"replication/events/events_test.go": "package events\n\nimport _ \"example.com/synth/shapes/registry\"\n", // test imports are exempt
		"stray/stray.go":                    "package stray\n",
		// the fault-hook build is checked too
		"actors/faults/faults.go":  "//go:build faults\n\npackage faults\n\nimport _ \"example.com/synth/supervisor\"\n",
		"supervisor/supervisor.go": "package supervisor\n",
		"cmd/synth/main.go":        "package main\n\nimport _ \"example.com/synth/supervisor\"\n\nfunc main() {}\n",
	})
	code, stdout, stderr := runOn(t, dir)
	if code != exitViolation {
		t.Fatalf("exit %d, want %d; stdout:\n%s\nstderr:\n%s", code, exitViolation, stdout, stderr)
	}
	want := []string{
		"replication/lsn: must not import shapes/registry (layer 0 (leaf) imports only the standard library and the layer-0 packages §2 names for it): replication/lsn -> shapes/registry",
		"stray: not in the layer table: add it to ARCHITECTURE §2 and to layerTable in cmd/lintdeps/table.go",
		// the tagged build's own findings come after the default build's
		"actors/faults: must not import supervisor (layer 0 (leaf) imports only the standard library and the layer-0 packages §2 names for it): actors/faults -> supervisor [-tags faults]",
	}
	got := strings.Split(strings.TrimSpace(stdout), "\n")
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("output:\n%s\nwant:\n%s", stdout, strings.Join(want, "\n"))
	}
	if stderr != "" {
		t.Errorf("stderr: %s", stderr)
	}
}

func TestCleanModuleIsSilent(t *testing.T) {
	offline(t)
	dir := writeModule(t, map[string]string{
		"replication/lsn/lsn.go":       "package lsn\n",
		"replication/events/events.go": "package events\n\nimport _ \"example.com/synth/replication/lsn\"\n",
		"http/api/api.go":              "package api\n\nimport _ \"example.com/synth/replication/events\"\n",
		"cmd/synth/main.go":            "package main\n\nimport _ \"example.com/synth/http/api\"\n\nfunc main() {}\n",
	})
	code, stdout, stderr := runOn(t, dir)
	if code != exitClean || stdout != "" || stderr != "" {
		t.Errorf("clean module: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

func TestBrokenPackageIsAFailureNotAPass(t *testing.T) {
	offline(t)
	dir := writeModule(t, map[string]string{
		"replication/lsn/lsn.go": "package lsn\n\nimport _ \"example.com/synth/shapes/missing\"\n",
	})
	code, stdout, stderr := runOn(t, dir)
	if code != exitFailure || stdout != "" || !strings.Contains(stderr, "shapes/missing") {
		t.Errorf("broken module: exit %d, stdout %q, stderr %q; want exit %d naming the missing package", code, stdout, stderr, exitFailure)
	}
}
