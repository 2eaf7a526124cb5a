package actors

import "time"

// BackoffPolicy is how long a supervisor waits before re-spawning a child
// that terminated: Min doubled per consecutive failure, capped at Max, with
// up to Jitter (a fraction in [0,1]) taken off at random so that siblings
// do not retry in lockstep. It never gives up (RELIABILITY A11). A child
// that ran for ResetAfter without failing starts again from Min.
//
// protoactor's NewExponentialBackoffStrategy is linear with nanoseconds of
// noise and no cap (GO_STACK P4); this replaces it.
type BackoffPolicy struct {
	Min, Max   time.Duration
	Jitter     float64
	ResetAfter time.Duration
}

// Backoff builds a BackoffPolicy: exponential from min, capped at max,
// jittered by the fraction jitter, reset after a child ran resetAfter.
func Backoff(min, max time.Duration, jitter float64, resetAfter time.Duration) BackoffPolicy {
	return BackoffPolicy{Min: min, Max: max, Jitter: jitter, ResetAfter: resetAfter}
}

// Delay is the wait before re-spawn number attempt (0 for the first
// failure in a row). random is a sample from [0,1); it is a parameter so
// that the arithmetic is deterministic under test. The result lies in
// [d*(1-Jitter), d] where d = min(Min*2^attempt, Max).
func (b BackoffPolicy) Delay(attempt int, random float64) time.Duration {
	if b.Min <= 0 {
		return 0
	}
	limit := b.Max
	if limit < b.Min {
		limit = b.Min
	}
	d := b.Min
	for i := 0; i < attempt && d < limit; i++ {
		if d > limit/2 { // doubling would pass the cap (and could overflow)
			d = limit
			break
		}
		d *= 2
	}
	if d > limit {
		d = limit
	}
	jitter := clamp01(b.Jitter)
	r := clamp01(random)
	return d - time.Duration(float64(d)*jitter*r)
}

// NextAttempt is the attempt number to use for a failure after a child
// that was on attempt prev had been running for ranFor.
func (b BackoffPolicy) NextAttempt(prev int, ranFor time.Duration) int {
	if b.ResetAfter > 0 && ranFor >= b.ResetAfter {
		return 0
	}
	return prev
}

func clamp01(f float64) float64 {
	switch {
	case f < 0:
		return 0
	case f > 1:
		return 1
	}
	return f
}
