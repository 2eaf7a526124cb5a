package service

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// waitDelay bounds how long Wait keeps reading the output pipe after the
// service exited: a grandchild it left behind (an embedded Postgres, say)
// may hold the pipe open for ever.
const waitDelay = 5 * time.Second

// startupOutputBytes is how much of one incarnation's own output is kept to
// recognise why it failed to start.
const startupOutputBytes = 64 << 10

// child is one incarnation of the service process.
type child struct {
	cmd  *exec.Cmd
	pid  int
	out  *outputRing   // this incarnation's output only
	done chan struct{} // closed once the process is reaped

	// Written before done is closed, read after.
	state   *os.ProcessState
	waitErr error
}

// spawn starts bin. It forks from a goroutine that locks its OS thread and
// never unlocks it: Pdeathsig fires when the forking thread ends, not the
// process, so that thread must live until the child is gone. When the
// goroutine returns, the runtime ends the thread; by then the child has
// been reaped.
func spawn(bin string, args, env []string, dir string, log io.Writer) (*child, error) {
	c := &child{out: newOutputRing(startupOutputBytes), done: make(chan struct{})}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = env
	w := io.MultiWriter(log, c.out)
	cmd.Stdout, cmd.Stderr = w, w // the same writer: one pipe, one copier
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Setpgid:   true, // the cleanup finds what it left behind by group
		Pdeathsig: syscall.SIGKILL,
	}
	cmd.WaitDelay = waitDelay
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		c.waitErr = cmd.Wait()
		c.state = cmd.ProcessState
		fmt.Fprintf(log, "--- service: pid %d %s ---\n", cmd.Process.Pid, c.describeExit())
		close(c.done)
	}()
	if err := <-started; err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	c.cmd = cmd
	c.pid = cmd.Process.Pid
	return c, nil
}

func (c *child) exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// signal sends sig unless the process has already been reaped, so a
// signal never reaches a recycled PID.
func (c *child) signal(sig syscall.Signal) error {
	err := c.cmd.Process.Signal(sig)
	if errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("pid %d has already exited", c.pid)
	}
	if err != nil {
		return fmt.Errorf("send %v to pid %d: %w", sig, c.pid, err)
	}
	return nil
}

// kill sends SIGKILL and waits until the process is reaped.
func (c *child) kill() {
	_ = c.cmd.Process.Signal(syscall.SIGKILL)
	<-c.done
}

// terminate sends SIGTERM, then SIGCONT so a stopped process acts on it,
// and waits up to timeout; past it, it sends SIGKILL. It reports whether
// the process exited within the timeout. The process is reaped either way.
func (c *child) terminate(timeout time.Duration) bool {
	if c.signal(syscall.SIGTERM) == nil {
		_ = c.signal(syscall.SIGCONT)
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-c.done:
		return true
	case <-timer.C:
		c.kill()
		return false
	}
}

// exit reports how the reaped process ended: its exit code, or -1 and an
// error when a signal ended it.
func (c *child) exit() (int, error) {
	if c.state == nil {
		return -1, fmt.Errorf("pid %d: wait: %w", c.pid, c.waitErr)
	}
	if ws, ok := c.state.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return -1, fmt.Errorf("pid %d was killed by signal %v", c.pid, ws.Signal())
	}
	return c.state.ExitCode(), nil
}

func (c *child) describeExit() string {
	if c.state == nil {
		return fmt.Sprintf("wait failed: %v", c.waitErr)
	}
	s := "exited: " + c.state.String()
	if errors.Is(c.waitErr, exec.ErrWaitDelay) {
		s += fmt.Sprintf(" (its output pipe stayed open %v after exit: a process it started still holds it)", waitDelay)
	}
	return s
}

// groupMembers lists the live processes in process group pgid, read from
// /proc, as "pid (comm) state" strings.
func groupMembers(pgid int) []string {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var members []string
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue // it exited while we looked
		}
		comm, state, pgrp, ok := parseStat(string(stat))
		// A zombie is dead already; whoever inherited it reaps it.
		if ok && pgrp == pgid && state != "Z" && state != "X" {
			members = append(members, fmt.Sprintf("%d (%s) %s", pid, comm, state))
		}
	}
	return members
}

// parseStat reads comm, state and pgrp from a /proc/<pid>/stat line:
// "pid (comm) state ppid pgrp …". comm may hold spaces and parentheses,
// so the fields start after the last ')'.
func parseStat(stat string) (comm, state string, pgrp int, ok bool) {
	open := strings.IndexByte(stat, '(')
	end := strings.LastIndexByte(stat, ')')
	if open < 0 || end < open {
		return "", "", 0, false
	}
	fields := strings.Fields(stat[end+1:])
	if len(fields) < 3 {
		return "", "", 0, false
	}
	pgrp, err := strconv.Atoi(fields[2])
	if err != nil {
		return "", "", 0, false
	}
	return stat[open+1 : end], fields[0], pgrp, true
}
