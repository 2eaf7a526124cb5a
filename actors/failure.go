package actors

import (
	"fmt"

	"github.com/asynkron/protoactor-go/actor"
	"go.uber.org/zap"
)

// stopStrategy is the protoactor SupervisorStrategy on every kit Props and
// the guardian of every root: its decider is Stop. A failing actor is never
// restarted in place (which would keep its mailbox and stale messages);
// it stops, its parent receives *actor.Terminated, and a kit supervisor
// re-spawns it with a fresh mailbox (ARCHITECTURE §1.1 principle 6).
//
// HandleFailure runs on the parent's system-message path, so it only
// records, logs and sends the Stop; it never blocks.
type stopStrategy struct{ kit *Kit }

var _ actor.SupervisorStrategy = (*stopStrategy)(nil)

func (s *stopStrategy) HandleFailure(_ *actor.ActorSystem, sup actor.Supervisor, child *actor.PID,
	_ *actor.RestartStatistics, reason any, message any) {
	k := s.kit
	why := fmt.Sprint(reason)
	k.reg.failure(child.Id, why)
	isRoot := k.reg.isRoot(child.Id)
	k.log.Warn("actor failed; stopping it",
		zap.String("actor", child.Id), zap.String("reason", why),
		zap.String("message", messageType(actor.UnwrapEnvelopeMessage(message))),
		zap.Bool("root", isRoot))
	sup.StopChildren(child)
	if isRoot {
		k.log.Error("root actor failed and will not be re-spawned", zap.String("actor", child.Id), zap.String("reason", why))
		if k.cfg.onRootFailure != nil {
			k.cfg.onRootFailure(child.Id, reason)
		}
	}
}
