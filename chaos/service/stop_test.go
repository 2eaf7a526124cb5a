package service_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/shapesync/shapesync/chaos/service"
)

func TestKillLeavesNoProcess(t *testing.T) {
	t.Parallel()
	p := service.Start(t, fakeBin(t), service.Options{})
	pid := p.PID()
	if procState(pid) == "" {
		t.Fatalf("pid %d not running after Start", pid)
	}
	p.Kill()
	// Kill reaps the child: not even a zombie remains.
	if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("after Kill, /proc/%d: %v (state %q), want it gone", pid, err, procState(pid))
	}
	if _, _, err := p.Health(ctxFor(t, time.Second)); err == nil {
		t.Errorf("Health answered after Kill")
	}
	if code, err := p.Term(); code != -1 || err == nil || !strings.Contains(err.Error(), "signal: killed") && !strings.Contains(err.Error(), "killed by signal killed") {
		t.Errorf("Term after Kill = %d, %v; want the SIGKILL exit", code, err)
	}
	p.Kill() // a second Kill is a no-op
}

func TestTermGracefulExitCode(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		env  map[string]string
		want int
	}{
		{"ok - exits 0", nil, 0},
		{"ok - reports a non-zero code", map[string]string{"FAKESERVICE_EXIT_CODE": "3"}, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := service.Start(t, fakeBin(t), service.Options{Env: tc.env})
			code, err := p.Term()
			if err != nil || code != tc.want {
				t.Fatalf("Term = %d, %v; want %d, nil", code, err, tc.want)
			}
			if !strings.Contains(p.Output(), "fakeservice: SIGTERM, exiting") {
				t.Errorf("the fake did not see SIGTERM:\n%s", p.Output())
			}
		})
	}
}

func TestTermKillsAfterStopTimeout(t *testing.T) {
	t.Parallel()
	p := service.Start(t, fakeBin(t), service.Options{
		Env:         map[string]string{"FAKESERVICE_IGNORE_TERM": "1"},
		StopTimeout: 300 * time.Millisecond,
	})
	pid := p.PID()
	start := time.Now()
	code, err := p.Term()
	if code != -1 || err == nil || !strings.Contains(err.Error(), "did not exit within 300ms") {
		t.Fatalf("Term of a process ignoring SIGTERM = %d, %v; want -1 and a timeout error", code, err)
	}
	if d := time.Since(start); d < 300*time.Millisecond || d > 5*time.Second {
		t.Errorf("Term took %v, want about the 300ms StopTimeout", d)
	}
	if procState(pid) != "" {
		t.Errorf("pid %d still there after Term's SIGKILL", pid)
	}
}

func TestStopFreezesAndContResumes(t *testing.T) {
	t.Parallel()
	p := service.Start(t, fakeBin(t), service.Options{})
	if err := p.Stop(); err != nil {
		t.Fatal(err)
	}
	service.Eventually(t, 5*time.Second, 10*time.Millisecond, func() error {
		if s := procState(p.PID()); s != "T" {
			return fmt.Errorf("state %q, want T (stopped)", s)
		}
		return nil
	})
	if code, _, err := p.Health(ctxFor(t, 300*time.Millisecond)); err == nil {
		t.Errorf("a stopped service answered health: %d", code)
	}
	if err := p.Cont(); err != nil {
		t.Fatal(err)
	}
	if err := p.WaitHealthy(ctxFor(t, 5*time.Second), http.StatusOK); err != nil {
		t.Fatal(err)
	}
}

func TestTermOfAStoppedProcessStillExits(t *testing.T) {
	t.Parallel()
	p := service.Start(t, fakeBin(t), service.Options{})
	if err := p.Stop(); err != nil {
		t.Fatal(err)
	}
	if code, err := p.Term(); code != 0 || err != nil {
		t.Fatalf("Term of a stopped process = %d, %v; want a graceful 0", code, err)
	}
	if err := p.Stop(); err == nil || !strings.Contains(err.Error(), "already exited") {
		t.Errorf("Stop after exit = %v, want an already-exited error", err)
	}
}

func TestWaitReturnsOwnExit(t *testing.T) {
	t.Parallel()
	p := service.Start(t, fakeBin(t), service.Options{Env: map[string]string{
		"FAKESERVICE_EXIT_AFTER": "300ms", "FAKESERVICE_EXIT_CODE": "7",
	}})
	code, err := p.Wait(ctxFor(t, 10*time.Second))
	if err != nil || code != 7 {
		t.Fatalf("Wait = %d, %v; want 7", code, err)
	}
}

func TestWaitHonoursContext(t *testing.T) {
	t.Parallel()
	p := service.Start(t, fakeBin(t), service.Options{})
	if _, err := p.Wait(ctxFor(t, 100*time.Millisecond)); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Wait of a running process = %v, want DeadlineExceeded", err)
	}
}

func TestCleanupFailsOnIgnoredTermAndLeftovers(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		env  map[string]string
		want string
	}{
		{"error - SIGTERM ignored", map[string]string{"FAKESERVICE_IGNORE_TERM": "1"}, "did not exit within 200ms of SIGTERM"},
		{"error - child left after a graceful exit", map[string]string{"FAKESERVICE_LEAVE_CHILD": "1"}, "left processes in its group"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tb := &fakeTB{TB: t}
			var p *service.Process
			tb.run(func(tb testing.TB) {
				p = service.Start(tb, fakeBin(t), service.Options{Env: tc.env, StopTimeout: 200 * time.Millisecond})
			})
			if p == nil {
				t.Fatalf("Start: %s", tb.messages())
			}
			tb.runCleanups()
			errs := tb.errorMessages()
			if len(errs) != 1 || !strings.Contains(errs[0], tc.want) {
				t.Fatalf("cleanup errors %q, want one containing %q", errs, tc.want)
			}
			// A failed test gets the output in its log.
			if logs := tb.messages(); !strings.Contains(logs, "service output (") || !strings.Contains(logs, "fakeservice: pid=") {
				t.Errorf("cleanup of a failed test did not log the output:\n%s", logs)
			}
			if procState(p.PID()) != "" {
				t.Errorf("pid %d survived the cleanup", p.PID())
			}
			if i := strings.Index(p.Output(), "sleeper pid="); i >= 0 {
				var sleeper int
				fmt.Sscanf(p.Output()[i:], "sleeper pid=%d", &sleeper)
				if s := procState(sleeper); s != "" && s != "Z" {
					t.Errorf("leftover pid %d survived the cleanup (state %s)", sleeper, s)
				}
			}
		})
	}
}

func TestCleanupAfterKillRemovesLeftoversQuietly(t *testing.T) {
	t.Parallel()
	tb := &fakeTB{TB: t}
	var p *service.Process
	tb.run(func(tb testing.TB) {
		p = service.Start(tb, fakeBin(t), service.Options{Env: map[string]string{"FAKESERVICE_LEAVE_CHILD": "1"}})
	})
	if p == nil {
		t.Fatalf("Start: %s", tb.messages())
	}
	service.Eventually(t, 5*time.Second, 10*time.Millisecond, func() error {
		if !strings.Contains(p.Output(), "sleeper pid=") {
			return errors.New("no sleeper yet")
		}
		return nil
	})
	var sleeper int
	fmt.Sscanf(p.Output()[strings.Index(p.Output(), "sleeper pid="):], "sleeper pid=%d", &sleeper)
	p.Kill() // a crash: the sleeper outlives it
	if s := procState(sleeper); s == "" || s == "Z" {
		t.Fatalf("sleeper %d did not outlive the SIGKILL (state %q)", sleeper, s)
	}
	tb.runCleanups()
	if tb.Failed() {
		t.Errorf("leftovers after a SIGKILL failed the test: %s", tb.messages())
	}
	service.Eventually(t, 5*time.Second, 10*time.Millisecond, func() error {
		if s := procState(sleeper); s != "" && s != "Z" {
			return fmt.Errorf("sleeper %d still %s", sleeper, s)
		}
		return nil
	})
}

func TestPdeathsigKillsOrphan(t *testing.T) {
	t.Parallel()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperParentEnv+"="+fakeBin(t), helperParentDirEnv+"="+t.TempDir())
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	pidText, err := firstLine(bufio.NewScanner(stdout), "pid=")
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(pidText)
	if err != nil {
		t.Fatal(err)
	}
	if procState(pid) == "" {
		t.Fatalf("service pid %d not running under the helper", pid)
	}
	// The "test binary" crashes.
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	service.Eventually(t, 10*time.Second, 10*time.Millisecond, func() error {
		if s := procState(pid); s != "" && s != "Z" {
			return fmt.Errorf("service pid %d still %s after its parent died", pid, s)
		}
		return nil
	})
}
