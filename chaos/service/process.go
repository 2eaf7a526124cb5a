package service

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Defaults for the zero values of Options.
const (
	DefaultReadyTimeout = 30 * time.Second
	// DefaultStopTimeout leaves room above RELIABILITY D2's 10 s exit target.
	DefaultStopTimeout = 15 * time.Second
	DefaultOutputBytes = 1 << 20
)

// Options configure Start.
type Options struct {
	// Env is added to the child's environment last, overriding everything
	// else (see the package comment). It may not set the port or storage
	// variables; use the fields below.
	Env map[string]string
	// Args are the command-line arguments.
	Args []string
	// Dir is the working directory; empty means a fresh temporary
	// directory, so embedded mode's ./.shapesync never lands in the repo.
	Dir string
	// StorageDir becomes ELECTRIC_STORAGE_DIR and survives Restart; empty
	// means a fresh temporary directory. Pass the same directory to a new
	// Start to model a new process over old storage.
	StorageDir string
	// Port becomes ELECTRIC_PORT; 0 picks a free port.
	Port int
	// AdminPort becomes ELECTRIC_ADMIN_PORT; 0 picks a free port, so
	// instances in parallel tests do not share the default 3001.
	AdminPort int
	// ReadyTimeout bounds the wait for /v1/health to answer.
	ReadyTimeout time.Duration
	// StopTimeout is how long Term (and the cleanup) wait after SIGTERM
	// before SIGKILL.
	StopTimeout time.Duration
	// NoReadyWait makes Start and Restart return once the process runs,
	// for tests of a service that is meant to exit at start-up.
	NoReadyWait bool
	// OutputBytes is how much combined stdout/stderr is kept.
	OutputBytes int
}

// Process is the service running as a child of the test, across restarts.
// Its methods are safe for concurrent use.
type Process struct {
	bin    string
	opts   Options // defaults resolved; Port and AdminPort as passed
	out    *outputRing
	client *http.Client

	// Set by Start (a retry may change them) and fixed once it returns.
	port, adminPort int

	mu       sync.Mutex
	cur      *child   // the latest incarnation
	children []*child // every incarnation, for the leftover check
}

// Start runs bin and waits until GET /v1/health answers (unless
// opts.NoReadyWait). It fails t if the process cannot start, exits first or
// does not answer within opts.ReadyTimeout. A cleanup on t stops the
// process (see the package comment).
func Start(t testing.TB, bin string, opts Options) *Process {
	t.Helper()
	p, err := newProcess(t, bin, opts)
	if err != nil {
		t.Fatalf("service.Start: %v", err)
	}
	t.Cleanup(func() { p.cleanup(t) })
	err = p.startOnce()
	var early *earlyExitError
	chosen := opts.Port == 0 || opts.AdminPort == 0
	if errors.As(err, &early) && early.addrInUse && chosen {
		t.Logf("service.Start: %v; retrying once with new ports", err)
		if err = p.choosePorts(); err == nil {
			err = p.startOnce()
		}
	}
	if err != nil {
		t.Fatalf("service.Start: %v (the output is logged at the end of the test)", err)
	}
	return p
}

// newProcess resolves opts' defaults. Temporary directories come from t
// before Start registers its cleanup, so they are removed after the
// process has stopped.
func newProcess(t testing.TB, bin string, opts Options) (*Process, error) {
	for _, name := range []string{"ELECTRIC_PORT", "HTTP_PORT", "ELECTRIC_ADMIN_PORT", "ELECTRIC_STORAGE_DIR"} {
		if _, ok := opts.Env[name]; ok {
			return nil, fmt.Errorf("options.Env sets %s; use Options.Port, AdminPort or StorageDir so the harness knows the value", name)
		}
	}
	if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("binary: %w", err)
	}
	opts.Env = maps.Clone(opts.Env)
	opts.Args = slices.Clone(opts.Args)
	if opts.Dir == "" {
		opts.Dir = t.TempDir()
	}
	if opts.StorageDir == "" {
		opts.StorageDir = t.TempDir()
	}
	if opts.ReadyTimeout <= 0 {
		opts.ReadyTimeout = DefaultReadyTimeout
	}
	if opts.StopTimeout <= 0 {
		opts.StopTimeout = DefaultStopTimeout
	}
	if opts.OutputBytes <= 0 {
		opts.OutputBytes = DefaultOutputBytes
	}
	p := &Process{
		bin:  bin,
		opts: opts,
		out:  newOutputRing(opts.OutputBytes),
		// No keep-alive: a pooled connection to a killed incarnation would
		// turn the next probe into a spurious error.
		client: &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second},
	}
	if err := p.choosePorts(); err != nil {
		return nil, err
	}
	return p, nil
}

// choosePorts picks free ports for those the caller left at 0.
func (p *Process) choosePorts() error {
	p.port, p.adminPort = p.opts.Port, p.opts.AdminPort
	for p.port == 0 || p.port == p.adminPort {
		port, err := FreePort()
		if err != nil {
			return err
		}
		p.port = port
	}
	for p.adminPort == 0 || p.adminPort == p.port {
		port, err := FreePort()
		if err != nil {
			return err
		}
		p.adminPort = port
	}
	return nil
}

// earlyExitError is a child that exited before /v1/health answered.
type earlyExitError struct {
	pid       int
	how       string
	addrInUse bool
}

func (e *earlyExitError) Error() string {
	return fmt.Sprintf("pid %d exited before /v1/health answered: %s", e.pid, e.how)
}

// startOnce starts a new incarnation and, unless NoReadyWait, waits until
// /v1/health answers. On failure the incarnation is gone when it returns.
func (p *Process) startOnce() error {
	p.mu.Lock()
	n := len(p.children) + 1
	p.mu.Unlock()
	fmt.Fprintf(p.out, "--- service: start #%d: %s %s (port %d, admin port %d) ---\n",
		n, p.bin, strings.Join(p.opts.Args, " "), p.port, p.adminPort)
	c, err := spawn(p.bin, p.opts.Args, p.environ(), p.opts.Dir, p.out)
	if err != nil {
		return err
	}
	p.mu.Lock()
	p.cur = c
	p.children = append(p.children, c)
	p.mu.Unlock()
	if p.opts.NoReadyWait {
		return nil
	}
	deadline := time.Now().Add(p.opts.ReadyTimeout)
	var lastErr error
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_, _, lastErr = p.Health(ctx)
		cancel()
		if lastErr == nil {
			return nil
		}
		select {
		case <-c.done:
			return &earlyExitError{
				pid:       c.pid,
				how:       c.describeExit(),
				addrInUse: strings.Contains(c.out.String(), "address already in use"),
			}
		case <-time.After(25 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			c.kill()
			return fmt.Errorf("pid %d: no answer from %s/v1/health within %v (last error: %v); killed it",
				c.pid, p.URL(), p.opts.ReadyTimeout, lastErr)
		}
	}
}

// Restart starts the service again with the same options, port and
// storage directory, and waits as Start does. The previous incarnation
// must have exited (Kill, Term, or on its own); Restart fails t otherwise.
func (p *Process) Restart(t testing.TB) {
	t.Helper()
	if c := p.current(); c != nil && !c.exited() {
		t.Fatalf("service.Restart: pid %d is still running; Kill or Term it first", c.pid)
	}
	if err := p.startOnce(); err != nil {
		t.Fatalf("service.Restart: %v (the output is logged at the end of the test)", err)
	}
}

func (p *Process) current() *child {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cur
}

// URL is the service's base URL, http://127.0.0.1:<port>.
func (p *Process) URL() string { return "http://127.0.0.1:" + strconv.Itoa(p.port) }

// AdminURL is the admin listener's base URL (/metrics, /debug/*).
func (p *Process) AdminURL() string { return "http://127.0.0.1:" + strconv.Itoa(p.adminPort) }

// Port is the service's HTTP port.
func (p *Process) Port() int { return p.port }

// StorageDir is the ELECTRIC_STORAGE_DIR every incarnation uses.
func (p *Process) StorageDir() string { return p.opts.StorageDir }

// PID is the latest incarnation's process id (it may have exited).
func (p *Process) PID() int {
	if c := p.current(); c != nil {
		return c.pid
	}
	return 0
}

// Output is the captured stdout and stderr of every incarnation, with a
// marker line at each start and exit; the oldest bytes are dropped past
// Options.OutputBytes.
func (p *Process) Output() string { return p.out.String() }
