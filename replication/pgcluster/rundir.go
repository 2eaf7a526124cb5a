package pgcluster

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// A run directory, os.TempDir()/pgcluster-*, is what Start creates: the
// private socket directory sock/ and, without Options.Dir, the data
// directory data/. The owner file names the process that created it, so a
// later Start can remove run directories left by a process that died
// without cleaning up (SIGKILL, a panic outside a test); Pdeathsig already
// took care of their servers.
const (
	runDirPattern = "pgcluster-*"
	ownerFile     = "owner"
)

func createRunDir(u serverUser) (string, error) {
	dir, err := os.MkdirTemp(os.TempDir(), runDirPattern)
	if err != nil {
		return "", fmt.Errorf("pgcluster: create run directory under %s: %w", os.TempDir(), err)
	}
	// 0755, not MkdirTemp's 0700: the server user must enter it.
	if err := os.Chmod(dir, 0o755); err != nil {
		_ = os.RemoveAll(dir)
		return "", fmt.Errorf("pgcluster: chmod %s: %w", dir, err)
	}
	if err := writeOwner(dir); err != nil {
		_ = os.RemoveAll(dir)
		return "", err
	}
	if err := u.checkAccess(filepath.Join(dir, "sock")); err != nil {
		_ = os.RemoveAll(dir)
		return "", err
	}
	return dir, nil
}

func writeOwner(dir string) error {
	st, err := readProcStat(os.Getpid())
	if err != nil {
		return fmt.Errorf("pgcluster: reading own process start time: %w", err)
	}
	content := fmt.Sprintf("%d %d\n", os.Getpid(), st.startTime)
	if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(content), 0o644); err != nil {
		return fmt.Errorf("pgcluster: write %s: %w", filepath.Join(dir, ownerFile), err)
	}
	return nil
}

// ownerAlive reports whether the process that created dir still runs. A
// missing or unreadable owner file counts as alive: the directory may be
// being created right now, and removing it then would be worse than
// leaving it.
func ownerAlive(dir string) bool {
	b, err := os.ReadFile(filepath.Join(dir, ownerFile))
	if err != nil {
		return true
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return true
	}
	pid, err1 := strconv.Atoi(f[0])
	start, err2 := strconv.ParseUint(f[1], 10, 64)
	if err1 != nil || err2 != nil {
		return true
	}
	st, err := readProcStat(pid)
	// A reused PID has another start time.
	return err == nil && st.state != 'Z' && st.startTime == start
}

// sweepStaleRunDirs removes run directories under tmp whose owner is gone
// and whose data directory has no server process left. Best effort: what
// it cannot remove stays for the next sweep.
func sweepStaleRunDirs(tmp string) []string {
	matches, _ := filepath.Glob(filepath.Join(tmp, runDirPattern))
	var removed []string
	for _, dir := range matches {
		if ownerAlive(dir) {
			continue
		}
		if pids, err := ServerPIDs(filepath.Join(dir, "data")); err != nil || len(pids) > 0 {
			continue
		}
		if os.RemoveAll(dir) == nil {
			removed = append(removed, dir)
		}
	}
	return removed
}
