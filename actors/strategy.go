package actors

import (
	"fmt"
	"time"
)

// Strategy says which children a supervisor re-spawns when one of its
// permanent children terminates. protoactor has no rest-for-one and its
// AllForOne restarts concurrently, not in order (ARCHITECTURE §4), so the
// kit's supervisors implement all three themselves.
type Strategy int

const (
	// OneForOne re-spawns only the child that terminated.
	OneForOne Strategy = iota + 1
	// OneForAll stops every other child and re-spawns all of them in spec
	// order.
	OneForAll
	// RestForOne stops the children after the one that terminated and
	// re-spawns it and them in spec order; earlier children are untouched.
	RestForOne
)

func (s Strategy) String() string {
	switch s {
	case OneForOne:
		return "one-for-one"
	case OneForAll:
		return "one-for-all"
	case RestForOne:
		return "rest-for-one"
	}
	return fmt.Sprintf("Strategy(%d)", int(s))
}

func (s Strategy) validate() error {
	switch s {
	case OneForOne, OneForAll, RestForOne:
		return nil
	}
	return fmt.Errorf("invalid supervisor strategy %d: use actors.OneForOne, actors.OneForAll or actors.RestForOne", int(s))
}

// Affected lists, in spec order, the positions of the children re-spawned
// when the child at position failed (of n children) terminates.
func (s Strategy) Affected(failed, n int) []int {
	if failed < 0 || failed >= n {
		return nil
	}
	from, to := failed, failed+1
	switch s {
	case OneForAll:
		from, to = 0, n
	case RestForOne:
		to = n
	}
	out := make([]int, 0, to-from)
	for i := from; i < to; i++ {
		out = append(out, i)
	}
	return out
}

// Escalation is a supervisor's restart intensity: more than MaxRestarts
// re-spawns within Window make the supervisor itself fail, so that its own
// parent handles it (OTP intensity/period). protoactor never escalates on
// its own: exceeding its retry limit just stops the child (GO_STACK P3).
// The zero Escalation never escalates.
type Escalation struct {
	MaxRestarts int
	Window      time.Duration
}

// EscalateAfter makes a supervisor fail when more than n of its children's
// terminations fall within window.
func EscalateAfter(n int, window time.Duration) Escalation {
	return Escalation{MaxRestarts: n, Window: window}
}

func (e Escalation) enabled() bool { return e.Window > 0 }

// restartWindow counts restarts inside a sliding window.
type restartWindow struct {
	limit Escalation
	times []time.Time
}

// record notes a restart at now and reports whether the limit is exceeded.
func (w *restartWindow) record(now time.Time) bool {
	if !w.limit.enabled() {
		return false
	}
	keep := w.times[:0]
	for _, t := range w.times {
		if now.Sub(t) < w.limit.Window {
			keep = append(keep, t)
		}
	}
	w.times = append(keep, now)
	return len(w.times) > w.limit.MaxRestarts
}

// count is the number of restarts inside the window ending at now.
func (w *restartWindow) count(now time.Time) int {
	n := 0
	for _, t := range w.times {
		if now.Sub(t) < w.limit.Window {
			n++
		}
	}
	return n
}

// EscalationError is the reason a supervisor fails with when its children
// restarted more often than its Escalation allows.
type EscalationError struct {
	Supervisor string // PID id of the supervisor
	Child      string // label of the child whose termination tipped it
	Restarts   int
	Window     time.Duration
	LastReason string
}

func (e *EscalationError) Error() string {
	return fmt.Sprintf("supervisor %s escalates: %d restarts within %v (last: child %q, %s)",
		e.Supervisor, e.Restarts, e.Window, e.Child, e.LastReason)
}
