package pgcluster

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"
)

// logTailBytes bounds the output kept for error messages and ServerLog.
const logTailBytes = 64 << 10

// serverLog keeps the recent output of the server and its tools, tees it to
// Options.Log, and never fails a write: an error returned to os/exec would
// close the pipe and kill the server with SIGPIPE on its next log line.
type serverLog struct {
	mu    sync.Mutex
	out   io.Writer
	tail  []byte
	total int64
}

func (l *serverLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.total += int64(len(p))
	l.tail = append(l.tail, p...)
	if over := len(l.tail) - logTailBytes; over > 0 {
		l.tail = append(l.tail[:0], l.tail[over:]...)
	}
	if l.out != nil {
		_, _ = l.out.Write(p)
	}
	return len(p), nil
}

// mark is a position to read from with since.
func (l *serverLog) mark() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.total
}

// since returns what was written after mark, as far as the tail still holds.
func (l *serverLog) since(mark int64) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := l.total - mark
	if n > int64(len(l.tail)) {
		n = int64(len(l.tail))
	}
	return string(l.tail[int64(len(l.tail))-n:])
}

func (l *serverLog) String() string { return l.since(0) }

// childEnv is the environment of the server binaries: the caller's, minus
// libpq/server variables that could redirect them, with C messages so the
// package can recognise "Address already in use".
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "PG") || strings.HasPrefix(kv, "LC_") || strings.HasPrefix(kv, "LANG=") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "LC_ALL=C")
}

// runTool runs initdb or pg_resetwal to completion as the server user.
func runTool(ctx context.Context, c *Cluster, name string, args ...string) error {
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, c.bin(name), args...)
	cmd.Dir = c.runDir
	cmd.Env = childEnv()
	cmd.Stdout = io.MultiWriter(&out, c.log)
	cmd.Stderr = cmd.Stdout
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.user.credential(), Pdeathsig: syscall.SIGKILL}
	// SIGTERM lets initdb remove what it created and reap its bootstrap
	// backend; SIGKILL follows if it does not exit in time.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 10 * time.Second
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (%v)", ctx.Err(), err)
		}
		return fmt.Errorf("pgcluster: %s %s: %w\n%s", name, strings.Join(args, " "), err, strings.TrimSpace(out.String()))
	}
	return nil
}

// postmaster is a running server process, a child of this process.
type postmaster struct {
	pid  int
	proc *os.Process
	done chan struct{} // closed once the process has exited and been reaped
	err  error         // exit status, valid after done
}

// launchPostmaster starts `postgres` directly (not through pg_ctl) so it is
// our child and Pdeathsig applies: if this process dies, so does the server.
// Pdeathsig fires when the forking *thread* exits, so the fork happens on a
// goroutine locked to its thread that stays in Wait for the server's lifetime.
func launchPostmaster(c *Cluster, args []string) (*postmaster, error) {
	cmd := exec.Command(c.bin("postgres"), args...)
	cmd.Dir = c.runDir
	cmd.Env = childEnv()
	cmd.Stdout = c.log
	cmd.Stderr = c.log
	// Setpgid keeps terminal signals (Ctrl-C to a dev run) away from the
	// server; the package decides how it stops.
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.user.credential(), Pdeathsig: syscall.SIGKILL, Setpgid: true}
	pm := &postmaster{done: make(chan struct{})}
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		pm.pid, pm.proc = cmd.Process.Pid, cmd.Process
		started <- nil
		pm.err = cmd.Wait()
		close(pm.done)
	}()
	if err := <-started; err != nil {
		return nil, fmt.Errorf("pgcluster: start postgres: %w", err)
	}
	return pm, nil
}

func (pm *postmaster) exited() bool {
	select {
	case <-pm.done:
		return true
	default:
		return false
	}
}

// signal sends sig unless the process is already reaped (its PID may then
// belong to someone else).
func (pm *postmaster) signal(sig syscall.Signal) {
	if !pm.exited() {
		_ = pm.proc.Signal(sig)
	}
}
