package faultbin

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/shapesync/shapesync/actors/faults"
)

func TestMain(m *testing.M) {
	code := m.Run()
	Cleanup()
	os.Exit(code)
}

func run(t *testing.T, spec string) (string, int) {
	t.Helper()
	bin := Build(t, "./testdata/crasher")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := Command(ctx, bin, spec).Output()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return string(out), 0
	case errors.As(err, &exit):
		return string(out), exit.ExitCode()
	}
	t.Fatal(err)
	return "", 0
}

func TestTaggedBinaryExitsAtTheFaultPoint(t *testing.T) {
	out, code := run(t, "demo.point:exit@2")
	if code != faults.ExitCode || out != "hit 1 ok\n" {
		t.Fatalf("exit %d, output %q; want exit %d after the first hit", code, out, faults.ExitCode)
	}
}

func TestTaggedBinaryInjectsErrors(t *testing.T) {
	out, code := run(t, "demo.point:error@3")
	if code != 0 || !strings.Contains(out, "hit 2 ok\nhit 3 error: fault point demo.point: injected fault") {
		t.Fatalf("exit %d, output %q", code, out)
	}
}

func TestBuildIsCachedPerPackage(t *testing.T) {
	if a, b := Build(t, "./testdata/crasher"), Build(t, "./testdata/crasher"); a != b {
		t.Fatalf("built twice: %s, %s", a, b)
	}
}
