package actors

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"
)

// childTable is the pure state machine behind a supervisor: it holds the
// ordered children, decides what to stop, when to re-spawn and in which
// order, and returns effects for the actor to carry out. It never touches
// protoactor, so every ordering rule is testable without actors (the
// etcd-raft shape: Step in, effects out).
//
// Ordering rules:
//   - one child starts at a time: the next spawn waits until the previous
//     child's Started handler returned (childStarted), so Started hooks run
//     in spec order, as OTP's synchronous start does;
//   - a restart group (the failed child plus the children its Strategy
//     affects) is re-spawned only after every member has terminated and
//     the backoff timer fired; then in spec order;
//   - temporary children are never re-spawned; their exit is reported;
//   - dynamic children are appended after the static ones and spawned at
//     once when added.
type childTable struct {
	name     string // supervisor id, for errors
	strategy Strategy
	backoff  BackoffPolicy
	window   restartWindow
	random   func() float64

	slots    []*childSlot // spec order, then dynamic children in add order
	byLabel  map[string]*childSlot
	groups   []*restartGroup
	starting *childSlot // the ordered start in flight
	seq      int        // start order, for reverse-start-order shutdown
	token    int

	shutdown  bool
	stopQueue []*childSlot
	selfStop  bool
}

type slotState int

const (
	slotWaiting  slotState = iota // not running; spawned once its group is ready
	slotStarting                  // spawned, Started not yet handled
	slotRunning
	slotStopping // stop requested by the supervisor
)

type childSlot struct {
	spec     ChildSpec
	state    slotState
	removing bool
	group    *restartGroup
	attempts int
	started  time.Time
	startSeq int
	reason   any    // failure reason from HandleFailure; nil when it stopped cleanly
	why      string // why the next spawn is a restart (for inspection)
}

type restartGroup struct {
	token     int
	ready     bool // backoff elapsed
	restart   bool // false for the initial start
	members   []*childSlot
	remaining int // members not yet started
}

type effectKind int

const (
	doSpawn        effectKind = iota + 1 // spawn label (restart, why)
	doStop                               // stop label (ordered: during shutdown)
	doArm                                // arm timer token after delay
	doEscalate                           // fail the supervisor with err
	doReport                             // tell watcher that temporary child label exited (exit)
	doForget                             // child label is gone for good: drop its inspection entry
	doMarkStopped                        // child label will not come back (shutdown)
	doAfterRestart                       // run the post-restart hook for labels
	doStopSelf                           // ordered shutdown finished: stop the supervisor
)

type effect struct {
	kind    effectKind
	label   string
	restart bool
	why     string
	ordered bool
	delay   time.Duration
	token   int
	err     error
	exit    any
	watcher *PID
	labels  []string
}

var (
	errDuplicateChild = errors.New("a child with this label exists")
	errNoSuchChild    = errors.New("no child with this label")
	errStopping       = errors.New("supervisor is shutting down")
)

func newChildTable(name string, spec SupervisorSpec, random func() float64) *childTable {
	t := &childTable{
		name: name, strategy: spec.Strategy, backoff: spec.Backoff,
		window: restartWindow{limit: spec.Escalate}, random: random,
		byLabel: make(map[string]*childSlot, len(spec.Children)),
	}
	for _, c := range spec.Children {
		s := &childSlot{spec: c}
		t.slots = append(t.slots, s)
		t.byLabel[c.Label] = s
	}
	return t
}

func (t *childTable) lookup(label string) (ChildSpec, bool) {
	s, ok := t.byLabel[label]
	if !ok {
		return ChildSpec{}, false
	}
	return s.spec, true
}

// start begins the ordered start of the static children.
func (t *childTable) start() []effect {
	g := t.newGroup(false)
	g.ready = true
	for _, s := range t.slots {
		t.join(g, s)
	}
	if g.remaining > 0 {
		t.groups = append(t.groups, g)
	}
	return t.next(nil)
}

// started: label's Started handler returned.
func (t *childTable) started(label string, now time.Time) []effect {
	s, ok := t.byLabel[label]
	if !ok || s.state != slotStarting {
		return nil
	}
	s.state, s.started = slotRunning, now
	if t.starting == s {
		t.starting = nil
	}
	var eff []effect
	if g := s.group; g != nil {
		t.leave(s)
		if g.remaining == 0 && g.restart {
			eff = append(eff, effect{kind: doAfterRestart, labels: labelsOf(g.members)})
		}
	}
	return t.next(eff)
}

// failed records why label failed; the Terminated that follows decides.
func (t *childTable) failed(label string, reason any) {
	if s, ok := t.byLabel[label]; ok {
		s.reason = reason
	}
}

// terminated: label's incarnation has stopped.
func (t *childTable) terminated(label string, now time.Time) []effect {
	s, ok := t.byLabel[label]
	if !ok {
		return nil
	}
	was := s.state
	if t.starting == s {
		t.starting = nil
	}
	if t.shutdown {
		return t.shutdownTerminated(s)
	}
	if s.removing {
		t.drop(s)
		return t.next([]effect{{kind: doForget, label: label}})
	}
	if s.spec.Restart == Temporary {
		t.drop(s)
		return t.next([]effect{
			{kind: doReport, label: label, exit: s.reason, watcher: s.spec.Watcher},
			{kind: doForget, label: label},
		})
	}
	if was == slotStopping { // stopped by us as part of a restart group
		s.state = slotWaiting
		return t.next(nil)
	}
	if was == slotWaiting {
		return nil
	}
	return t.restartGroupFor(s, was, now)
}

// restartGroupFor handles a permanent child that ended on its own.
func (t *childTable) restartGroupFor(s *childSlot, was slotState, now time.Time) []effect {
	cause := describe(s.reason)
	if t.window.record(now) {
		return []effect{{kind: doEscalate, err: &EscalationError{
			Supervisor: t.name, Child: s.spec.Label, Restarts: t.window.count(now),
			Window: t.window.limit.Window, LastReason: cause,
		}}}
	}
	if was == slotRunning {
		s.attempts = t.backoff.NextAttempt(s.attempts, now.Sub(s.started))
	}
	delay := t.backoff.Delay(s.attempts, t.random())
	s.attempts++
	s.state, s.why = slotWaiting, cause

	g := t.newGroup(true)
	var eff []effect
	for _, i := range t.strategy.Affected(t.index(s), len(t.slots)) {
		m := t.slots[i]
		if m.removing {
			continue
		}
		if m.spec.Restart == Temporary { // never re-spawned; stopped with the group
			if m.state == slotRunning || m.state == slotStarting {
				m.state = slotStopping
				eff = append(eff, effect{kind: doStop, label: m.spec.Label})
			}
			continue
		}
		t.join(g, m) // leaves any pending group: the new one supersedes it
		if m != s {
			m.why = "restarted with " + s.spec.Label + ": " + cause
			if m.state == slotRunning || m.state == slotStarting {
				m.state = slotStopping
				eff = append(eff, effect{kind: doStop, label: m.spec.Label})
			}
		}
	}
	sort.Slice(g.members, func(i, j int) bool { return t.index(g.members[i]) < t.index(g.members[j]) })
	t.groups = append(t.groups, g)
	// Children outside the group (say, later ones still in the initial
	// start) may go on starting meanwhile.
	return t.next(append(eff, effect{kind: doArm, token: g.token, delay: delay}))
}

// timerFired: the backoff of the group with token elapsed.
func (t *childTable) timerFired(token int) []effect {
	for _, g := range t.groups {
		if g.token == token {
			g.ready = true
		}
	}
	return t.next(nil)
}

// add appends a dynamic child, spawned at once by the caller.
func (t *childTable) add(spec ChildSpec) error {
	if t.shutdown {
		return errStopping
	}
	if _, ok := t.byLabel[spec.Label]; ok {
		return errDuplicateChild
	}
	s := &childSlot{spec: spec, state: slotStarting, startSeq: t.nextSeq()}
	t.slots = append(t.slots, s)
	t.byLabel[spec.Label] = s
	return nil
}

// abandon forgets a child whose spawn failed.
func (t *childTable) abandon(label string) {
	if s, ok := t.byLabel[label]; ok {
		t.drop(s)
	}
}

// next spawns the first waiting child, in spec order, whose group is
// ready, unless an ordered start is still in flight.
func (t *childTable) next(eff []effect) []effect {
	if t.shutdown || t.starting != nil {
		return eff
	}
	var pick *childSlot
	for _, g := range t.groups {
		if !g.ready || g.stopping() {
			continue
		}
		for _, m := range g.members {
			if m.group == g && m.state == slotWaiting && (pick == nil || t.index(m) < t.index(pick)) {
				pick = m
				break
			}
		}
	}
	if pick == nil {
		return eff
	}
	restart := pick.group.restart
	pick.state, pick.reason, pick.startSeq = slotStarting, nil, t.nextSeq()
	t.starting = pick
	return append(eff, effect{kind: doSpawn, label: pick.spec.Label, restart: restart, why: pick.why})
}

// newGroup creates a group; the caller registers it once it has members.
func (t *childTable) newGroup(restart bool) *restartGroup {
	t.token++
	return &restartGroup{token: t.token, restart: restart}
}

func (t *childTable) join(g *restartGroup, s *childSlot) {
	if s.group == g {
		return
	}
	t.leave(s)
	s.group = g
	g.members = append(g.members, s)
	g.remaining++
}

func (t *childTable) leave(s *childSlot) {
	if g := s.group; g != nil {
		g.remaining--
		s.group = nil
		if g.remaining == 0 {
			t.groups = slices.DeleteFunc(t.groups, func(x *restartGroup) bool { return x == g })
		}
	}
}

func (g *restartGroup) stopping() bool {
	for _, m := range g.members {
		if m.group == g && m.state == slotStopping {
			return true
		}
	}
	return false
}

func (t *childTable) drop(s *childSlot) {
	t.leave(s)
	delete(t.byLabel, s.spec.Label)
	if i := t.index(s); i >= 0 {
		t.slots = append(t.slots[:i], t.slots[i+1:]...)
	}
}

func (t *childTable) index(s *childSlot) int {
	for i, x := range t.slots {
		if x == s {
			return i
		}
	}
	return -1
}

func (t *childTable) nextSeq() int {
	t.seq++
	return t.seq
}

func labelsOf(slots []*childSlot) []string {
	out := make([]string, len(slots))
	for i, s := range slots {
		out[i] = s.spec.Label
	}
	return out
}

// describe renders a failure reason for logs and inspection.
func describe(reason any) string {
	if reason == nil {
		return "stopped"
	}
	return fmt.Sprint(reason)
}
