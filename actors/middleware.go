package actors

import (
	"fmt"
	"runtime/debug"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"go.uber.org/zap"
)

// instrument is the outer receiver middleware of every kit actor: it warns
// when a Receive takes longer than the slow threshold (a Receive must never
// block, GO_STACK P1) and logs the stack of a panic before re-panicking so
// that protoactor's supervision still sees the failure; protoactor's own
// recover logs no stack (GO_STACK §1.1.4).
func (k *Kit) instrument(inc *incarnation) actor.ReceiverMiddleware {
	return func(next actor.ReceiverFunc) actor.ReceiverFunc {
		return func(c actor.ReceiverContext, env *actor.MessageEnvelope) {
			posted := env.Message // before lifecycle swaps a coalesce token
			start := time.Now()
			defer func() {
				if r := recover(); r != nil {
					if userQueued(posted) {
						// protoactor skips MessageReceived for this message (P10).
						inc.gauge.taken(posted)
					}
					k.log.Error("actor panicked",
						zap.String("actor", inc.id),
						zap.String("message", messageType(env.Message)),
						zap.String("reason", fmt.Sprint(r)),
						zap.ByteString("stack", debug.Stack()))
					panic(r)
				}
			}()
			next(c, env)
			if d := time.Since(start); d > k.cfg.slowAfter {
				slow := SlowReceive{Actor: inc.id, Message: messageType(env.Message), Duration: d}
				k.log.Warn("slow receive: a Receive must not block",
					zap.String("actor", slow.Actor), zap.String("message", slow.Message),
					zap.Duration("duration", d), zap.Duration("threshold", k.cfg.slowAfter))
				if k.cfg.onSlow != nil {
					k.cfg.onSlow(slow)
				}
			}
		}
	}
}

// lifecycle is the inner receiver middleware: it swaps coalesce tokens for
// their latest value, feeds the inspection registry from Started and
// Stopped, tells a kit supervisor that its child finished Started (the
// ordered start waits for it), and kills the incarnation's owned goroutines
// once it stopped.
func (k *Kit) lifecycle(inc *incarnation) actor.ReceiverMiddleware {
	return func(next actor.ReceiverFunc) actor.ReceiverFunc {
		return func(c actor.ReceiverContext, env *actor.MessageEnvelope) {
			switch env.Message.(type) {
			case *coalesced:
				if uncoalesce(env) {
					next(c, env)
				}
			case *actor.Started:
				next(c, env)
				k.reg.running(inc)
				if inc.supervised {
					k.sys.Root.Send(c.Parent(), &childStarted{who: c.Self()})
				}
			case *actor.Stopped:
				defer func() { // even if the actor's Stopped handler panics
					inc.killOwned()
					k.reg.stopped(inc)
				}()
				next(c, env)
			default:
				next(c, env)
			}
		}
	}
}

// childStarted tells a kit supervisor that who's Started handler returned.
type childStarted struct{ who *PID }

func messageType(msg any) string { return fmt.Sprintf("%T", msg) }
