package actors

import (
	"slices"
	"testing"
	"time"
)

func TestStrategyAffected(t *testing.T) {
	for _, tc := range []struct {
		name     string
		strategy Strategy
		failed   int
		want     []int
	}{
		{"ok - one-for-one restarts the failed child", OneForOne, 1, []int{1}},
		{"ok - one-for-all restarts everyone in order", OneForAll, 1, []int{0, 1, 2}},
		{"ok - rest-for-one restarts the failed and later children", RestForOne, 1, []int{1, 2}},
		{"ok - rest-for-one on the first child is everyone", RestForOne, 0, []int{0, 1, 2}},
		{"ok - rest-for-one on the last child is itself", RestForOne, 2, []int{2}},
		{"error - unknown position", RestForOne, 3, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.strategy.Affected(tc.failed, 3); !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestRestartWindowExceedsAfterNWithinWindow(t *testing.T) {
	w := restartWindow{limit: EscalateAfter(2, time.Minute)}
	t0 := time.Unix(1000, 0)
	if w.record(t0) || w.record(t0.Add(10*time.Second)) {
		t.Fatal("two restarts within the window must not exceed a limit of 2")
	}
	if !w.record(t0.Add(20 * time.Second)) {
		t.Fatal("a third restart within the window must exceed a limit of 2")
	}
}

func TestRestartWindowForgetsOldRestarts(t *testing.T) {
	w := restartWindow{limit: EscalateAfter(2, time.Minute)}
	t0 := time.Unix(1000, 0)
	for i := range 10 { // one restart every 40 s: never more than 2 in a minute
		if w.record(t0.Add(time.Duration(i) * 40 * time.Second)) {
			t.Fatalf("restart %d exceeded although only 2 fall in any minute", i)
		}
	}
	if got := w.count(t0.Add(9 * 40 * time.Second)); got != 2 {
		t.Errorf("count: got %d, want 2", got)
	}
}

func TestZeroEscalationNeverEscalates(t *testing.T) {
	w := restartWindow{}
	t0 := time.Unix(1000, 0)
	for i := range 100 {
		if w.record(t0.Add(time.Duration(i))) {
			t.Fatal("the zero Escalation escalated")
		}
	}
}
