package pgcluster

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"syscall"

	"github.com/shapesync/shapesync/replication/lsn"
)

// prepareDataDir makes c.dataDir hold an initialised cluster: created when
// missing, initialised when empty, reused as is when it holds PG_VERSION.
// It reports whether it ran initdb.
func (c *Cluster) prepareDataDir(ctx context.Context) (bool, error) {
	if err := c.user.checkAccess(c.dataDir); err != nil {
		return false, err
	}
	entries, err := os.ReadDir(c.dataDir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := c.user.mkdirAllTraversable(c.dataDir, 0o700); err != nil {
			return false, err
		}
	case err != nil:
		return false, fmt.Errorf("pgcluster: data directory %s: %w", c.dataDir, err)
	case len(entries) == 0:
		if err := c.user.chown(c.dataDir); err != nil {
			return false, err
		}
	default:
		if _, err := os.Stat(filepath.Join(c.dataDir, "PG_VERSION")); err != nil {
			return false, fmt.Errorf("pgcluster: %s is neither empty nor a PostgreSQL data directory (no PG_VERSION); use an empty or missing directory", c.dataDir)
		}
		return false, c.checkDataDirOwner()
	}
	args := []string{"-D", c.dataDir, "-E", "UTF8", "--locale=C", "-U", "postgres", "--auth=trust"}
	if c.opts.WalSegSizeMB != 0 {
		args = append(args, "--wal-segsize="+strconv.Itoa(c.opts.WalSegSizeMB))
	}
	if err := runTool(ctx, c, "initdb", args...); err != nil {
		return false, err
	}
	if c.opts.StartLSN != "" {
		start, _ := lsn.ParseLSN(c.opts.StartLSN) // validated in Start
		seg := c.opts.WalSegSizeMB
		if seg == 0 {
			seg = 16
		}
		if err := runTool(ctx, c, "pg_resetwal", "-l", walFileName(start, seg), "-D", c.dataDir); err != nil {
			return true, err
		}
	}
	return true, nil
}

// checkDataDirOwner fails early, with a remedy, where postgres would refuse
// a reused data directory owned by someone else.
func (c *Cluster) checkDataDirOwner() error {
	fi, err := os.Stat(c.dataDir)
	if err != nil {
		return fmt.Errorf("pgcluster: data directory %s: %w", c.dataDir, err)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok || st.Uid == c.user.uid {
		return nil
	}
	return fmt.Errorf("pgcluster: data directory %s is owned by uid %d, but the server runs as %s (uid %d): chown -R %s %s",
		c.dataDir, st.Uid, c.user.name, c.user.uid, c.user.name, c.dataDir)
}

// walFileName names the timeline-1 WAL segment that pg_resetwal -l starts
// the WAL at: the first segment starting at or after start, so the server's
// LSNs are never below start.
func walFileName(start lsn.LSN, segSizeMB int) string {
	segSize := uint64(segSizeMB) << 20
	segNo := (uint64(start) + segSize - 1) / segSize
	segsPerID := uint64(0x100000000) / segSize
	return fmt.Sprintf("%08X%08X%08X", 1, segNo/segsPerID, segNo%segsPerID)
}
