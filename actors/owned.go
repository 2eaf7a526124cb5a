package actors

import (
	"context"
	"fmt"
	"io"
	"runtime/debug"
	"sync"

	"github.com/asynkron/protoactor-go/actor"
	"go.uber.org/zap"
)

// Epoch tags one owned goroutine. Epochs come from a kit-wide counter, so
// they are unique across every incarnation: a late result from a goroutine
// of a dead incarnation, re-resolved by PID id to its successor, is stale
// there too.
type Epoch uint64

// Failed reports an owned goroutine that panicked.
type Failed struct {
	Epoch Epoch
	Name  string
	Err   error // a *PanicError
}

// Exited reports an owned goroutine that returned; Err is what it returned.
type Exited struct {
	Epoch Epoch
	Name  string
	Err   error
}

// PanicError is a recovered panic of an owned goroutine.
type PanicError struct {
	Value any
	Stack []byte
}

func (e *PanicError) Error() string { return fmt.Sprintf("panic: %v", e.Value) }

// Goroutines are the blocking-I/O goroutines an actor owns (ARCHITECTURE
// §1.1 principle 1). Keep it in the actor's state; call its methods only
// from the actor's Receive. Each goroutine gets a context and an epoch and
// reports back as messages to the owner; when the incarnation stops, the
// kit kills whatever is still running.
type Goroutines struct {
	kit   *Kit
	owner *PID
	tasks map[string]*Task // current goroutine per name
}

// Task is an owned goroutine's handle on itself. It is the only thing the
// goroutine may use: never the actor.Context, which belongs to the actor's
// goroutine.
type Task struct {
	Name  string
	Epoch Epoch

	ctx    context.Context
	cancel context.CancelFunc
	kit    *Kit
	owner  *PID

	mu     sync.Mutex
	killed bool
	closer io.Closer
}

// Goroutines creates the owned-goroutine set of the actor behind ctx (call
// it in Started). The set is killed when that incarnation stops.
func (k *Kit) Goroutines(ctx actor.Context) *Goroutines {
	g := &Goroutines{kit: k, owner: ctx.Self(), tasks: make(map[string]*Task)}
	if inc := k.reg.current(ctx.Self().Id); inc != nil {
		inc.owned = append(inc.owned, g)
	}
	return g
}

// Go starts fn as the goroutine called name, killing the previous one of
// that name, and returns its epoch. fn's return is reported as *Exited, a
// panic as *Failed, both tagged with the epoch; nothing is reported after
// a Kill.
func (g *Goroutines) Go(name string, fn func(t *Task) error) Epoch {
	g.Kill(name)
	ctx, cancel := context.WithCancel(context.Background())
	t := &Task{
		Name: name, Epoch: Epoch(g.kit.epochs.Add(1)),
		ctx: ctx, cancel: cancel, kit: g.kit, owner: g.owner,
	}
	g.tasks[name] = t
	go t.run(fn)
	return t.Epoch
}

func (t *Task) run(fn func(t *Task) error) {
	defer t.cancel()
	defer func() {
		if r := recover(); r != nil {
			err := &PanicError{Value: r, Stack: debug.Stack()}
			t.kit.log.Error("owned goroutine panicked",
				zap.String("actor", t.owner.Id), zap.String("goroutine", t.Name),
				zap.Uint64("epoch", uint64(t.Epoch)), zap.String("reason", fmt.Sprint(r)),
				zap.ByteString("stack", err.Stack))
			t.Send(&Failed{Epoch: t.Epoch, Name: t.Name, Err: err})
		}
	}()
	err := fn(t)
	t.Send(&Exited{Epoch: t.Epoch, Name: t.Name, Err: err})
}

// Kill abandons the goroutine called name: cancel its context, Close its
// registered closer, forget it (so its epoch is no longer current). It
// never waits: the goroutine exits on its own once its blocking call
// fails. Reports whether one was running.
func (g *Goroutines) Kill(name string) bool {
	t, ok := g.tasks[name]
	if !ok {
		return false
	}
	delete(g.tasks, name)
	t.kill()
	return true
}

// KillAll kills every owned goroutine (the kit calls it when the
// incarnation stops; call it yourself in Stopping to release earlier).
func (g *Goroutines) KillAll() {
	for name := range g.tasks {
		g.Kill(name)
	}
}

// IsCurrent reports whether epoch belongs to a goroutine that is neither
// killed nor reaped: results tagged with any other epoch are stale.
func (g *Goroutines) IsCurrent(epoch Epoch) bool {
	for _, t := range g.tasks {
		if t.Epoch == epoch {
			return true
		}
	}
	return false
}

// Reap handles an *Exited or *Failed: it forgets the goroutine if epoch is
// current and reports whether it was (false = stale, ignore the message).
func (g *Goroutines) Reap(epoch Epoch) bool {
	for name, t := range g.tasks {
		if t.Epoch == epoch {
			delete(g.tasks, name)
			t.cancel()
			return true
		}
	}
	return false
}

// Running lists the names of the current goroutines.
func (g *Goroutines) Running() []string {
	out := make([]string, 0, len(g.tasks))
	for name := range g.tasks {
		out = append(out, name)
	}
	return out
}

// Context is cancelled by Kill, and when fn returns.
func (t *Task) Context() context.Context { return t.ctx }

// SetCloser registers what Kill must Close to unblock the goroutine (its
// socket). Close must not block: a net.Conn's does not. Registering after
// a Kill closes c at once.
func (t *Task) SetCloser(c io.Closer) {
	t.mu.Lock()
	if t.killed {
		t.mu.Unlock()
		_ = c.Close()
		return
	}
	t.closer = c
	t.mu.Unlock()
}

// Send posts msg to the owner. After a Kill it drops msg and returns
// false: nobody wants results of an abandoned goroutine, and a late one
// that slips through carries a stale epoch.
func (t *Task) Send(msg any) bool {
	if t.Killed() {
		return false
	}
	t.kit.sys.Root.Send(t.owner, msg)
	return true
}

// Killed reports whether the owner abandoned this goroutine.
func (t *Task) Killed() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.killed
}

func (t *Task) kill() {
	t.mu.Lock()
	t.killed = true
	c := t.closer
	t.closer = nil
	t.mu.Unlock()
	t.cancel()
	if c != nil {
		_ = c.Close()
	}
}
