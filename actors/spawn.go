package actors

import (
	"errors"
	"fmt"
	"strings"

	"github.com/asynkron/protoactor-go/actor"
)

// Restart says whether a supervisor re-spawns a child.
type Restart int

const (
	// Permanent children are re-spawned whenever they terminate.
	Permanent Restart = iota
	// Temporary children are never re-spawned; their termination is
	// reported to ChildSpec.Watcher as *ChildExited.
	Temporary
)

// ChildSpec declares one actor: its label (the last element of its PID
// id), how to produce an instance, and its mailbox bound and policy.
type ChildSpec struct {
	Label    string
	Producer actor.Producer
	Bound    Bound
	Policy   Policy
	Restart  Restart
	// Watcher receives *ChildExited when a Temporary child terminates.
	Watcher *PID
}

func (c ChildSpec) validate() error {
	switch {
	case c.Label == "":
		return errors.New("child spec without a label")
	case strings.ContainsAny(c.Label, "/$"):
		return fmt.Errorf("label %q: must not contain '/' or '$' (they separate protoactor ids)", c.Label)
	case c.Producer == nil:
		return fmt.Errorf("label %q: no producer", c.Label)
	case c.Restart != Permanent && c.Restart != Temporary:
		return fmt.Errorf("label %q: invalid restart type %d", c.Label, int(c.Restart))
	}
	if err := c.Bound.validate(); err != nil {
		return fmt.Errorf("label %q: %w", c.Label, err)
	}
	if err := c.Policy.validate(); err != nil {
		return fmt.Errorf("label %q: %w", c.Label, err)
	}
	return nil
}

// incarnation is one spawn of an actor: its own mailbox gauge, coalesce
// slots and owned goroutines. A re-spawn is a new incarnation under the
// same id.
type incarnation struct {
	id         string
	gauge      *mailboxGauge
	slots      *coalesceSlots
	supervised bool
	owned      []*Goroutines // touched only on the actor's goroutine
}

func (inc *incarnation) killOwned() {
	for _, g := range inc.owned {
		g.KillAll()
	}
	inc.owned = nil
}

// kitBound is implemented by actors that need the kit (the supervisor);
// the kit binds it when it produces the instance, so no package state is
// needed to find the kit from inside an actor.
type kitBound interface {
	bindKit(k *Kit, inc *incarnation)
}

// Spawn starts a top-level actor with PID id label, a declared mailbox
// bound and an overflow policy. It is SpawnRoot with a permanent spec.
func (k *Kit) Spawn(label string, producer actor.Producer, bound Bound, policy Policy) (*PID, error) {
	return k.SpawnRoot(ChildSpec{Label: label, Producer: producer, Bound: bound, Policy: policy})
}

// SpawnRoot starts a top-level actor (typically the "stack" supervisor)
// under the kit's guardian: a failing root is stopped and reported through
// WithRootFailure, never restarted in place, and protoactor's default
// 10-failures-in-10-s rule never applies (GO_STACK P15). Roots are stopped
// by Shutdown in reverse spawn order.
func (k *Kit) SpawnRoot(spec ChildSpec) (*PID, error) {
	pid, err := k.spawn(k.sys.Root, "", spec, false)
	if err != nil {
		return nil, err
	}
	k.mu.Lock()
	k.roots = append(k.roots, pid)
	k.mu.Unlock()
	return pid, nil
}

// SpawnChild starts spec as a child of the actor behind parent (PID id
// "<parent>/<label>"). The child fails by stopping: its parent gets
// *actor.Terminated and decides (an actor that supervises its own children,
// like conn-manager, also gets HandleFailure if it implements
// actor.SupervisorStrategy). Use a Supervisor for restart strategies.
func (k *Kit) SpawnChild(parent actor.SpawnerContext, spec ChildSpec) (*PID, error) {
	self := parent.Self()
	if self == nil {
		return nil, errors.New("actors: SpawnChild needs an actor's context; use SpawnRoot for top-level actors")
	}
	return k.spawn(parent, self.Id, spec, false)
}

// spawn builds fresh Props and mailbox middleware for this one incarnation
// (GO_STACK P14) and spawns it by name under parent.
func (k *Kit) spawn(parent actor.SpawnerContext, parentID string, spec ChildSpec, supervised bool) (*PID, error) {
	if err := spec.validate(); err != nil {
		return nil, fmt.Errorf("actors: spawn: %w", err)
	}
	id := spec.Label
	if parentID != "" {
		id = parentID + "/" + spec.Label
	}
	inc := &incarnation{
		id:         id,
		gauge:      newMailboxGauge(id, spec.Bound, spec.Policy, k.log),
		slots:      newCoalesceSlots(),
		supervised: supervised,
	}
	if err := k.reg.prepare(inc, spec.Label, parentID, supervised || parentID == ""); err != nil {
		return nil, fmt.Errorf("actors: spawn %s: %w", id, err)
	}
	producer := spec.Producer
	opts := []actor.PropsOption{
		actor.WithMailbox(actor.Unbounded(inc.gauge)),
		actor.WithReceiverMiddleware(k.instrument(inc), k.lifecycle(inc)),
		// How this actor treats its own failing children: stop them, so the
		// parent sees Terminated and re-spawns (ARCHITECTURE §1.1 principle 6).
		actor.WithSupervisor(k.strategy),
	}
	if parentID == "" {
		opts = append(opts, actor.WithGuardian(k.strategy))
	}
	props := actor.PropsFromProducer(func() actor.Actor {
		a := producer()
		if b, ok := a.(kitBound); ok {
			b.bindKit(k, inc)
		}
		return a
	}, opts...)
	pid, err := parent.SpawnNamed(props, spec.Label)
	if err != nil {
		k.reg.abort(inc)
		return nil, fmt.Errorf("actors: spawn %s: %w", id, err)
	}
	return pid, nil
}
