package supervisor

import (
	"errors"
	"time"

	"go.uber.org/zap"

	"github.com/shapesync/shapesync/actors"
	"github.com/shapesync/shapesync/supervisor/status"
)

// Labels of the supervisors this package assembles.
const (
	StackLabel = "stack"
	CoreLabel  = "core"
)

// Deps is what the tree needs from the program: the actor kit, a logger and
// the views that outlive every actor incarnation.
type Deps struct {
	Kit    *actors.Kit
	Log    *zap.Logger
	Status *status.View
}

// Tree is the running supervision tree.
type Tree struct {
	kit   *actors.Kit
	Stack *actors.PID
}

// Start spawns the root of the tree; its children start asynchronously and
// report to status as they come up.
func Start(d Deps) (*Tree, error) {
	if d.Kit == nil || d.Status == nil {
		return nil, errors.New("supervisor: Deps.Kit and Deps.Status are required")
	}
	if d.Log == nil {
		d.Log = zap.NewNop()
	}
	pid, err := d.Kit.SpawnRoot(stackSpec(d))
	if err != nil {
		return nil, err
	}
	return &Tree{kit: d.Kit, Stack: pid}, nil
}

func stackSpec(d Deps) actors.ChildSpec {
	return actors.ChildSpec{
		Label: StackLabel,
		Producer: actors.Supervisor(actors.SupervisorSpec{
			Strategy: actors.OneForOne,
			// The guardian never gives up (I7): it re-spawns core with a
			// backoff capped at 30 s and never escalates.
			Backoff:  actors.Backoff(time.Second, 30*time.Second, 0.2, time.Minute),
			Children: []actors.ChildSpec{coreSpec(d)},
		}),
		Bound:  actors.Count(64),
		Policy: actors.Credit,
	}
}

func coreSpec(d Deps) actors.ChildSpec {
	return actors.ChildSpec{
		Label: CoreLabel,
		Producer: actors.Supervisor(actors.SupervisorSpec{
			// status comes first: if it dies, everything that reported to
			// it restarts and reports again (upstream's reason).
			Strategy: actors.RestForOne,
			Backoff:  actors.Backoff(100*time.Millisecond, 30*time.Second, 0.2, time.Minute),
			Escalate: actors.EscalateAfter(5, time.Minute),
			Children: []actors.ChildSpec{
				{Label: status.Label, Producer: status.Producer(d.Status, d.Log.Named("status")), Bound: status.Bound(), Policy: status.Policy},
			},
		}),
		Bound:  actors.Count(64),
		Policy: actors.Credit,
	}
}
