package storage

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"go.uber.org/zap"

	"github.com/shapesync/shapesync/actors"
)

const actorWait = 10 * time.Second

func eventually(t *testing.T, what string, fn func() bool) {
	t.Helper()
	deadline := time.Now().Add(actorWait)
	for !fn() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", actorWait, what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// newKit is a goleak-friendly kit whose slow receives fail the test; it is
// shut down at cleanup.
func newKit(t *testing.T) *actors.Kit {
	t.Helper()
	k := actors.NewKit(zap.NewNop(), actors.ForTesting(),
		actors.WithSlowReceive(500*time.Millisecond, func(s actors.SlowReceive) { t.Errorf("slow receive: %+v", s) }))
	t.Cleanup(func() { shutdown(t, k) })
	return k
}

func shutdown(t *testing.T, k *actors.Kit) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), actorWait)
	defer cancel()
	if stuck := k.Shutdown(ctx); stuck != nil {
		t.Errorf("shutdown left actors running: %v", stuck)
	}
}

// sink is a test actor that records every user message it gets.
type sink struct {
	mu   sync.Mutex
	msgs []any
}

func (s *sink) Receive(ctx actor.Context) {
	switch ctx.Message().(type) {
	case actor.SystemMessage, actor.AutoReceiveMessage:
		return
	}
	s.mu.Lock()
	s.msgs = append(s.msgs, ctx.Message())
	s.mu.Unlock()
}

func (s *sink) all() []any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]any(nil), s.msgs...)
}

// spawnSink starts a sink under label.
func spawnSink(t *testing.T, k *actors.Kit, label string) (*sink, *actors.PID) {
	t.Helper()
	s := &sink{}
	pid, err := k.Spawn(label, func() actor.Actor { return s }, actors.Count(1<<20), actors.Credit)
	if err != nil {
		t.Fatal(err)
	}
	return s, pid
}

// messagesOf returns the sink's messages of type T.
func messagesOf[T any](s *sink) []T {
	var out []T
	for _, m := range s.all() {
		if v, ok := m.(T); ok {
			out = append(out, v)
		}
	}
	return out
}
