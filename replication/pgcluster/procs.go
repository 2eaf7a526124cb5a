package pgcluster

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// ServerPIDs lists the live server processes (postmaster and every backend
// or auxiliary process) of the cluster in dataDir. They are recognised by
// their executable (postgres) and their working directory, which the server
// sets to the data directory; that survives the postmaster's death, when the
// backends are re-parented and their command lines no longer say which
// cluster they belong to. Zombies do not count. Linux only (/proc).
func ServerPIDs(dataDir string) ([]int, error) {
	real, err := filepath.EvalSymlinks(dataDir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("pgcluster: resolving %s: %w", dataDir, err)
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, fmt.Errorf("pgcluster: listing processes: %w", err)
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cwd, err := os.Readlink(fmt.Sprintf("/proc/%d/cwd", pid))
		if err != nil || cwd != real {
			continue // gone, a zombie (no cwd), or another directory
		}
		exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
		if err != nil || !strings.HasPrefix(filepath.Base(exe), "postgres") {
			continue
		}
		if st, err := readProcStat(pid); err != nil || st.state == 'Z' {
			continue
		}
		pids = append(pids, pid)
	}
	return pids, nil
}

// procStat holds the fields of /proc/PID/stat the package uses.
type procStat struct {
	state     byte
	ppid      int
	startTime uint64 // clock ticks after boot; with the PID it names one process
}

func readProcStat(pid int) (procStat, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procStat{}, err
	}
	// "pid (comm) state ppid …": comm may hold spaces and parentheses, so
	// fields are counted from the last ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return procStat{}, fmt.Errorf("pgcluster: /proc/%d/stat: malformed", pid)
	}
	fields := strings.Fields(s[i+1:])
	// fields[0] is field 3 (state); starttime is field 22.
	if len(fields) < 20 || len(fields[0]) != 1 {
		return procStat{}, fmt.Errorf("pgcluster: /proc/%d/stat: malformed", pid)
	}
	start, err := strconv.ParseUint(fields[19], 10, 64)
	if err != nil {
		return procStat{}, fmt.Errorf("pgcluster: /proc/%d/stat: starttime: %w", pid, err)
	}
	ppid, err := strconv.Atoi(fields[1])
	if err != nil {
		return procStat{}, fmt.Errorf("pgcluster: /proc/%d/stat: ppid: %w", pid, err)
	}
	return procStat{state: fields[0][0], ppid: ppid, startTime: start}, nil
}

// processAlive reports whether pid runs and is not a zombie.
func processAlive(pid int) bool {
	st, err := readProcStat(pid)
	return err == nil && st.state != 'Z'
}

// process names one process: a PID with its start time, which a reused PID
// does not share.
type process struct {
	pid   int
	start uint64
}

func (p process) alive() bool {
	st, err := readProcStat(p.pid)
	return err == nil && st.state != 'Z' && st.startTime == p.start
}

// clusterProcesses is every process that belongs to the cluster in dataDir
// with the postmaster pm: its children and whatever runs in the data
// directory. Children are listed by parent as well because a process that
// is exiting has already released its working directory.
func clusterProcesses(dataDir string, pm int) ([]process, error) {
	pids, err := ServerPIDs(dataDir)
	if err != nil {
		return nil, err
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, fmt.Errorf("pgcluster: listing processes: %w", err)
	}
	var procs []process
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		st, err := readProcStat(pid)
		if err != nil || st.state == 'Z' {
			continue
		}
		if pid == pm || st.ppid == pm || slices.Contains(pids, pid) {
			procs = append(procs, process{pid: pid, start: st.startTime})
		}
	}
	return procs, nil
}
