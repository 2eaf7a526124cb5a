package actors

import (
	"context"
	"slices"
	"testing"
	"time"
)

func shutdownNow(t *testing.T, k *Kit, timeout time.Duration) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return k.Shutdown(ctx)
}

func allStopped(k *Kit) bool {
	for _, in := range k.Snapshot() {
		if in.State != StateStopped {
			return false
		}
	}
	return true
}

func TestShutdownStopsInReverseStartOrderRecursively(t *testing.T) {
	k, _ := newTestKit(t)
	rec := &recorder{}
	inner := SupervisorSpec{Strategy: OneForAll, Backoff: fast, Children: []ChildSpec{probeSpec("x", rec), probeSpec("y", rec)}}
	spawnSup(t, k, "stack", SupervisorSpec{Strategy: OneForOne, Backoff: fast,
		Children: []ChildSpec{probeSpec("a", rec), probeSpec("b", rec), supSpec("inner", inner)}})
	eventually(t, wait, "tree up", running(k, "stack/a", "stack/b", "stack/inner/x", "stack/inner/y"))
	if stuck := shutdownNow(t, k, wait); stuck != nil {
		t.Fatalf("stuck: %v", stuck)
	}
	want := []string{"stop:y", "stop:x", "stop:b", "stop:a"}
	if got := rec.with("stop:"); !slices.Equal(got, want) {
		t.Fatalf("stop order %v, want %v", got, want)
	}
	if !allStopped(k) {
		t.Fatalf("not every actor is stopped: %+v", k.Snapshot())
	}
	if n := len(rec.with("start:")); n != 4 {
		t.Fatalf("a child was re-spawned during shutdown: %v", rec.all())
	}
}

func TestShutdownHonoursStopOrder(t *testing.T) {
	k, _ := newTestKit(t)
	rec := &recorder{}
	spawnSup(t, k, "core", SupervisorSpec{Strategy: RestForOne, Backoff: fast, StopOrder: []string{"b"},
		Children: []ChildSpec{probeSpec("a", rec), probeSpec("b", rec), probeSpec("c", rec)}})
	eventually(t, wait, "up", running(k, "core/a", "core/b", "core/c"))
	if stuck := shutdownNow(t, k, wait); stuck != nil {
		t.Fatalf("stuck: %v", stuck)
	}
	if got := rec.with("stop:"); !slices.Equal(got, []string{"stop:b", "stop:c", "stop:a"}) {
		t.Fatalf("stop order %v", got)
	}
}

func TestShutdownStopsRootsInReverseSpawnOrder(t *testing.T) {
	k, _ := newTestKit(t)
	rec := &recorder{}
	for _, l := range []string{"first", "second", "third"} {
		if _, err := k.Spawn(l, probeOf(l, rec), Count(4), Credit); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, wait, "up", running(k, "first", "second", "third"))
	if stuck := shutdownNow(t, k, wait); stuck != nil {
		t.Fatalf("stuck: %v", stuck)
	}
	if got := rec.with("stop:"); !slices.Equal(got, []string{"stop:third", "stop:second", "stop:first"}) {
		t.Fatalf("stop order %v", got)
	}
}

func TestShutdownDeadlineLogsAndReturnsTheStuckLabels(t *testing.T) {
	k, logs := newTestKit(t, WithSlowReceive(time.Hour, nil)) // b blocks on purpose
	rec := &recorder{}
	spawnSup(t, k, "stack", SupervisorSpec{Strategy: OneForOne, Backoff: fast,
		Children: []ChildSpec{probeSpec("a", rec), probeSpec("b", rec), probeSpec("c", rec)}})
	eventually(t, wait, "up", running(k, "stack/a", "stack/b", "stack/c"))
	release := blockOn(t, k, pidOf(k, "stack/b"))

	start := time.Now()
	stuck := shutdownNow(t, k, 500*time.Millisecond)
	if took := time.Since(start); took > 3*time.Second {
		t.Fatalf("Shutdown took %v, its deadline was 500ms", took)
	}
	// c stopped first; b blocks in Receive, so b, a (after b) and stack remain.
	if !slices.Equal(stuck, []string{"stack", "stack/a", "stack/b"}) {
		t.Fatalf("stuck: %v", stuck)
	}
	entries := logs.FilterMessageSnippet("shutdown deadline passed").All()
	if len(entries) != 1 || entries[0].Level.String() != "error" {
		t.Fatalf("want one error log for the deadline, got %v", entries)
	}
	if got := entries[0].ContextMap()["actors"]; !slices.Contains(got.([]any), any("stack/b")) {
		t.Fatalf("the log does not name stack/b: %v", got)
	}

	release() // the stuck Receive returns: the ordered stop carries on by itself
	eventually(t, wait, "the rest of the tree stopped", func() bool { return allStopped(k) })
	if got := rec.with("stop:"); !slices.Equal(got, []string{"stop:c", "stop:b", "stop:a"}) {
		t.Fatalf("stop order %v", got)
	}
}
