package actors

import (
	"math/rand/v2"
	"testing"
	"time"

	"pgregory.net/rapid"
)

func TestBackoffDelayGrowsThenCaps(t *testing.T) {
	b := Backoff(10*time.Millisecond, 100*time.Millisecond, 0, 0)
	want := []time.Duration{10, 20, 40, 80, 100, 100, 100}
	for attempt, w := range want {
		if got := b.Delay(attempt, 0.7); got != w*time.Millisecond {
			t.Errorf("attempt %d: got %v, want %v", attempt, got, w*time.Millisecond)
		}
	}
	// Never gives up: a thousandth failure still gets a finite, capped delay.
	if got := b.Delay(1000, 0); got != 100*time.Millisecond {
		t.Errorf("attempt 1000: got %v, want the cap", got)
	}
}

func TestBackoffJitterTakesOffAFraction(t *testing.T) {
	b := Backoff(time.Second, 30*time.Second, 0.5, 0)
	for _, tc := range []struct {
		name    string
		attempt int
		random  float64
		want    time.Duration
	}{
		{"ok - no jitter drawn", 0, 0, time.Second},
		{"ok - half of the jitter", 0, 0.5, 750 * time.Millisecond},
		{"ok - capped then jittered", 10, 0.2, 27 * time.Second},
		{"ok - out of range random is clamped", 1, 7, time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := b.Delay(tc.attempt, tc.random); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestBackoffDelayStaysInItsBand(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		lo := time.Duration(rapid.Int64Range(1, int64(time.Hour)).Draw(t, "min"))
		hi := time.Duration(rapid.Int64Range(0, int64(24*time.Hour)).Draw(t, "max"))
		jitter := rapid.Float64Range(0, 1).Draw(t, "jitter")
		attempt := rapid.IntRange(0, 10_000).Draw(t, "attempt")
		seed := rapid.Uint64().Draw(t, "seed")
		b := Backoff(lo, hi, jitter, 0)
		cap := max(hi, lo)
		full := b.Delay(attempt, 0)
		if full < lo || full > cap {
			t.Fatalf("unjittered delay %v outside [%v, %v]", full, lo, cap)
		}
		if attempt > 0 && b.Delay(attempt-1, 0) > full {
			t.Fatalf("delay shrank from attempt %d to %d", attempt-1, attempt)
		}
		r := rand.New(rand.NewPCG(seed, 1)).Float64()
		got := b.Delay(attempt, r)
		floor := full - time.Duration(float64(full)*jitter)
		if got < floor || got > full {
			t.Fatalf("jittered delay %v outside [%v, %v]", got, floor, full)
		}
	})
}

func TestBackoffResetsAfterAQuietRun(t *testing.T) {
	b := Backoff(time.Second, time.Minute, 0, 10*time.Second)
	if got := b.NextAttempt(5, 9*time.Second); got != 5 {
		t.Errorf("short run: got attempt %d, want 5 (no reset)", got)
	}
	if got := b.NextAttempt(5, 10*time.Second); got != 0 {
		t.Errorf("run of resetAfter: got attempt %d, want 0", got)
	}
	if got := Backoff(time.Second, time.Minute, 0, 0).NextAttempt(5, time.Hour); got != 5 {
		t.Errorf("resetAfter 0 never resets: got %d", got)
	}
}

func TestBackoffZeroMinIsImmediate(t *testing.T) {
	if got := Backoff(0, time.Second, 0.5, 0).Delay(3, 0.5); got != 0 {
		t.Errorf("got %v, want 0", got)
	}
}
