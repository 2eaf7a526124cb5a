package actors

import (
	"errors"
	"fmt"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"go.uber.org/zap"
)

// SupervisorSpec declares a supervisor: an ordered list of children, the
// strategy applied when one terminates, the backoff before re-spawning and
// the restart intensity past which the supervisor itself fails.
type SupervisorSpec struct {
	Strategy Strategy
	Backoff  BackoffPolicy
	Escalate Escalation // zero: never escalate
	Children []ChildSpec
	// StopOrder lists labels to stop first at shutdown, in this order; the
	// other children stop after them in reverse start order.
	StopOrder []string
	// AfterRestart runs in the supervisor's Receive once every child of a
	// restart group has handled Started again (shapes → PipelineReset). It
	// must not block.
	AfterRestart func(ctx actor.Context, restarted []string)
}

// Validate reports a spec error before anything is spawned.
func (s SupervisorSpec) Validate() error {
	if err := s.Strategy.validate(); err != nil {
		return err
	}
	if s.Backoff.Min < 0 || s.Backoff.Max < 0 || s.Backoff.Jitter < 0 || s.Backoff.Jitter > 1 {
		return fmt.Errorf("invalid backoff %+v: durations must be >= 0 and jitter in [0,1]", s.Backoff)
	}
	seen := make(map[string]bool, len(s.Children))
	for _, c := range s.Children {
		if err := c.validate(); err != nil {
			return err
		}
		if seen[c.Label] {
			return fmt.Errorf("label %q: %w", c.Label, errDuplicateChild)
		}
		seen[c.Label] = true
	}
	return nil
}

// Supervisor produces a kit supervisor for spec; spawn it with the kit
// (SpawnRoot, or as another supervisor's child). An invalid spec makes the
// supervisor fail in Started with the Validate error; call Validate in the
// wiring to catch it earlier.
func Supervisor(spec SupervisorSpec) actor.Producer {
	return func() actor.Actor { return &supervisor{spec: spec} }
}

// AddChild asks a supervisor to start a dynamic child, appended after the
// existing ones. With a sender (Request/RequestFuture) the supervisor
// answers *ChildAdded.
type AddChild struct{ Spec ChildSpec }

// ChildAdded answers AddChild.
type ChildAdded struct {
	Label string
	PID   *PID
	Err   error
}

// RemoveChild asks a supervisor to stop a child for good. With a sender it
// answers *ChildRemoved once the child has terminated.
type RemoveChild struct{ Label string }

// ChildRemoved answers RemoveChild.
type ChildRemoved struct {
	Label string
	Err   error
}

// ChildExited goes to a Temporary child's Watcher when it terminated.
// Reason is the failure (a panic value, an error) or nil after a clean stop.
type ChildExited struct {
	ID, Label string
	PID       *PID
	Reason    any
}

// stopOrdered asks a kit supervisor to stop its children one by one, in
// order, and then itself (Kit.Shutdown, or a parent supervisor's shutdown).
type stopOrdered struct{}

// restartDue is the backoff timer of a restart group firing.
type restartDue struct{ token int }

type supervisor struct {
	spec    SupervisorSpec
	kit     *Kit
	inc     *incarnation
	table   *childTable
	pids    map[string]*PID
	timers  map[int]*time.Timer
	waiters map[string][]*PID // RemoveChild senders
	dead    bool              // protoactor is stopping us: never re-spawn
}

func (s *supervisor) bindKit(k *Kit, inc *incarnation) {
	s.kit, s.inc = k, inc
	k.reg.setKind(inc.id, KindSupervisor)
}

func (s *supervisor) Receive(ctx actor.Context) {
	if s.kit == nil {
		panic(errors.New("actors.Supervisor must be spawned through an actors.Kit"))
	}
	now := s.kit.cfg.now()
	if s.dead { // stopping: user messages (timers, adds) may still arrive; never spawn
		if a, ok := ctx.Message().(*AddChild); ok {
			s.reply(ctx, ctx.Sender(), &ChildAdded{Label: a.Spec.Label, Err: errStopping})
		}
		return
	}
	switch m := ctx.Message().(type) {
	case *actor.Started:
		if err := s.spec.Validate(); err != nil {
			panic(fmt.Errorf("supervisor %s: %w", ctx.Self().Id, err))
		}
		s.table = newChildTable(ctx.Self().Id, s.spec, s.kit.cfg.random)
		s.pids, s.timers, s.waiters = map[string]*PID{}, map[int]*time.Timer{}, map[string][]*PID{}
		s.run(ctx, s.table.start())
	case *childStarted:
		if label, ok := s.childLabel(ctx, m.who); ok {
			s.run(ctx, s.table.started(label, now))
		}
	case *actor.Terminated:
		s.onTerminated(ctx, m, now)
	case *restartDue:
		delete(s.timers, m.token)
		s.run(ctx, s.table.timerFired(m.token))
	case *AddChild:
		s.addChild(ctx, m.Spec)
	case *RemoveChild:
		eff, err := s.table.remove(m.Label)
		if err != nil {
			s.reply(ctx, ctx.Sender(), &ChildRemoved{Label: m.Label, Err: err})
			return
		}
		if ctx.Sender() != nil {
			s.waiters[m.Label] = append(s.waiters[m.Label], ctx.Sender())
		}
		s.run(ctx, eff)
	case *stopOrdered:
		s.run(ctx, s.table.stopAll(s.spec.StopOrder))
	case *actor.Stopping:
		s.dead = true
		for _, t := range s.timers {
			t.Stop()
		}
	}
}

// HandleFailure makes the supervisor its own protoactor strategy for its
// children, so it learns why a child failed before the Terminated that
// follows; the kit strategy then logs and stops the child.
func (s *supervisor) HandleFailure(sys *actor.ActorSystem, sup actor.Supervisor, child *actor.PID,
	rs *actor.RestartStatistics, reason any, message any) {
	if s.table != nil {
		if label, ok := s.labelOf(child); ok {
			s.table.failed(label, reason)
		}
	}
	s.kit.strategy.HandleFailure(sys, sup, child, rs, reason, message)
}

func (s *supervisor) onTerminated(ctx actor.Context, m *actor.Terminated, now time.Time) {
	label, ok := s.childLabel(ctx, m.Who)
	if !ok {
		return
	}
	delete(s.pids, label)
	eff := s.table.terminated(label, now)
	if _, still := s.table.lookup(label); still && !s.table.shutdown {
		s.kit.reg.setState(m.Who.Id, StateRestarting)
	}
	s.run(ctx, eff)
}

func (s *supervisor) addChild(ctx actor.Context, spec ChildSpec) {
	err := spec.validate()
	if err == nil {
		err = s.table.add(spec)
	}
	var pid *PID
	if err == nil {
		if pid, err = s.kit.spawn(ctx, ctx.Self().Id, spec, true); err != nil {
			s.table.abandon(spec.Label)
		} else {
			s.pids[spec.Label] = pid
		}
	}
	s.reply(ctx, ctx.Sender(), &ChildAdded{Label: spec.Label, PID: pid, Err: err})
}

// run carries out the table's effects; spawn failures feed back into the
// table as terminations, so they back off like any other failure.
func (s *supervisor) run(ctx actor.Context, eff []effect) {
	for len(eff) > 0 {
		e := eff[0]
		eff = eff[1:]
		id := ctx.Self().Id + "/" + e.label
		switch e.kind {
		case doSpawn:
			spec, _ := s.table.lookup(e.label)
			pid, err := s.kit.spawn(ctx, ctx.Self().Id, spec, true)
			if err != nil {
				s.kit.log.Error("supervisor could not spawn child; backing off",
					zap.String("supervisor", ctx.Self().Id), zap.String("child", e.label), zap.Error(err))
				s.table.failed(e.label, err)
				eff = append(eff, s.table.terminated(e.label, s.kit.cfg.now())...)
				continue
			}
			s.pids[e.label] = pid
			if e.restart {
				s.kit.reg.restarted(id, e.why)
			}
		case doStop:
			s.stopChild(ctx, s.pids[e.label], e.ordered)
		case doArm:
			self, root, token := ctx.Self(), s.kit.sys.Root, e.token
			s.timers[token] = time.AfterFunc(e.delay, func() { root.Send(self, &restartDue{token: token}) })
		case doEscalate:
			// Fail so that our parent handles it (protoactor never escalates
			// on its own, GO_STACK P3).
			panic(e.err)
		case doReport:
			if e.watcher != nil {
				ctx.Send(e.watcher, &ChildExited{ID: id, Label: e.label, PID: actor.NewPID(ctx.Self().Address, id), Reason: e.exit})
			}
		case doForget:
			s.kit.reg.remove(id)
			for _, w := range s.waiters[e.label] {
				ctx.Send(w, &ChildRemoved{Label: e.label})
			}
			delete(s.waiters, e.label)
		case doMarkStopped:
			s.kit.reg.setState(id, StateStopped)
		case doAfterRestart:
			if s.spec.AfterRestart != nil {
				s.spec.AfterRestart(ctx, e.labels)
			}
		case doStopSelf:
			ctx.Stop(ctx.Self())
		}
	}
}

func (s *supervisor) stopChild(ctx actor.Context, pid *PID, ordered bool) {
	if pid == nil {
		return
	}
	if ordered && s.kit.reg.kind(pid.Id) == KindSupervisor {
		ctx.Send(pid, &stopOrdered{})
		return
	}
	ctx.Stop(pid)
}

// childLabel maps a PID to the label of our current incarnation of that
// child. Pointer identity rejects a stale notification about an earlier
// incarnation: protoactor sends Terminated{Who: ctx.self}, the very PID
// SpawnNamed returned, and a re-spawn gets a new PID value with the same id.
func (s *supervisor) childLabel(ctx actor.Context, who *PID) (string, bool) {
	label, ok := s.labelOf(who)
	if !ok || s.pids[label] != who {
		return "", false
	}
	return label, true
}

func (s *supervisor) labelOf(who *PID) (string, bool) {
	prefix := s.inc.id + "/"
	if who == nil || len(who.Id) <= len(prefix) || who.Id[:len(prefix)] != prefix {
		return "", false
	}
	return who.Id[len(prefix):], true
}

func (s *supervisor) reply(ctx actor.Context, to *PID, msg any) {
	if to != nil {
		ctx.Send(to, msg)
	}
}
