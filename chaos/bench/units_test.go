package bench

import (
	"testing"
	"time"
)

func TestParseProcStatus(t *testing.T) {
	text := "Name:\tshapesync\nVmPeak:\t  900 kB\nVmRSS:\t    3072 kB\nRssAnon:\t    2048 kB\nRssFile:\t    1024 kB\nRssShmem:\t       0 kB\n"
	m, err := parseProcStatus(text)
	if err != nil {
		t.Fatal(err)
	}
	if want := (memSample{RSS: 3 << 20, RSSAnon: 2 << 20, RSSFile: 1 << 20}); m != want {
		t.Fatalf("got %+v, want %+v", m, want)
	}
	for _, bad := range []string{
		"Name:\tx\n", // a zombie has no Rss lines
		"VmRSS:\t12 MB\nRssAnon:\t1 kB\nRssFile:\t1 kB\n",
		"VmRSS:\tmany kB\nRssAnon:\t1 kB\nRssFile:\t1 kB\n",
	} {
		if _, err := parseProcStatus(bad); err == nil {
			t.Errorf("parseProcStatus(%q) = nil error, want one", bad)
		}
	}
}

func TestLastGC(t *testing.T) {
	out := `gc 6 @0.010s 22%: 0.045+0.15+0.001 ms clock, 0.091+0.11/0/0+0.003 ms cpu, 126->127->127 MB, 128 MB goal, 0 MB stacks, 0 MB globals, 2 P
{"level":"info","msg":"gc 9 @1s 1%: not a trace, 1->2->3 MB, x"}
gc 7 @12.013s 0%: 0.088+0.14+0.002 ms clock, 0.17+0/0.068/0.039+0.005 ms cpu, 200->200->41 MB, 254 MB goal, 0 MB stacks, 0 MB globals, 2 P (forced)
`
	g, ok := lastGC(out)
	if !ok {
		t.Fatal("no gc line found")
	}
	if want := (gcTrace{Num: 7, LiveBytes: 41 << 20, Forced: true}); g != want {
		t.Fatalf("got %+v, want %+v", g, want)
	}
	if _, ok := lastGC("no traces here\n"); ok {
		t.Fatal("found a gc line in output without one")
	}
}

func TestStable(t *testing.T) {
	r := settleRule{Tolerance: 0.01, Slack: 100}
	at := func(rss ...int64) []memSample {
		var w []memSample
		for _, v := range rss {
			w = append(w, memSample{RSS: v})
		}
		return w
	}
	if !stable(at(100_000, 100_900, 100_500), r) {
		t.Error("a 0.9% band is not stable")
	}
	if stable(at(100_000, 101_100), r) {
		t.Error("a 1.1% band is stable")
	}
	if !stable(at(1_000, 1_090), r) {
		t.Error("a band within Slack is not stable")
	}
}

func TestQuantile(t *testing.T) {
	ds := []time.Duration{5, 1, 4, 2, 3, 10, 9, 8, 7, 6}
	if got := quantile(ds, 0.5); got != 5 {
		t.Errorf("p50 = %v, want 5", got)
	}
	if got := quantile(ds, 0.99); got != 10 {
		t.Errorf("p99 = %v, want 10", got)
	}
	if got := quantile(nil, 0.5); got != 0 {
		t.Errorf("p50 of nothing = %v, want 0", got)
	}
}

func TestRetryAfter(t *testing.T) {
	for header, want := range map[string]time.Duration{
		"1": time.Second, "": 100 * time.Millisecond, "soon": 100 * time.Millisecond, "3600": maxRetryWait,
	} {
		if got := retryAfter(header); got != want {
			t.Errorf("retryAfter(%q) = %v, want %v", header, got, want)
		}
	}
}

func TestParseStatCPU(t *testing.T) {
	// pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime …
	stat := "42 (post gres: a (b)) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 7 3 20 0 1 0 1234 0 0\n"
	if got, err := parseStatCPU(stat, false); err != nil || got != 300 {
		t.Errorf("parseStatCPU(own) = %d, %v; want 300", got, err)
	}
	if got, err := parseStatCPU(stat, true); err != nil || got != 310 {
		t.Errorf("parseStatCPU(with children) = %d, %v; want 310", got, err)
	}
	for _, bad := range []string{"42 no parens S 1", "42 (x) S 1 2 3", "42 (x) S 1 42 42 0 -1 0 0 0 0 0 many 50 7 3"} {
		if _, err := parseStatCPU(bad, true); err == nil {
			t.Errorf("parseStatCPU(%q) = nil error, want one", bad)
		}
	}
}
