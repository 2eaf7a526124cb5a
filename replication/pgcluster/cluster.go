package pgcluster

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// ErrDestroyed is returned by operations on a cluster after Destroy.
var ErrDestroyed = errors.New("pgcluster: cluster destroyed")

// Bounds for waits that have no context of their own.
const (
	defaultReadyTimeout = 2 * time.Minute // only when ctx has no deadline
	killTimeout         = 10 * time.Second
	portAttempts        = 5
)

// Cluster is a private PostgreSQL server started by Start. Its methods are
// safe for concurrent use; they serialise on one lock.
type Cluster struct {
	mu        sync.Mutex
	opts      Options
	settings  map[string]string // Options.Settings plus SetAndRestart's changes
	binDir    string
	user      serverUser
	runDir    string
	sockDir   string
	dataDir   string
	port      int
	log       *serverLog
	pm        *postmaster // nil while stopped
	destroyed bool
}

// Start initialises the data directory when it is new (or reuses it), starts
// the server and returns once it accepts connections. On error nothing it
// created is left behind.
func Start(ctx context.Context, o Options) (*Cluster, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	binDir, err := resolveBinDir(o.BinDir)
	if err != nil {
		return nil, err
	}
	u, err := currentServerUser()
	if err != nil {
		return nil, err
	}
	sweepStaleRunDirs(os.TempDir())
	runDir, err := createRunDir(u)
	if err != nil {
		return nil, err
	}
	c := &Cluster{
		opts:     o,
		settings: maps.Clone(o.Settings),
		binDir:   binDir,
		user:     u,
		runDir:   runDir,
		sockDir:  filepath.Join(runDir, "sock"),
		dataDir:  filepath.Join(runDir, "data"),
		port:     o.Port,
		log:      &serverLog{out: o.Log},
	}
	if o.Dir != "" {
		if c.dataDir, err = filepath.Abs(o.Dir); err != nil {
			_ = os.RemoveAll(runDir)
			return nil, fmt.Errorf("pgcluster: data directory %s: %w", o.Dir, err)
		}
	}
	if err := c.setUp(ctx); err != nil {
		_ = os.RemoveAll(runDir) // holds the data too when Options.Dir is empty
		return nil, err
	}
	return c, nil
}

func (c *Cluster) setUp(ctx context.Context) error {
	if err := c.user.mkdirAllTraversable(c.sockDir, 0o700); err != nil {
		return err
	}
	if _, err := c.prepareDataDir(ctx); err != nil {
		return err
	}
	return c.startLocked(ctx)
}

func (c *Cluster) bin(name string) string { return filepath.Join(c.binDir, name) }

// Port is the server's TCP port. It changes only when Options.Port was 0 and
// the previous port was taken by someone else while the server was stopped.
func (c *Cluster) Port() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.port
}

// Host is the address the server listens on.
func (c *Cluster) Host() string { return "127.0.0.1" }

// DSN is a URL connecting as the superuser postgres over TCP, no TLS.
func (c *Cluster) DSN(database string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.User("postgres"),
		Host:     c.Host() + ":" + strconv.Itoa(c.Port()),
		Path:     "/" + database,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

// DataDir is the absolute data directory.
func (c *Cluster) DataDir() string { return c.dataDir }

// SocketDir is the private unix socket directory.
func (c *Cluster) SocketDir() string { return c.sockDir }

// PID is the postmaster's process id, 0 while stopped.
func (c *Cluster) PID() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pm == nil || c.pm.exited() {
		return 0
	}
	return c.pm.pid
}

// ServerLog returns the most recent output (up to 64 KiB) of the server and
// its tools.
func (c *Cluster) ServerLog() string { return c.log.String() }

// Stop shuts the server down with Options.StopMode and waits for it to exit.
// Stopping a stopped cluster does nothing. When ctx ends first the server is
// killed and ctx's error returned.
func (c *Cluster) Stop(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.destroyed {
		return ErrDestroyed
	}
	return c.stopLocked(ctx)
}

// Restart stops the server (if running, with Options.StopMode) and starts it
// again on the same data directory. It also brings back a cluster after Kill.
func (c *Cluster) Restart(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.destroyed {
		return ErrDestroyed
	}
	if err := c.stopLocked(ctx); err != nil {
		return err
	}
	return c.startLocked(ctx)
}

// SetAndRestart merges settings into the server configuration and restarts
// the server. When the server does not come up with them (a bad value) the
// previous settings are restored and the server is started with those; the
// error carries the server's complaint.
func (c *Cluster) SetAndRestart(ctx context.Context, settings map[string]string) error {
	if err := validateSettings(settings); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.destroyed {
		return ErrDestroyed
	}
	if err := c.stopLocked(ctx); err != nil {
		return err
	}
	previous := c.settings
	c.settings = maps.Clone(previous)
	if c.settings == nil {
		c.settings = map[string]string{}
	}
	maps.Copy(c.settings, settings)
	err := c.startLocked(ctx)
	if err == nil {
		return nil
	}
	c.settings = previous
	if rerr := c.startLocked(ctx); rerr != nil {
		return errors.Join(err, fmt.Errorf("pgcluster: restart with the previous settings: %w", rerr))
	}
	return fmt.Errorf("%w (previous settings restored)", err)
}

// Kill crashes the server: SIGKILL to the postmaster, then to every process
// of the cluster still alive (backends notice their postmaster's death on
// their own, but one busy in a query may take a while), and waits until none
// is left, so a following Restart is crash recovery with no stale shared
// memory attached. Killing a stopped cluster does nothing.
func (c *Cluster) Kill() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.destroyed {
		return ErrDestroyed
	}
	return c.killLocked()
}

// Destroy stops the server (killing it if it does not stop in time) and
// removes the run directory: the socket directory and, when Options.Dir was
// empty, the data. A given Options.Dir is kept. Destroy is idempotent.
func (c *Cluster) Destroy(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.destroyed {
		return nil
	}
	stopErr := c.stopLocked(ctx)
	if stopErr != nil {
		stopErr = errors.Join(stopErr, c.killLocked())
	}
	c.destroyed = true
	if err := os.RemoveAll(c.runDir); err != nil {
		return errors.Join(stopErr, fmt.Errorf("pgcluster: remove %s: %w", c.runDir, err))
	}
	return stopErr
}

func (c *Cluster) stopLocked(ctx context.Context) error {
	pm := c.pm
	if pm == nil {
		return nil
	}
	sig := syscall.SIGINT // fast shutdown
	if c.opts.stopMode() == StopImmediate {
		sig = syscall.SIGQUIT
	}
	pm.signal(sig)
	select {
	case <-pm.done:
		c.pm = nil
		return nil
	case <-ctx.Done():
		return errors.Join(fmt.Errorf("pgcluster: %s shutdown of %s: %w", c.opts.stopMode(), c.dataDir, ctx.Err()), c.killLocked())
	}
}

func (c *Cluster) killLocked() error {
	pm := c.pm
	if pm == nil {
		return nil
	}
	known, err := clusterProcesses(c.dataDir, pm.pid)
	if err != nil {
		return err
	}
	pm.signal(syscall.SIGKILL)
	deadline := time.After(killTimeout)
	select {
	case <-pm.done:
	case <-deadline:
		return fmt.Errorf("pgcluster: postmaster %d did not exit within %s of SIGKILL", pm.pid, killTimeout)
	}
	c.pm = nil
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		var left []int
		for _, p := range known {
			if p.alive() {
				left = append(left, p.pid)
			}
		}
		// Children forked after the listing run in the data directory.
		later, err := ServerPIDs(c.dataDir)
		if err != nil {
			return err
		}
		for _, pid := range later {
			if !slices.Contains(left, pid) {
				left = append(left, pid)
			}
		}
		if len(left) == 0 {
			// Postgres would cope with the stale lock file, unless its PID
			// has been reused by then; no process of the cluster is left.
			_ = os.Remove(filepath.Join(c.dataDir, "postmaster.pid"))
			return nil
		}
		for _, pid := range left {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		select {
		case <-tick.C:
		case <-deadline:
			return fmt.Errorf("pgcluster: server processes %v of %s still alive %s after SIGKILL", left, c.dataDir, killTimeout)
		}
	}
}
