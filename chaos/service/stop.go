package service

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"syscall"
	"testing"
	"time"
)

// Kill sends SIGKILL to the service (not to processes it started, as in a
// real crash) and returns once it has been reaped. It does nothing if the
// service has already exited.
func (p *Process) Kill() {
	if c := p.current(); c != nil {
		c.kill()
	}
}

// Term sends SIGTERM, then SIGCONT so a stopped process acts on it (as
// systemd does), and waits up to Options.StopTimeout for the exit. It
// returns the exit code, or -1 and an error if a signal ended the process
// or it had to be killed after the timeout. If the process has already
// exited, Term reports that exit.
func (p *Process) Term() (exitCode int, err error) {
	c := p.current()
	if c == nil {
		return -1, errors.New("service.Term: not started")
	}
	if !c.terminate(p.opts.StopTimeout) {
		return -1, fmt.Errorf("service.Term: pid %d did not exit within %v of SIGTERM; sent SIGKILL", c.pid, p.opts.StopTimeout)
	}
	return c.exit()
}

// Wait waits for the service to exit by itself and reports the exit as Term
// does. It returns ctx's error if ctx ends first.
func (p *Process) Wait(ctx context.Context) (exitCode int, err error) {
	c := p.current()
	if c == nil {
		return -1, errors.New("service.Wait: not started")
	}
	select {
	case <-c.done:
		return c.exit()
	case <-ctx.Done():
		return -1, fmt.Errorf("service.Wait: pid %d still running: %w", c.pid, ctx.Err())
	}
}

// Stop sends SIGSTOP: the process freezes with its sockets open.
func (p *Process) Stop() error { return p.signal(syscall.SIGSTOP) }

// Cont sends SIGCONT to a stopped process.
func (p *Process) Cont() error { return p.signal(syscall.SIGCONT) }

func (p *Process) signal(sig syscall.Signal) error {
	c := p.current()
	if c == nil {
		return errors.New("service: not started")
	}
	return c.signal(sig)
}

// cleanup stops the latest incarnation, removes whatever any incarnation
// left in its process group, and logs the output if the test failed.
func (p *Process) cleanup(t testing.TB) {
	graceful := false
	if c := p.current(); c != nil && !c.exited() {
		if !c.terminate(p.opts.StopTimeout) {
			t.Errorf("service cleanup: pid %d did not exit within %v of SIGTERM; sent SIGKILL", c.pid, p.opts.StopTimeout)
		} else if code, err := c.exit(); err != nil {
			t.Logf("service cleanup: after SIGTERM: %v", err)
		} else {
			graceful = true
			if code != 0 {
				t.Logf("service cleanup: pid %d exited with code %d after SIGTERM", c.pid, code)
			}
		}
	}
	p.mu.Lock()
	children := slices.Clone(p.children)
	p.mu.Unlock()
	for i, c := range children {
		p.removeLeftovers(t, c, graceful && i == len(children)-1)
	}
	if t.Failed() {
		t.Logf("service output (%s):\n%s", p.bin, p.out.String())
	}
}

// removeLeftovers kills what remains in c's process group. After a
// graceful exit a leftover is the service's bug; after a SIGKILL it is
// expected (a crash does not stop what the service started).
func (p *Process) removeLeftovers(t testing.TB, c *child, afterGracefulExit bool) {
	left := groupMembers(c.pid)
	if len(left) == 0 {
		return
	}
	if afterGracefulExit {
		t.Errorf("service cleanup: pid %d exited after SIGTERM but left processes in its group: %v", c.pid, left)
	} else {
		t.Logf("service cleanup: killing what pid %d left in its group: %v", c.pid, left)
	}
	_ = syscall.Kill(-c.pid, syscall.SIGKILL)
	deadline := time.Now().Add(5 * time.Second)
	for len(left) > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
		left = groupMembers(c.pid)
	}
	if len(left) > 0 {
		t.Errorf("service cleanup: processes of group %d survive SIGKILL: %v", c.pid, left)
	}
}
