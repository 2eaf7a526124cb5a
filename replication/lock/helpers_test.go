package lock

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"go.uber.org/goleak"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/shapesync/shapesync/actors"
	"github.com/shapesync/shapesync/replication/pgcluster/pgtest"
	"github.com/shapesync/shapesync/shapes/protocol"
)

// pg is this test binary's shared cluster.
var pg pgtest.Shared

// withCluster runs the tests through pg.Run, so goleak checks after the
// shared cluster is gone.
type withCluster struct{ m *testing.M }

func (w withCluster) Run() int { return pg.Run(w.m) }

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(withCluster{m})
}

const wait = 20 * time.Second

func eventually(t *testing.T, what string, fn func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !fn() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", wait, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func newKit(t *testing.T) *actors.Kit {
	t.Helper()
	k := actors.NewKit(zaptest.NewLogger(t, zaptest.Level(zap.InfoLevel)), actors.ForTesting(),
		actors.WithSlowReceive(actors.DefaultSlowReceive, func(s actors.SlowReceive) { t.Errorf("slow receive: %+v", s) }))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		if stuck := k.Shutdown(ctx); stuck != nil {
			t.Errorf("shutdown left actors running: %v", stuck)
		}
	})
	return k
}

// parent stands in for conn-manager: it spawns one child, records the
// conditions the child reports to it (and whether they came with the
// child as sender), and, being its own supervisor strategy, the reason the
// child failed.
type parent struct {
	kit  *actors.Kit
	spec actors.ChildSpec

	mu         sync.Mutex
	child      *actors.PID
	conditions []protocol.Condition
	failures   []any
	terminated int
}

type stopChild struct{}

func (p *parent) producer() actor.Producer {
	return func() actor.Actor { return &parentActor{p: p} }
}

type parentActor struct{ p *parent }

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
	case *stopChild:
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

func spawnParent(t *testing.T, k *actors.Kit, spec actors.ChildSpec) *parent {
	t.Helper()
	p := &parent{kit: k, spec: spec}
	if _, err := k.SpawnRoot(actors.ChildSpec{Label: "conn-manager", Producer: p.producer(), Bound: actors.Count(64), Policy: actors.Credit}); err != nil {
		t.Fatal(err)
	}
	return p
}

func (p *parent) conds() []protocol.Condition {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.conditions)
}

func (p *parent) last() (protocol.Condition, bool) {
	c := p.conds()
	if len(c) == 0 {
		return protocol.Condition{}, false
	}
	return c[len(c)-1], true
}

func (p *parent) failure() any {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.failures) == 0 {
		return nil
	}
	return p.failures[0]
}

func (p *parent) childGone() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.terminated > 0
}

// statusRecorder stands in for the status actor.
type statusRecorder struct {
	mu    sync.Mutex
	conds []protocol.Condition
}

func (s *statusRecorder) spawn(t *testing.T, k *actors.Kit) *actors.PID {
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

func (s *statusRecorder) all() []protocol.Condition {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.conds)
}
