package manager

import (
	"errors"
	"fmt"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"go.uber.org/zap"

	"github.com/shapesync/shapesync/actors"
	"github.com/shapesync/shapesync/shapes/protocol"
)

// Label is conn-manager's label under pipeline (ARCHITECTURE §1.2).
const Label = "conn-manager"

// Config is what the wiring injects into conn-manager. Every child is a
// spec built by the package that owns it (conn-manager may not import
// them); each child reports its protocol.Condition to its parent as a
// request, so conn-manager can tell which child spoke.
type Config struct {
	// Kit spawns the children and runs the setup goroutine. Required.
	Kit *actors.Kit
	// Status receives the conditions conn-manager reports (database,
	// lock, replication, replication usable). Nil reports nowhere.
	Status *actors.PID
	// The children's specs; labels must be the Child labels
	// ("admin-pool", "lock", "snapshot-pool", "txn-builder").
	AdminPool, Lock, SnapshotPool, TxnBuilder actors.ChildSpec
	// Replication builds the replication actor's spec (label
	// "replication") for a stream starting at Setup.StartLSN. The actor
	// must report {Name: protocol.CondReplication, OK: true} to its parent (as a
	// request) once streaming, so conn-manager goes live and resets its
	// backoff after StableAfter.
	Replication func(setup SetupResult) actors.ChildSpec
	// Setup runs the replication setup. Required.
	Setup ReplicationSetup
	// Shapes builds the shapes subsystem's spec. conn-manager adds it to
	// ShapesParent with actors.AddChild (so it is a sibling that outlives
	// conn-manager, ARCHITECTURE §1.2), reuses it when it is already there,
	// and removes and adds it again when it must purge. Nil skips the step.
	Shapes func(start ShapesStart) actors.ChildSpec
	// ShapesParent is the kit supervisor that holds the shapes subsystem;
	// nil means conn-manager's own parent (pipeline).
	ShapesParent *actors.PID
	// Policy paces the retries.
	Policy Policy
	// Log is where conn-manager logs; default the kit's logger.
	Log *zap.Logger
}

func (c Config) validate() error {
	switch {
	case c.Kit == nil:
		return errors.New("conn-manager: Config.Kit is nil")
	case c.Setup == nil:
		return errors.New("conn-manager: Config.Setup is nil")
	case c.Replication == nil:
		return errors.New("conn-manager: Config.Replication is nil")
	}
	for child, spec := range map[Child]actors.ChildSpec{AdminPool: c.AdminPool, Lock: c.Lock, SnapshotPool: c.SnapshotPool, TxnBuilder: c.TxnBuilder} {
		if spec.Label != child.Label() {
			return fmt.Errorf("conn-manager: the %s spec has label %q; want %q", child, spec.Label, child.Label())
		}
	}
	return nil
}

// ChildSpec is conn-manager's spec for pipeline: bound 64, credit.
func ChildSpec(cfg Config) actors.ChildSpec {
	return actors.ChildSpec{Label: Label, Producer: Producer(cfg), Bound: actors.Count(64), Policy: actors.Credit}
}

// Producer returns conn-manager's producer. Each incarnation starts the
// setup from the first step: its children died with its predecessor, the
// shapes subsystem is reused unless the slot is new.
func Producer(cfg Config) actor.Producer {
	if cfg.Log == nil && cfg.Kit != nil {
		cfg.Log = cfg.Kit.Logger()
	}
	if cfg.Log == nil {
		cfg.Log = zap.NewNop()
	}
	return func() actor.Actor { return &connManager{cfg: cfg} }
}

// Messages between conn-manager, its goroutine and its timers.
type (
	setupOutcome struct {
		token  int
		result SetupResult
		err    error
	}
	retryDue struct {
		owner *connManager
		token int
	}
)

const taskSetup = "replication-setup"

// shapesRequest is the AddChild/RemoveChild exchange in flight with the
// shapes parent.
type shapesRequest struct {
	token  int
	spec   actors.ChildSpec
	parent *actors.PID
}

type connManager struct {
	cfg      Config
	m        *Machine
	g        *actors.Goroutines
	pids     [numChildren]*actors.PID
	failures map[*actors.PID]any // reasons from HandleFailure, until Terminated
	timers   map[int]*time.Timer

	setupEpoch actors.Epoch
	setupToken int
	shapes     *shapesRequest

	queue    []Event
	stepping bool
	stopping bool // protoactor is stopping us: our children's ends are not failures
}

func (a *connManager) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		if err := a.cfg.validate(); err != nil {
			panic(err)
		}
		a.m = NewMachine(a.cfg.Policy)
		a.g = a.cfg.Kit.Goroutines(ctx)
		a.failures, a.timers = map[*actors.PID]any{}, map[int]*time.Timer{}
		a.step(ctx, Started{})
	case *protocol.Condition:
		if c, ok := a.childOf(ctx.Sender()); ok {
			if m.OK {
				a.step(ctx, ChildReady{Child: c})
			} else {
				a.step(ctx, ChildWaiting{Child: c, Reason: m.Reason})
			}
		}
	case *actor.Terminated:
		if c, ok := a.childOf(m.Who); ok {
			reason := a.failures[m.Who]
			delete(a.failures, m.Who)
			a.pids[c] = nil
			a.step(ctx, ChildDown{Child: c, Reason: reason})
		}
	case *setupOutcome:
		if m.token != a.setupToken {
			return
		}
		a.setupToken = 0
		if m.err != nil {
			a.step(ctx, SetupFailed{Token: m.token, Err: m.err})
		} else {
			a.step(ctx, SetupDone{Token: m.token, Result: m.result})
		}
	case *actors.Exited:
		a.g.Reap(m.Epoch) // the outcome came as setupOutcome
	case *actors.Failed:
		if a.g.Reap(m.Epoch) && m.Epoch == a.setupEpoch && a.setupToken != 0 {
			token := a.setupToken
			a.setupToken = 0
			a.step(ctx, SetupFailed{Token: token, Err: m.Err})
		}
	case *retryDue:
		if m.owner == a {
			delete(a.timers, m.token)
			a.step(ctx, RetryDue{Token: m.token})
		}
	case *actors.ChildRemoved:
		a.shapesRemoved(ctx, m)
	case *actors.ChildAdded:
		a.shapesAdded(ctx, m)
	case *protocol.PipelineReset:
		a.cfg.Log.Info("conn-manager: pipeline reset; restarting the stream from the acknowledged position", zap.String("reason", m.Reason))
		a.step(ctx, Reset{Reason: m.Reason})
	case *protocol.Inspect:
		ctx.Respond(&protocol.Inspection{Summary: a.summary()})
	case *actor.Stopping:
		// protoactor now stops the children and delivers their Terminated
		// before Stopped; none of that may arm a retry.
		a.stopping = true
		for _, t := range a.timers {
			t.Stop()
		}
	}
}

// HandleFailure makes conn-manager its own children's supervisor strategy
// (ARCHITECTURE §4): it keeps the typed failure reason for the Terminated
// that follows and stops the child; it never blocks.
func (a *connManager) HandleFailure(_ *actor.ActorSystem, sup actor.Supervisor, child *actor.PID,
	_ *actor.RestartStatistics, reason any, _ any) {
	if _, ok := a.childOf(child); ok {
		a.failures[child] = reason
	}
	a.cfg.Log.Warn("conn-manager: child failed; stopping it", zap.String("child", child.Id), zap.Any("reason", reason))
	sup.StopChildren(child)
}

// childOf maps a PID to the current incarnation of one of our children.
// Pointer identity rejects a message or Terminated of an earlier
// incarnation: protoactor hands out the very PID SpawnNamed returned as
// Self, Sender and Terminated.Who, and a re-spawn gets a new one.
func (a *connManager) childOf(pid *actors.PID) (Child, bool) {
	if pid == nil {
		return 0, false
	}
	for c := range numChildren {
		if a.pids[c] == pid {
			return c, true
		}
	}
	return 0, false
}

// step feeds ev to the machine and carries out the actions; events raised
// while carrying them out (a failed spawn, a shapes subsystem already
// running) are queued and fed in order.
func (a *connManager) step(ctx actor.Context, ev Event) {
	if a.stopping {
		return
	}
	a.queue = append(a.queue, ev)
	if a.stepping {
		return
	}
	a.stepping = true
	defer func() { a.stepping = false }()
	for len(a.queue) > 0 {
		ev := a.queue[0]
		a.queue = a.queue[1:]
		for _, act := range a.m.Step(ev, time.Now()) {
			a.do(ctx, act)
		}
	}
}

func (a *connManager) do(ctx actor.Context, act Action) {
	log := a.cfg.Log
	switch act := act.(type) {
	case Spawn:
		a.spawn(ctx, act)
	case Stop:
		log.Info("conn-manager: stopping child", zap.String("child", act.Child.Label()))
		if pid := a.pids[act.Child]; pid != nil {
			ctx.Stop(pid)
		}
	case RunSetup:
		log.Info("conn-manager: replication setup", zap.Bool("recreate_slot", act.Request.RecreateSlot), zap.String("reason", act.Request.Reason))
		setup, req, token := a.cfg.Setup, act.Request, act.Token
		a.setupToken = token
		a.setupEpoch = a.g.Go(taskSetup, func(t *actors.Task) error {
			res, err := setup(t.Context(), req)
			t.Send(&setupOutcome{token: token, result: res, err: err})
			return nil
		})
	case CancelSetup:
		a.g.Kill(taskSetup)
		a.setupToken = 0
	case StartShapes:
		a.startShapes(ctx, act)
	case Report:
		if a.cfg.Status != nil {
			c := act.Condition
			a.cfg.Kit.Coalesce(a.cfg.Status, &c)
		}
	case Arm:
		log.Warn("conn-manager: retrying after a failure", zap.String("what", act.What),
			zap.Duration("in", act.Delay), zap.String("why", act.Why))
		self, root, msg := ctx.Self(), ctx.ActorSystem().Root, &retryDue{owner: a, token: act.Token}
		a.timers[act.Token] = time.AfterFunc(act.Delay, func() { root.Send(self, msg) })
	}
}

func (a *connManager) spawn(ctx actor.Context, act Spawn) {
	var spec actors.ChildSpec
	switch act.Child {
	case AdminPool:
		spec = a.cfg.AdminPool
	case Lock:
		spec = a.cfg.Lock
	case SnapshotPool:
		spec = a.cfg.SnapshotPool
	case TxnBuilder:
		spec = a.cfg.TxnBuilder
	case Replication:
		spec = a.cfg.Replication(*act.Setup)
		if spec.Label != Replication.Label() {
			a.step(ctx, ChildDown{Child: act.Child, Reason: fmt.Errorf("conn-manager: the replication spec has label %q; want %q", spec.Label, Replication.Label())})
			return
		}
	}
	pid, err := a.cfg.Kit.SpawnChild(ctx, spec)
	if err != nil {
		a.cfg.Log.Error("conn-manager: could not spawn child", zap.String("child", act.Child.Label()), zap.Error(err))
		a.step(ctx, ChildDown{Child: act.Child, Reason: err})
		return
	}
	fields := []zap.Field{zap.String("child", act.Child.Label())}
	if act.Setup != nil {
		fields = append(fields, zap.Stringer("start_lsn", act.Setup.StartLSN), zap.String("slot", act.Setup.Slot))
	}
	a.cfg.Log.Info("conn-manager: spawned child", fields...)
	a.pids[act.Child] = pid
}

func (a *connManager) summary() string {
	if a.m == nil {
		return "not started"
	}
	return a.m.Summary()
}
