package actors

import (
	"errors"
	"sort"
	"sync"
	"time"
)

// ActorState is an actor's lifecycle state as shown on the dashboard.
type ActorState string

const (
	StateStarting   ActorState = "starting"
	StateRunning    ActorState = "running"
	StateRestarting ActorState = "restarting" // terminated; its supervisor will re-spawn it
	StateStopped    ActorState = "stopped"
)

// Kinds of actor in ActorInfo.Kind.
const (
	KindActor      = "actor"
	KindSupervisor = "supervisor"
)

// ActorInfo is one actor's inspection record. Restart statistics survive
// re-spawns; the mailbox figures are the current incarnation's.
type ActorInfo struct {
	ID     string // PID id, "<parent>/<label>"
	Label  string
	Parent string // parent's PID id; "" for roots
	Kind   string
	State  ActorState

	Policy    Policy
	BoundUnit string // "messages" or "bytes"
	Bound     int64  // current bound, in BoundUnit
	Depth     int64  // pending user messages, including the one being handled
	Load      int64  // pending, in BoundUnit
	HighWater int64  // highest Load of this incarnation
	Overflows int64  // times Load rose above Bound (credit, coalesce)

	Restarts    int
	LastReason  string // why the last failure or restart happened
	LastRestart time.Time
	StartedAt   time.Time // Started handled by the current incarnation
	Uptime      time.Duration
}

// registry is the kit's inspection registry, keyed by PID id. Spawns and
// the kit's middleware write it; Snapshot and TrySend read it. A mutex
// guards the map and the lifecycle fields; mailbox figures are atomics in
// the current incarnation's gauge.
type registry struct {
	now     func() time.Time
	mu      sync.RWMutex
	entries map[string]*entry
}

type entry struct {
	id, label, parent string
	kind              string
	keep              bool // kept after stopping: roots and children of kit supervisors
	state             ActorState
	restarts          int
	lastReason        string
	lastRestart       time.Time
	startedAt         time.Time
	inc               *incarnation
}

var errAlive = errors.New("an actor with this id is alive")

func newRegistry(now func() time.Time) *registry {
	return &registry{now: now, entries: make(map[string]*entry)}
}

// prepare installs inc as id's incarnation before protoactor spawns it (so
// that its Started cannot race the registration), keeping the restart
// statistics of earlier incarnations.
func (r *registry) prepare(inc *incarnation, label, parent string, keep bool) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.entries[inc.id]
	if ok && e.state != StateStopped && e.state != StateRestarting {
		return errAlive
	}
	if !ok {
		e = &entry{id: inc.id, label: label, parent: parent, kind: KindActor}
		r.entries[inc.id] = e
	}
	e.keep, e.state, e.inc, e.startedAt = keep, StateStarting, inc, time.Time{}
	return nil
}

// abort undoes prepare after a failed spawn.
func (r *registry) abort(inc *incarnation) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e, ok := r.entries[inc.id]; ok && e.inc == inc {
		e.state = StateStopped
		if !e.keep {
			delete(r.entries, inc.id)
		}
	}
}

// current is the live incarnation of id, or nil.
func (r *registry) current(id string) *incarnation {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if e, ok := r.entries[id]; ok {
		return e.inc
	}
	return nil
}

func (r *registry) update(id string, fn func(e *entry)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e, ok := r.entries[id]; ok {
		fn(e)
	}
}

func (r *registry) running(inc *incarnation) {
	now := r.now()
	r.update(inc.id, func(e *entry) {
		if e.inc == inc {
			e.state, e.startedAt = StateRunning, now
		}
	})
}

// stopped marks inc's entry stopped. Roots and children of kit
// supervisors are kept (their supervisor forgets temporary and removed
// children); other actors are forgotten, so that dynamically spawned
// unsupervised actors do not accumulate.
func (r *registry) stopped(inc *incarnation) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e, ok := r.entries[inc.id]; ok && e.inc == inc {
		e.state = StateStopped
		if !e.keep {
			delete(r.entries, inc.id)
		}
	}
}

func (r *registry) setState(id string, s ActorState) {
	r.update(id, func(e *entry) {
		if e.state != StateStarting && e.state != StateRunning { // never override a live incarnation
			e.state = s
		}
	})
}

func (r *registry) setKind(id, kind string) { r.update(id, func(e *entry) { e.kind = kind }) }

func (r *registry) failure(id, reason string) {
	r.update(id, func(e *entry) { e.lastReason = reason })
}

func (r *registry) restarted(id, reason string) {
	now := r.now()
	r.update(id, func(e *entry) { e.restarts, e.lastReason, e.lastRestart = e.restarts+1, reason, now })
}

func (r *registry) remove(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.entries, id)
}

func (r *registry) isRoot(id string) bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	e, ok := r.entries[id]
	return ok && e.parent == ""
}

func (r *registry) kind(id string) string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if e, ok := r.entries[id]; ok {
		return e.kind
	}
	return ""
}

// notStopped lists the ids of actors that have not stopped, sorted.
func (r *registry) notStopped() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	var out []string
	for id, e := range r.entries {
		if e.state != StateStopped {
			out = append(out, id)
		}
	}
	sort.Strings(out)
	return out
}

func (r *registry) info(id string) (ActorInfo, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	e, ok := r.entries[id]
	if !ok {
		return ActorInfo{}, false
	}
	return e.info(r.now()), true
}

func (r *registry) snapshot() []ActorInfo {
	now := r.now()
	r.mu.RLock()
	out := make([]ActorInfo, 0, len(r.entries))
	for _, e := range r.entries {
		out = append(out, e.info(now))
	}
	r.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func (e *entry) info(now time.Time) ActorInfo {
	in := ActorInfo{
		ID: e.id, Label: e.label, Parent: e.parent, Kind: e.kind, State: e.state,
		Restarts: e.restarts, LastReason: e.lastReason, LastRestart: e.lastRestart,
		StartedAt: e.startedAt,
	}
	if e.state == StateRunning && !e.startedAt.IsZero() {
		in.Uptime = now.Sub(e.startedAt)
	}
	if e.inc != nil {
		g := e.inc.gauge
		in.Policy, in.BoundUnit, in.Bound = g.policy, g.bound.Unit(), g.bound.Limit()
		in.Depth, in.Load, in.HighWater, in.Overflows = g.depth.Load(), g.load.Load(), g.high.Load(), g.overflows.Load()
	}
	return in
}
