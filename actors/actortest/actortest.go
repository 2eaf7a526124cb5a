// Package actortest holds test helpers for packages that host actors: a
// kit set up for tests, a polling helper, a stand-in parent that records
// what its child reports and why it failed, and a stand-in status actor.
//
// Layer 4 (test helper): only _test.go files import it.
package actortest

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/shapesync/shapesync/actors"
	"github.com/shapesync/shapesync/shapes/protocol"
)

// Wait bounds every wait of these helpers.
const Wait = 20 * time.Second

// Eventually polls fn until it holds, failing the test after Wait.
func Eventually(t *testing.T, what string, fn func() bool) {
	t.Helper()
	deadline := time.Now().Add(Wait)
	for !fn() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", Wait, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// NewKit returns a goleak-friendly kit whose slow receives fail the test
// and which is shut down (and checked) at cleanup.
func NewKit(t *testing.T) *actors.Kit {
	t.Helper()
	k := actors.NewKit(zaptest.NewLogger(t, zaptest.Level(zap.InfoLevel)), actors.ForTesting(),
		actors.WithSlowReceive(actors.DefaultSlowReceive, func(s actors.SlowReceive) { t.Errorf("slow receive: %+v", s) }))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), Wait)
		defer cancel()
		if stuck := k.Shutdown(ctx); stuck != nil {
			t.Errorf("shutdown left actors running: %v", stuck)
		}
	})
	return k
}

// Parent stands in for conn-manager: it spawns one child, records the
// conditions the child reports to it (and whether they came with the
// child as sender), and, being its own supervisor strategy, the reason the
// child failed.
type Parent struct {
	kit  *actors.Kit
	spec actors.ChildSpec

	mu         sync.Mutex
	child      *actors.PID
	conditions []protocol.Condition
	failures   []any
	terminated int
}

// StopChild, sent to the parent ("conn-manager"), stops its child.
type StopChild struct{}

func (p *Parent) producer() actor.Producer {
	return func() actor.Actor { return &parentActor{p: p} }
}

type parentActor struct{ p *Parent }

func (a *parentActor) Receive(ctx actor.Context) {
	p := a.p
	switch m := ctx.Message().(type) {
	case *actor.Started:
		pid, err := p.kit.SpawnChild(ctx, p.spec)
		if err != nil {
			panic(err)
		}
		p.mu.Lock()
		p.child = pid
		p.mu.Unlock()
	case *protocol.Condition:
		p.mu.Lock()
		if ctx.Sender() != nil && ctx.Sender().Equal(p.child) {
			p.conditions = append(p.conditions, *m)
		}
		p.mu.Unlock()
	case *actor.Terminated:
		p.mu.Lock()
		p.terminated++
		p.mu.Unlock()
	case *StopChild:
		ctx.Stop(p.child)
	}
}

func (a *parentActor) HandleFailure(_ *actor.ActorSystem, sup actor.Supervisor, child *actor.PID,
	_ *actor.RestartStatistics, reason any, _ any) {
	a.p.mu.Lock()
	a.p.failures = append(a.p.failures, reason)
	a.p.mu.Unlock()
	sup.StopChildren(child)
}

// SpawnParent spawns a Parent of one child spec as root "conn-manager".
func SpawnParent(t *testing.T, k *actors.Kit, spec actors.ChildSpec) *Parent {
	t.Helper()
	p := &Parent{kit: k, spec: spec}
	if _, err := k.SpawnRoot(actors.ChildSpec{Label: "conn-manager", Producer: p.producer(), Bound: actors.Count(64), Policy: actors.Credit}); err != nil {
		t.Fatal(err)
	}
	return p
}

// Conds lists the conditions the child reported to its parent.
func (p *Parent) Conds() []protocol.Condition {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.conditions)
}

// Last is the newest of Conds.
func (p *Parent) Last() (protocol.Condition, bool) {
	c := p.Conds()
	if len(c) == 0 {
		return protocol.Condition{}, false
	}
	return c[len(c)-1], true
}

// Failure is the first reason the child failed with, or nil.
func (p *Parent) Failure() any {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.failures) == 0 {
		return nil
	}
	return p.failures[0]
}

// ChildGone reports whether the child terminated.
func (p *Parent) ChildGone() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.terminated > 0
}

// StatusRecorder stands in for the status actor.
type StatusRecorder struct {
	mu    sync.Mutex
	conds []protocol.Condition
}

// Spawn starts the recorder as root "status".
func (s *StatusRecorder) Spawn(t *testing.T, k *actors.Kit) *actors.PID {
	t.Helper()
	pid, err := k.SpawnRoot(actors.ChildSpec{Label: "status", Bound: actors.Count(256), Policy: actors.Credit,
		Producer: func() actor.Actor {
			return actor.ReceiveFunc(func(ctx actor.Context) {
				if m, ok := ctx.Message().(*protocol.Condition); ok {
					s.mu.Lock()
					s.conds = append(s.conds, *m)
					s.mu.Unlock()
				}
			})
		}})
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

// All lists the conditions received.
func (s *StatusRecorder) All() []protocol.Condition {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.conds)
}
