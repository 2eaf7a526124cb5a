package manager

import (
	"context"
	"fmt"
	"time"

	"github.com/shapesync/shapesync/replication/lsn"
	"github.com/shapesync/shapesync/shapes/protocol"
)

// Child names one of conn-manager's children.
type Child int

// The children, in the order the setup starts them.
const (
	AdminPool Child = iota
	Lock
	SnapshotPool
	TxnBuilder
	Replication
	numChildren
)

var childLabels = [numChildren]string{"admin-pool", "lock", "snapshot-pool", "txn-builder", "replication"}

// Label is the child's label, the last element of its PID id.
func (c Child) Label() string {
	if c < 0 || c >= numChildren {
		return fmt.Sprintf("Child(%d)", int(c))
	}
	return childLabels[c]
}

func (c Child) String() string { return c.Label() }

// Phase is the setup step conn-manager is at (ARCHITECTURE §1.4,
// "Connection manager").
type Phase int

// The phases, in order.
const (
	PhaseAdminPool    Phase = iota + 1 // waiting for the admin pool
	PhaseLock                          // waiting for the advisory lock
	PhaseSetup                         // replication setup: identify, publication, slot
	PhaseSnapshotPool                  // waiting for the snapshot pool
	PhaseShapes                        // starting (or reusing) the shapes subsystem
	PhaseStream                        // txn-builder and replication spawned, not yet streaming
	PhaseLive                          // the replication actor reported streaming
)

var phaseNames = [...]string{"", "admin-pool", "lock", "replication-setup", "snapshot-pool", "shapes", "stream", "live"}

func (p Phase) String() string {
	if p < PhaseAdminPool || p > PhaseLive {
		return fmt.Sprintf("Phase(%d)", int(p))
	}
	return phaseNames[p]
}

// SetupRequest is what one replication setup attempt is asked to do.
type SetupRequest struct {
	// RecreateSlot asks for the slot to be dropped and created again
	// (the stream lost continuity: slot missing or invalidated, a
	// transaction past max_txn_size); Reason says why, for the log.
	RecreateSlot bool
	Reason       string
}

// SetupResult is what the replication setup learned and decided
// (SHAPE_API §22.2 steps 1, 3 and 4).
type SetupResult struct {
	// IDENTIFY_SYSTEM: compared with the stored ones by the continuity
	// check (B12).
	SystemID string
	Timeline int32
	XLogPos  lsn.LSN
	DBName   string
	// Server facts the stream depends on.
	ServerVersion    int
	WalSenderTimeout time.Duration
	// Names in use.
	Publication string
	Slot        string
	// StartLSN is where the stream starts and acknowledging starts: the
	// slot's confirmed_flush_lsn, or a new slot's consistent point. Never 0.
	StartLSN lsn.LSN
	// SlotCreated reports a new slot: the stored shapes no longer continue
	// this stream and are purged before the stream starts; SlotReason says
	// why it is new.
	SlotCreated bool
	SlotReason  string
	// PublicationCreated reports a new (or widened) publication.
	PublicationCreated bool
}

// ReplicationSetup runs the replication setup on a connection of its own
// and closes it; conn-manager runs it in a goroutine it owns and cancels
// ctx to abandon it. The wiring implements it with replication/stream's
// IdentifySystem, ReadServerSettings, EnsurePublication and EnsureSlot
// (conn-manager cannot import another layer-2 package). Errors are
// classified with pgwire.Classify.
type ReplicationSetup func(ctx context.Context, req SetupRequest) (SetupResult, error)

// ShapesStart is what the shapes subsystem is started with.
type ShapesStart struct {
	// Purge: every stored shape must be removed before anything else runs
	// (the slot is new, so no stored shape continues the stream); Reason
	// says why. The shapes spec the wiring builds for Purge must purge
	// first (store PurgeAll while the subsystem is stopped).
	Purge  bool
	Reason string
	// Setup is the replication setup the stream will start from.
	Setup SetupResult
}

// Event is an input of the state machine.
type Event interface{ isEvent() }

type (
	// Started starts the setup from the first step.
	Started struct{}
	// ChildReady: a child reported its condition as holding (the pool
	// connected, the lock is held, the stream is streaming).
	ChildReady struct{ Child Child }
	// ChildWaiting: a child reported its condition as not holding without
	// failing (the lock is held elsewhere, a health ping failed).
	ChildWaiting struct {
		Child  Child
		Reason string
	}
	// ChildDown: a child terminated; Reason is its failure (nil after a
	// clean stop).
	ChildDown struct {
		Child  Child
		Reason any
	}
	// SetupDone and SetupFailed end the replication setup with Token.
	SetupDone struct {
		Token  int
		Result SetupResult
	}
	SetupFailed struct {
		Token int
		Err   error
	}
	// ShapesStarted and ShapesFailed end the shapes start with Token.
	ShapesStarted struct{ Token int }
	ShapesFailed  struct {
		Token int
		Err   error
	}
	// RetryDue: the timer armed with Token fired.
	RetryDue struct{ Token int }
	// Reset: the shapes subsystem restarted (protocol.PipelineReset); the
	// stream restarts from the acknowledged position.
	Reset struct{ Reason string }
)

func (Started) isEvent()       {}
func (ChildReady) isEvent()    {}
func (ChildWaiting) isEvent()  {}
func (ChildDown) isEvent()     {}
func (SetupDone) isEvent()     {}
func (SetupFailed) isEvent()   {}
func (ShapesStarted) isEvent() {}
func (ShapesFailed) isEvent()  {}
func (RetryDue) isEvent()      {}
func (Reset) isEvent()         {}

// Action is an output of the state machine, carried out by the actor.
type Action interface{ isAction() }

type (
	// Spawn starts a child; Setup is set for Replication (where to start).
	Spawn struct {
		Child Child
		Setup *SetupResult
	}
	// Stop stops a child; its ChildDown follows.
	Stop struct{ Child Child }
	// RunSetup starts the replication setup goroutine.
	RunSetup struct {
		Token   int
		Request SetupRequest
	}
	// CancelSetup abandons the setup goroutine (its result is stale).
	CancelSetup struct{ Token int }
	// StartShapes starts the shapes subsystem, or reuses a running one
	// when it need not purge.
	StartShapes struct {
		Token int
		Start ShapesStart
	}
	// Report sends a condition to the status actor.
	Report struct{ Condition protocol.Condition }
	// Arm sets a timer that comes back as RetryDue{Token} after Delay;
	// What says what will be retried and Why the failure (for the log).
	Arm struct {
		Token int
		Delay time.Duration
		What  string
		Why   string
	}
)

func (Spawn) isAction()       {}
func (Stop) isAction()        {}
func (RunSetup) isAction()    {}
func (CancelSetup) isAction() {}
func (StartShapes) isAction() {}
func (Report) isAction()      {}
func (Arm) isAction()         {}
