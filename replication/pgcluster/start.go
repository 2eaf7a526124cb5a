package pgcluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// errPortInUse marks a start that failed because the port was taken between
// choosing it and the server binding it.
var errPortInUse = errors.New("port in use")

// startLocked starts the postmaster and waits until it accepts connections.
// With Options.Port 0 it keeps the current port when it can and moves to a
// fresh one when the server reports EADDRINUSE.
func (c *Cluster) startLocked(ctx context.Context) error {
	if c.pm != nil {
		return nil
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, defaultReadyTimeout)
		defer cancel()
	}
	var lastErr error
	for attempt := 0; attempt < portAttempts; attempt++ {
		if c.port == 0 {
			p, err := freePort()
			if err != nil {
				return err
			}
			c.port = p
		}
		err := c.startOnce(ctx)
		if err == nil {
			return nil
		}
		lastErr = err
		if !errors.Is(err, errPortInUse) || c.opts.Port != 0 {
			return err
		}
		c.port = 0
	}
	return fmt.Errorf("pgcluster: no free port after %d attempts: %w", portAttempts, lastErr)
}

// freePort asks the kernel for a port that is free right now. The server
// binds it a moment later; startLocked handles losing that race.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pgcluster: choosing a port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func (c *Cluster) startOnce(ctx context.Context) error {
	mark := c.log.mark()
	pm, err := launchPostmaster(c, serverArgs(c.dataDir, c.sockDir, c.port, c.settings))
	if err != nil {
		return err
	}
	if err := c.waitReady(ctx, pm); err != nil {
		if !pm.exited() {
			// Still running (ctx ended), so it holds the data directory's
			// lock and every process there is its own: kill them all. One
			// that exited by itself may have lost the lock to another
			// server, whose processes must not be touched.
			c.pm = pm
			_ = c.killLocked()
		}
		out := strings.TrimSpace(c.log.since(mark))
		if strings.Contains(out, "Address already in use") {
			return fmt.Errorf("pgcluster: port %d: %w", c.port, errPortInUse)
		}
		return fmt.Errorf("pgcluster: starting postgres on %s (port %d): %w\nserver output:\n%s", c.dataDir, c.port, err, out)
	}
	c.pm = pm
	return nil
}

// waitReady polls over the private unix socket, which only this server can
// own, so a foreign server that holds the TCP port cannot answer for it.
func (c *Cluster) waitReady(ctx context.Context, pm *postmaster) error {
	q := url.Values{"host": {c.sockDir}, "port": {strconv.Itoa(c.port)}, "sslmode": {"disable"}, "connect_timeout": {"2"}}
	dsn := "postgres://postgres@/postgres?" + q.Encode()
	tick := time.NewTicker(25 * time.Millisecond)
	defer tick.Stop()
	var lastErr error
	for {
		select {
		case <-pm.done:
			return fmt.Errorf("postgres exited before accepting connections: %v", pm.err)
		case <-ctx.Done():
			return fmt.Errorf("not accepting connections (last error: %v): %w", lastErr, ctx.Err())
		case <-tick.C:
		}
		conn, err := pgx.Connect(ctx, dsn)
		if err == nil {
			_ = conn.Close(ctx)
			return nil
		}
		lastErr = err
	}
}
