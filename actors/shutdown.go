package actors

import (
	"context"
	"slices"

	"github.com/asynkron/protoactor-go/actor"
	"go.uber.org/zap"
)

// Shutdown stops the roots in reverse spawn order, each waited for via
// *actor.Terminated before the next. A root supervisor stops its own
// children one at a time (StopOrder first, then reverse start order),
// recursively; other actors get protoactor's Stop. The wait is bounded by
// ctx, or by the kit's shutdown timeout when ctx has no deadline —
// protoactor's StopFuture/PoisonFuture hard-code 10 s (ARCHITECTURE §4 (h)).
//
// It returns nil when everything stopped. On the deadline it logs and
// returns the PID ids of the kit actors that did not stop (a Receive that
// blocks cannot be stopped, GO_STACK P1); they are abandoned, and the
// caller (cmd) exits.
func (k *Kit) Shutdown(ctx context.Context) []string {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, k.cfg.shutdownTimeout)
		defer cancel()
	}
	k.mu.Lock()
	roots := slices.Clone(k.roots)
	k.roots = nil
	k.mu.Unlock()

	for i := len(roots) - 1; i >= 0; i-- {
		pid := roots[i]
		done := k.awaitTermination(pid)
		if k.reg.kind(pid.Id) == KindSupervisor {
			k.sys.Root.Send(pid, &stopOrdered{})
		} else {
			k.sys.Root.Stop(pid)
		}
		select {
		case <-done:
		case <-ctx.Done():
			stuck := k.reg.notStopped()
			k.log.Error("shutdown deadline passed; these actors did not stop (a Receive is blocking)",
				zap.Strings("actors", stuck), zap.Error(ctx.Err()))
			return stuck
		}
	}
	k.stopOnce.Do(k.sys.Shutdown)
	return nil
}

// awaitTermination watches pid from a small protoactor actor (not a kit
// actor, so not in the registry) and closes the returned channel on its
// Terminated. Watching a PID that is already gone yields Terminated too.
func (k *Kit) awaitTermination(pid *PID) <-chan struct{} {
	done := make(chan struct{})
	closed := false // touched only on the watcher's goroutine
	k.sys.Root.Spawn(actor.PropsFromFunc(func(c actor.Context) {
		switch m := c.Message().(type) {
		case *actor.Started:
			c.Watch(pid)
		case *actor.Terminated:
			if m.Who.Equal(pid) && !closed {
				closed = true
				close(done)
				c.Stop(c.Self())
			}
		}
	}))
	return done
}
