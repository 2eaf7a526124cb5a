package actors

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"go.uber.org/goleak"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// eventually polls fn until it holds or timeout passes.
func eventually(t *testing.T, timeout time.Duration, what string, fn func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !fn() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

const wait = 5 * time.Second

// newTestKit builds a goleak-friendly kit whose slow receives fail the
// test, logging into an observer, and shuts it down at cleanup.
func newTestKit(t *testing.T, opts ...Option) (*Kit, *observer.ObservedLogs) {
	t.Helper()
	core, logs := observer.New(zapcore.DebugLevel)
	// Generous under -race on a shared machine; a Receive that blocks on a
	// channel or a socket still trips it.
	base := []Option{ForTesting(), WithSlowReceive(500*time.Millisecond, func(s SlowReceive) {
		t.Errorf("slow receive: %+v", s)
	})}
	k := NewKit(zap.New(core), append(base, opts...)...)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		if stuck := k.Shutdown(ctx); stuck != nil {
			t.Errorf("shutdown left actors running: %v", stuck)
		}
	})
	return k, logs
}

// recorder is a thread-safe event log shared by test actors.
type recorder struct {
	mu     sync.Mutex
	events []string
}

func (r *recorder) add(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, fmt.Sprintf(format, args...))
}

func (r *recorder) all() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events)
}

// with lists the events starting with prefix, in order.
func (r *recorder) with(prefix string) []string {
	var out []string
	for _, e := range r.all() {
		if strings.HasPrefix(e, prefix) {
			out = append(out, e)
		}
	}
	return out
}

func (r *recorder) count(event string) int {
	n := 0
	for _, e := range r.all() {
		if e == event {
			n++
		}
	}
	return n
}

func (r *recorder) has(event string) bool { return r.count(event) > 0 }

// Messages understood by probe.
type (
	crash struct{}
	note  struct{ v string }
	block struct {
		entered chan struct{} // closed once Receive is blocked
		release chan struct{}
		panics  bool // panic once released
	}
)

// probe is the scriptable test actor: it records its lifecycle and the
// notes it receives, crashes on request and blocks on request.
type probe struct {
	name       string
	rec        *recorder
	failStart  bool
	startDelay time.Duration // simulated work in Started
}

func (p *probe) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		p.rec.add("start:%s", p.name)
		if p.failStart {
			panic("cannot start " + p.name)
		}
		if p.startDelay > 0 {
			time.Sleep(p.startDelay) // simulated start-up work, not a wait
			p.rec.add("ready:%s", p.name)
		}
	case *actor.Stopping:
		p.rec.add("stop:%s", p.name)
	case *crash:
		panic("crash " + p.name)
	case *note:
		p.rec.add("msg:%s:%s", p.name, m.v)
	case *cond:
		p.rec.add("cond:%s:%s=%s", p.name, m.name, m.v)
	case *ChildExited:
		p.rec.add("exited:%s:%v", m.Label, m.Reason)
	case *block:
		if m.entered != nil {
			close(m.entered)
		}
		<-m.release
		if m.panics {
			panic("released into a panic: " + p.name)
		}
	}
}

func probeOf(name string, rec *recorder) actor.Producer {
	return func() actor.Actor { return &probe{name: name, rec: rec} }
}

func probeSpec(label string, rec *recorder) ChildSpec {
	return ChildSpec{Label: label, Producer: probeOf(label, rec), Bound: Count(64), Policy: Credit}
}

// slowStarters are three probes whose Started takes longer the earlier
// they come: started concurrently they would finish c3, c2, c1.
func slowStarters(rec *recorder) []ChildSpec {
	var out []ChildSpec
	for i, l := range []string{"c1", "c2", "c3"} {
		d := time.Duration(3-i) * 15 * time.Millisecond
		out = append(out, ChildSpec{Label: l, Bound: Count(64), Policy: Credit,
			Producer: func() actor.Actor { return &probe{name: l, rec: rec, startDelay: d} }})
	}
	return out
}

func supSpec(label string, spec SupervisorSpec) ChildSpec {
	return ChildSpec{Label: label, Producer: Supervisor(spec), Bound: Count(64), Policy: Credit}
}

// fast is a backoff short enough for tests, with no jitter.
var fast = Backoff(time.Millisecond, 5*time.Millisecond, 0, 0)

func pidOf(k *Kit, id string) *PID { return actor.NewPID(k.System().Address(), id) }

func running(k *Kit, ids ...string) func() bool {
	return func() bool {
		for _, id := range ids {
			if in, ok := k.Lookup(id); !ok || in.State != StateRunning {
				return false
			}
		}
		return true
	}
}

func blockOn(t *testing.T, k *Kit, pid *PID) (release func()) {
	t.Helper()
	b := &block{entered: make(chan struct{}), release: make(chan struct{})}
	k.Root().Send(pid, b)
	select {
	case <-b.entered:
	case <-time.After(wait):
		t.Fatalf("%s never blocked", pid.Id)
	}
	var once sync.Once
	release = func() { once.Do(func() { close(b.release) }) }
	t.Cleanup(release)
	return release
}
