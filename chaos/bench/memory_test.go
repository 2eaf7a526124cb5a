package bench

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// memSample is one reading of a process's resident memory, in bytes, from
// /proc/<pid>/status. RSS = RSSAnon + RSSFile + RSSShmem; the split tells
// Go heap and badger's memtables (anonymous) from mmapped SST and value-log
// pages (file), which the kernel can drop under pressure.
type memSample struct {
	RSS, RSSAnon, RSSFile int64
}

func (m memSample) String() string {
	return fmt.Sprintf("VmRSS %s (anon %s, file %s)", mib(m.RSS), mib(m.RSSAnon), mib(m.RSSFile))
}

func mib(bytes int64) string { return fmt.Sprintf("%.1f MiB", float64(bytes)/(1<<20)) }

// readMem reads pid's memory.
func readMem(pid int) (memSample, error) {
	text, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return memSample{}, fmt.Errorf("read memory of pid %d: %w", pid, err)
	}
	m, err := parseProcStatus(string(text))
	if err != nil {
		return memSample{}, fmt.Errorf("read memory of pid %d: %w", pid, err)
	}
	return m, nil
}

// parseProcStatus takes VmRSS, RssAnon and RssFile ("VmRSS:   1234 kB")
// from a /proc/<pid>/status text.
func parseProcStatus(text string) (memSample, error) {
	var m memSample
	fields := map[string]*int64{"VmRSS": &m.RSS, "RssAnon": &m.RSSAnon, "RssFile": &m.RSSFile}
	found := 0
	for line := range strings.SplitSeq(text, "\n") {
		name, rest, ok := strings.Cut(line, ":")
		dst, wanted := fields[name]
		if !ok || !wanted {
			continue
		}
		value, unit, _ := strings.Cut(strings.TrimSpace(rest), " ")
		kb, err := strconv.ParseInt(value, 10, 64)
		if err != nil || unit != "kB" {
			return memSample{}, fmt.Errorf("parse %s line %q: want \"<number> kB\"", name, line)
		}
		*dst = kb << 10
		found++
	}
	if found != len(fields) {
		return memSample{}, fmt.Errorf("status has %d of VmRSS, RssAnon, RssFile; is the process a zombie?", found)
	}
	return m, nil
}

// gcTrace is one line the Go runtime prints under GODEBUG=gctrace=1:
//
//	gc 7 @0.013s 17%: … ms cpu, 200->200->0 MB, 254 MB goal, … (forced)
//
// LiveBytes is the heap marked live by that cycle ("->0 MB"); the runtime
// prints whole MB, so it is exact to 1 MiB.
type gcTrace struct {
	Num       int
	LiveBytes int64
	Forced    bool
}

var gcTraceLine = regexp.MustCompile(`(?m)^gc (\d+) @[0-9.]+s [0-9]+%: .* (\d+)->(\d+)->(\d+) MB, .*$`)

// lastGC returns the newest gctrace line in output. Other output (the
// service's own log lines) is ignored.
func lastGC(output string) (gcTrace, bool) {
	all := gcTraceLine.FindAllStringSubmatch(output, -1)
	if len(all) == 0 {
		return gcTrace{}, false
	}
	m := all[len(all)-1]
	num, err1 := strconv.Atoi(m[1])
	live, err2 := strconv.ParseInt(m[4], 10, 64)
	if err1 != nil || err2 != nil {
		return gcTrace{}, false
	}
	return gcTrace{Num: num, LiveBytes: live << 20, Forced: strings.HasSuffix(m[0], "(forced)")}, true
}

// settleRule says when an idle process's memory counts as settled.
type settleRule struct {
	// GCTimeout bounds the wait for a collection after the phase ended. An
	// idle Go process collects at least every 2 minutes (the runtime's
	// forced GC), so the wait is at most that plus scheduling slack.
	GCTimeout time.Duration
	// Window is how long RSS must stay within Tolerance (of its maximum in
	// the window, but at least Slack) to count as stable.
	Window    time.Duration
	Tolerance float64
	Slack     int64
	// StableTimeout bounds the wait for a stable window after the GC.
	StableTimeout time.Duration
	Poll          time.Duration
}

var defaultSettle = settleRule{
	GCTimeout:     3 * time.Minute,
	Window:        15 * time.Second,
	Tolerance:     0.01,
	Slack:         512 << 10,
	StableTimeout: 3 * time.Minute,
	Poll:          time.Second,
}

// settled is a memory reading taken by settle.
type settled struct {
	Mem    memSample
	GC     gcTrace
	Waited time.Duration
}

// settle waits until the process has collected garbage after the phase
// that ended with GC number afterGC (ARCHITECTURE W9: "after GC"), then
// until its RSS holds still for r.Window (the scavenger returns freed
// pages to the kernel gradually), and returns the last reading.
func settle(ctx context.Context, r settleRule, pid int, output func() string, afterGC int) (settled, error) {
	start := time.Now()
	var gc gcTrace
	gcDeadline := start.Add(r.GCTimeout)
	for {
		if g, ok := lastGC(output()); ok && g.Num > afterGC {
			gc = g
			break
		}
		if time.Now().After(gcDeadline) {
			return settled{}, fmt.Errorf("no garbage collection after gc #%d within %v; was the service started with GODEBUG=gctrace=1?", afterGC, r.GCTimeout)
		}
		if err := pause(ctx, r.Poll); err != nil {
			return settled{}, err
		}
	}
	var window []memSample
	need := int(r.Window/r.Poll) + 1
	stableDeadline := time.Now().Add(r.StableTimeout)
	for {
		m, err := readMem(pid)
		if err != nil {
			return settled{}, err
		}
		window = append(window, m)
		if len(window) > need {
			window = window[1:]
		}
		if len(window) == need && stable(window, r) {
			if g, ok := lastGC(output()); ok {
				gc = g // a later cycle's figure is as valid and newer
			}
			return settled{Mem: m, GC: gc, Waited: time.Since(start)}, nil
		}
		if time.Now().After(stableDeadline) {
			return settled{}, fmt.Errorf("RSS did not hold still for %v within %v after gc #%d; last readings %v", r.Window, r.StableTimeout, gc.Num, window)
		}
		if err := pause(ctx, r.Poll); err != nil {
			return settled{}, err
		}
	}
}

// stable reports whether the readings stay within the rule's band.
func stable(window []memSample, r settleRule) bool {
	lo, hi := window[0].RSS, window[0].RSS
	for _, m := range window[1:] {
		lo, hi = min(lo, m.RSS), max(hi, m.RSS)
	}
	return hi-lo <= max(int64(float64(hi)*r.Tolerance), r.Slack)
}

func pause(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// userHZ is the unit of the CPU times in /proc/<pid>/stat: the kernel
// reports them in USER_HZ, 100 on every Linux architecture Go supports.
const userHZ = 100

// procCPU is the CPU time pid has used (user + system), plus that of its
// reaped children when withChildren (a postmaster's exited backends).
func procCPU(pid int, withChildren bool) (time.Duration, error) {
	text, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("read CPU time of pid %d: %w", pid, err)
	}
	ticks, err := parseStatCPU(string(text), withChildren)
	if err != nil {
		return 0, fmt.Errorf("read CPU time of pid %d: %w", pid, err)
	}
	return time.Duration(ticks) * time.Second / userHZ, nil
}

// parseStatCPU sums utime and stime (fields 14 and 15 of
// /proc/<pid>/stat), and cutime and cstime (16, 17) when withChildren.
// Fields are counted from the last ')', since the command name may hold
// spaces and parentheses.
func parseStatCPU(stat string, withChildren bool) (uint64, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("stat %q: no command name", stat)
	}
	fields := strings.Fields(stat[i+1:]) // fields[0] is field 3
	last := 15
	if withChildren {
		last = 17
	}
	if len(fields) < last-2 {
		return 0, fmt.Errorf("stat %q: %d fields after the command name, want at least %d", stat, len(fields), last-2)
	}
	var sum uint64
	for f := 14; f <= last; f++ {
		v, err := strconv.ParseUint(fields[f-3], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("stat field %d %q: %w", f, fields[f-3], err)
		}
		sum += v
	}
	return sum, nil
}
