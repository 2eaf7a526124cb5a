package manager

import (
	"fmt"
	"strings"
	"time"

	"github.com/shapesync/shapesync/replication/pgwire"
	"github.com/shapesync/shapesync/shapes/protocol"
)

type childState int

const (
	absent childState = iota
	starting
	ready
	stopping
)

func (s childState) String() string {
	return [...]string{"absent", "starting", "ready", "stopping"}[s]
}

// Machine is conn-manager's pure state machine (the shape of raft's Step):
// events in, actions out, no goroutines, no I/O, no clock of its own.
//
// Setup runs the phases in order: admin pool ready → lock held →
// replication setup → snapshot pool ready → shapes started → txn-builder
// and replication spawned → live once replication reports streaming.
//
// Failures, classified with pgwire.Diagnose: retryable ones wait
// RetryMin·2^n ±Jitter (n consecutive failures, reset once the stream ran
// StableAfter); operator-needed and replication-impossible ones wait
// SlowMin–SlowMax and never give up (A9); slot-lost ones make the next
// setup recreate the slot, and the shapes purge. A child's death:
//   - admin-pool, snapshot-pool: re-spawned after the wait; nothing else
//     is touched (the stream does not use them);
//   - lock: fence first (stop replication and txn-builder, abandon a
//     running setup, report the stream down), then re-spawn the lock; once
//     it is held again, setup and stream are redone (A4, continuity);
//   - txn-builder or replication: fence (the pair restarts together), then
//     redo the setup, which reads the slot's acknowledged position, and the
//     stream.
//
// Reset (the shapes subsystem restarted) fences and redoes setup and
// stream without a backoff.
type Machine struct {
	policy Policy
	phase  Phase
	child  [numChildren]childState
	now    time.Time
	out    []Action

	attempt    int       // consecutive retryable failures
	liveSince  time.Time // replication reported streaming; zero when not
	token      int       // last token issued
	phaseRetry int       // token of the armed phase retry, 0 when none
	respawn    [numChildren]int

	setupToken  int // running setup, 0 when none
	setup       *SetupResult
	recreate    string // non-empty: the next setup recreates the slot (why)
	purge       string // non-empty: the next shapes start purges (why)
	shapesToken int    // shapes start in flight, 0 when none
	shapesPurge bool   // the one in flight purges
	shapesDone  bool   // shapes started for the current setup

	lastFailure string
}

// NewMachine returns a machine that starts on Started.
func NewMachine(p Policy) *Machine { return &Machine{policy: p.withDefaults()} }

// Phase is the current phase (0 before Started).
func (m *Machine) Phase() Phase { return m.phase }

// Step feeds one event at time now and returns the actions it causes, in
// the order they must be carried out.
func (m *Machine) Step(ev Event, now time.Time) []Action {
	m.now, m.out = now, nil
	switch e := ev.(type) {
	case Started:
		if m.phase == 0 {
			m.phase = PhaseAdminPool
			m.advance()
		}
	case ChildReady:
		m.childReady(e.Child)
	case ChildWaiting:
		// The child reported it to status itself; nothing to decide.
	case ChildDown:
		m.childDown(e.Child, e.Reason)
	case SetupDone:
		m.setupDone(e)
	case SetupFailed:
		m.setupFailed(e)
	case ShapesStarted:
		m.shapesStarted(e)
	case ShapesFailed:
		m.shapesFailed(e)
	case RetryDue:
		m.retryDue(e.Token)
	case Reset:
		m.reset(e.Reason)
	}
	return m.out
}

func (m *Machine) emit(a Action) { m.out = append(m.out, a) }

func (m *Machine) next() int { m.token++; return m.token }

func (m *Machine) report(name string, ok bool, reason string) {
	m.emit(Report{Condition: protocol.Condition{Name: name, OK: ok, Reason: reason}})
}

func (m *Machine) spawn(c Child) {
	m.child[c] = starting
	var setup *SetupResult
	if c == Replication {
		s := *m.setup
		setup = &s
	}
	m.emit(Spawn{Child: c, Setup: setup})
}

// advance moves through the phases as far as the children's states allow.
func (m *Machine) advance() {
	if m.phaseRetry != 0 {
		return
	}
	for {
		switch m.phase {
		case PhaseAdminPool, PhaseLock, PhaseSnapshotPool:
			c := map[Phase]Child{PhaseAdminPool: AdminPool, PhaseLock: Lock, PhaseSnapshotPool: SnapshotPool}[m.phase]
			switch m.child[c] {
			case absent:
				if m.respawn[c] == 0 {
					m.spawn(c)
				}
				return
			case ready:
				m.phase++
			default:
				return
			}
		case PhaseSetup:
			// Setup runs only once the previous stream is gone, so a slot
			// being recreated is not in use and the position read is final.
			if m.child[TxnBuilder] != absent || m.child[Replication] != absent || m.setupToken != 0 {
				return
			}
			m.setupToken = m.next()
			m.emit(RunSetup{Token: m.setupToken, Request: SetupRequest{RecreateSlot: m.recreate != "", Reason: m.recreate}})
			return
		case PhaseShapes:
			if m.shapesDone {
				m.phase = PhaseStream
				continue
			}
			if m.shapesToken == 0 {
				m.shapesToken = m.next()
				m.shapesPurge = m.purge != ""
				m.emit(StartShapes{Token: m.shapesToken, Start: ShapesStart{Purge: m.shapesPurge, Reason: m.purge, Setup: *m.setup}})
			}
			return
		case PhaseStream:
			if m.child[TxnBuilder] == absent && m.child[Replication] == absent {
				m.spawn(TxnBuilder)
				m.spawn(Replication)
			}
			return
		default:
			return
		}
	}
}

func (m *Machine) childReady(c Child) {
	if m.child[c] != starting && m.child[c] != ready {
		return // a stopping child's last word
	}
	m.child[c] = ready
	if c == Replication && m.liveSince.IsZero() {
		m.liveSince = m.now
		if m.phase == PhaseStream {
			m.phase = PhaseLive
		}
	}
	m.advance()
}

func (m *Machine) childDown(c Child, reason any) {
	was := m.child[c]
	m.child[c] = absent
	switch was {
	case absent:
		return
	case stopping: // we stopped it
		m.advance()
		return
	}
	m.resetBackoffIfStable()
	d := diagnose(reason)
	m.lastFailure = c.Label() + ": " + d.String()
	switch c {
	case AdminPool, SnapshotPool:
		delay := m.delay(d.Class)
		if c == AdminPool {
			m.report(protocol.CondDatabase, false, fmt.Sprintf("%s; retrying in %s", d, round(delay)))
		}
		m.armRespawn(c, delay, d)
	case Lock:
		delay := m.delay(d.Class)
		m.fenceAndReport("the advisory lock holder stopped: " + d.String())
		m.report(protocol.CondLock, false, fmt.Sprintf("lock holder stopped (%s); retrying in %s", d, round(delay)))
		m.phaseRetry = 0
		m.phase = min(m.phase, PhaseLock)
		m.armRespawn(Lock, delay, d)
	case TxnBuilder, Replication:
		m.fence()
		m.streamFailed(c.Label(), d)
	}
}

// fence stops the stream before anything else (one streamer per slot,
// A4): replication and txn-builder, and a setup in flight. It reports
// whether it stopped anything; the caller says why to status.
func (m *Machine) fence() bool {
	stopped := false
	for _, c := range []Child{Replication, TxnBuilder} {
		if m.child[c] == starting || m.child[c] == ready {
			m.child[c] = stopping
			m.emit(Stop{Child: c})
			stopped = true
		}
	}
	if m.setupToken != 0 {
		m.emit(CancelSetup{Token: m.setupToken})
		m.setupToken = 0
		stopped = true
	}
	stopped = stopped || m.phase >= PhaseStream
	m.liveSince = time.Time{}
	if m.phase > PhaseSetup {
		m.phase = PhaseSetup
	}
	return stopped
}

// fenceAndReport fences and tells status the stream is down and why.
func (m *Machine) fenceAndReport(why string) {
	if m.fence() {
		m.report(protocol.CondReplication, false, "stream stopped: "+why)
	}
}

// streamFailed handles a failure of the setup or the stream: the class
// decides the wait and what the next setup does; the phase goes back to
// the setup.
func (m *Machine) streamFailed(what string, d pgwire.Diagnosis) {
	delay := m.delay(d.Class)
	switch d.Class {
	case pgwire.ReplicationImpossible:
		m.report(protocol.CondReplicationUsable, false, fmt.Sprintf("%s; retrying in %s", d, round(delay)))
	case pgwire.SlotLost:
		m.recreate = d.Reason
	}
	m.report(protocol.CondReplication, false, fmt.Sprintf("%s failed: %s; retrying in %s", what, d, round(delay)))
	m.phase = min(m.phase, PhaseSetup)
	m.phaseRetry = m.next()
	m.emit(Arm{Token: m.phaseRetry, Delay: delay, What: what, Why: d.String()})
}

func (m *Machine) armRespawn(c Child, delay time.Duration, d pgwire.Diagnosis) {
	m.respawn[c] = m.next()
	m.emit(Arm{Token: m.respawn[c], Delay: delay, What: c.Label(), Why: d.String()})
}

func (m *Machine) setupDone(e SetupDone) {
	if e.Token != m.setupToken || m.setupToken == 0 {
		return
	}
	m.setupToken = 0
	r := e.Result
	m.setup = &r
	m.recreate = ""
	if r.SlotCreated {
		m.purge = "replication slot " + r.Slot + " is new: " + r.SlotReason
	}
	m.shapesDone = false
	m.report(protocol.CondReplicationUsable, true, "")
	if m.phase == PhaseSetup {
		m.phase = PhaseSnapshotPool
	}
	m.advance()
}

func (m *Machine) setupFailed(e SetupFailed) {
	if e.Token != m.setupToken || m.setupToken == 0 {
		return
	}
	m.setupToken = 0
	m.resetBackoffIfStable()
	d := diagnose(e.Err)
	m.lastFailure = "replication setup: " + d.String()
	m.streamFailed("replication setup", d)
}

func (m *Machine) shapesStarted(e ShapesStarted) {
	if e.Token != m.shapesToken || m.shapesToken == 0 {
		return
	}
	m.shapesToken = 0
	if m.shapesPurge {
		m.purge = ""
	}
	// A purge that became due while a start without one was in flight
	// needs another start.
	m.shapesDone = m.purge == ""
	m.advance()
}

func (m *Machine) shapesFailed(e ShapesFailed) {
	if e.Token != m.shapesToken || m.shapesToken == 0 {
		return
	}
	m.shapesToken = 0
	d := diagnose(e.Err)
	m.lastFailure = "shapes: " + d.String()
	if m.phase != PhaseShapes {
		return // a later pass through the phase starts it again
	}
	delay := m.delay(d.Class)
	m.phaseRetry = m.next()
	m.emit(Arm{Token: m.phaseRetry, Delay: delay, What: "shapes", Why: d.String()})
}

func (m *Machine) retryDue(token int) {
	if token == 0 {
		return
	}
	if token == m.phaseRetry {
		m.phaseRetry = 0
		m.advance()
		return
	}
	for c := range numChildren {
		if m.respawn[c] == token {
			m.respawn[c] = 0
			if m.child[c] == absent {
				m.spawn(c)
			}
			m.advance()
			return
		}
	}
}

func (m *Machine) reset(reason string) {
	if m.phase < PhaseStream && m.child[TxnBuilder] == absent && m.child[Replication] == absent {
		return // no stream yet: it will start from the acknowledged position anyway
	}
	m.fenceAndReport("pipeline reset: " + reason)
	m.advance()
}

func round(d time.Duration) time.Duration { return d.Round(time.Millisecond) }

// Summary is a one-line description for Inspect.
func (m *Machine) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "phase %s", m.phase)
	for c := range numChildren {
		fmt.Fprintf(&b, ", %s %s", c, m.child[c])
	}
	if m.phaseRetry != 0 {
		b.WriteString(", retry armed")
	}
	if m.attempt > 0 {
		fmt.Fprintf(&b, ", %d failures in a row", m.attempt)
	}
	if m.lastFailure != "" {
		fmt.Fprintf(&b, "; last failure: %s", m.lastFailure)
	}
	return b.String()
}
