package stream

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/shapesync/shapesync/actors"
	"github.com/shapesync/shapesync/replication/pgwire"
	"github.com/shapesync/shapesync/shapes/protocol"
)

// connManagerStandIn plays conn-manager for the failure tests: it spawns
// the replication spec as its own child, is that child's protoactor
// strategy (so it gets the typed failure reason), records the conditions
// the child reports to it as requests, and re-spawns the child after it
// terminated, as conn-manager does after its backoff.
type connManagerStandIn struct {
	kit  *actors.Kit
	spec actors.ChildSpec
	// respawnAfter is the wait before a re-spawn; negative never re-spawns.
	respawnAfter time.Duration

	mu         sync.Mutex
	child      *actors.PID
	failures   []any
	readyFrom  []*actors.PID // senders of replication_ready, in order
	strangers  int           // conditions from anyone but the current child
	terminated int
}

func spawnConnManagerStandIn(t *testing.T, k *actors.Kit, spec actors.ChildSpec, respawnAfter time.Duration) *connManagerStandIn {
	t.Helper()
	m := &connManagerStandIn{kit: k, spec: spec, respawnAfter: respawnAfter}
	if _, err := k.SpawnRoot(actors.ChildSpec{Label: "conn-manager", Bound: actors.Count(64), Policy: actors.Credit,
		Producer: func() actor.Actor { return &connManagerStandInActor{m: m} }}); err != nil {
		t.Fatal(err)
	}
	return m
}

type connManagerStandInActor struct{ m *connManagerStandIn }

// respawnDue is the stand-in's backoff timer firing.
type respawnDue struct{}

func (a *connManagerStandInActor) Receive(ctx actor.Context) {
	m := a.m
	switch msg := ctx.Message().(type) {
	case *actor.Started:
		m.spawnChild(ctx)
	case *protocol.Condition:
		m.mu.Lock()
		if msg.Name == protocol.CondReplication && msg.OK && ctx.Sender() != nil && ctx.Sender() == m.child {
			m.readyFrom = append(m.readyFrom, ctx.Sender())
		} else {
			m.strangers++
		}
		m.mu.Unlock()
	case *actor.Terminated:
		m.mu.Lock()
		current := msg.Who == m.child
		if current {
			m.terminated++
		}
		m.mu.Unlock()
		if current && m.respawnAfter >= 0 {
			self, root := ctx.Self(), ctx.ActorSystem().Root
			time.AfterFunc(m.respawnAfter, func() { root.Send(self, &respawnDue{}) })
		}
	case *respawnDue:
		m.spawnChild(ctx)
	}
}

func (m *connManagerStandIn) spawnChild(ctx actor.Context) {
	pid, err := m.kit.SpawnChild(ctx, m.spec)
	if err != nil {
		panic(err)
	}
	m.mu.Lock()
	m.child = pid
	m.mu.Unlock()
}

func (a *connManagerStandInActor) HandleFailure(_ *actor.ActorSystem, sup actor.Supervisor, child *actor.PID,
	_ *actor.RestartStatistics, reason any, _ any) {
	a.m.mu.Lock()
	a.m.failures = append(a.m.failures, reason)
	a.m.mu.Unlock()
	sup.StopChildren(child)
}

// failure waits for the n-th failure (1-based) and returns it as an error.
func (m *connManagerStandIn) failure(t *testing.T, n int) error {
	t.Helper()
	var reason any
	checkFor(t, actorWait, func() error {
		m.mu.Lock()
		defer m.mu.Unlock()
		if len(m.failures) < n {
			return fmt.Errorf("%d failures so far; waiting for %d", len(m.failures), n)
		}
		reason = m.failures[n-1]
		return nil
	})
	err, ok := reason.(error)
	if !ok {
		t.Fatalf("failure reason %T %v is not an error", reason, reason)
	}
	return err
}

func (m *connManagerStandIn) ready() (from []*actors.PID, strangers int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.readyFrom), m.strangers
}

func (m *connManagerStandIn) allFailures() []any {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.failures)
}

func (m *connManagerStandIn) current() *actors.PID {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.child
}

// connErrorOf finds the pgwire.ConnError in err's chain.
func connErrorOf(t *testing.T, err error) *pgwire.ConnError {
	t.Helper()
	var ce *pgwire.ConnError
	if !errors.As(err, &ce) {
		t.Fatalf("failure %v does not name its connection (no *pgwire.ConnError)", err)
	}
	return ce
}
