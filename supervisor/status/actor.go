package status

import (
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"go.uber.org/zap"

	"github.com/shapesync/shapesync/actors"
	"github.com/shapesync/shapesync/shapes/protocol"
)

// Label is the status actor's label in the tree.
const Label = "status"

// Bound is the status actor's declared mailbox bound; conditions are
// coalesced per name, so its depth is at most the number of conditions.
func Bound() actors.Bound { return actors.Count(256) }

// Policy is the status actor's overflow policy.
const Policy = actors.Coalesce

type monitor struct {
	view    *View
	log     *zap.Logger
	now     func() time.Time
	reports map[string]Report
	last    State
}

// Producer returns the status actor's producer. The view outlives every
// incarnation: a fresh incarnation starts with no reports (so the state
// falls back to starting) until the actors it watches report again.
func Producer(view *View, log *zap.Logger) actor.Producer {
	return func() actor.Actor {
		return &monitor{view: view, log: log, now: time.Now, reports: map[string]Report{}}
	}
}

func (m *monitor) Receive(ctx actor.Context) {
	switch msg := ctx.Message().(type) {
	case *actor.Started:
		m.publish()
	case *protocol.Condition:
		prev, seen := m.reports[msg.Name]
		if seen && prev.OK == msg.OK && prev.Reason == msg.Reason {
			return
		}
		m.reports[msg.Name] = Report{OK: msg.OK, Reason: msg.Reason, Since: m.now()}
		m.publish()
	case *protocol.Inspect:
		s := m.view.Current()
		ctx.Respond(&protocol.Inspection{Summary: string(s.State)})
	}
}

func (m *monitor) publish() {
	state, reasons := Derive(m.reports)
	m.view.Publish(Snapshot{State: state, Reasons: reasons})
	if state != m.last {
		m.log.Info("service state changed", zap.String("from", string(m.last)), zap.String("to", string(state)), zap.Strings("reasons", reasons))
		m.last = state
	}
}
