package protocol

import (
	"github.com/shapesync/shapesync/replication/events"
	"github.com/shapesync/shapesync/replication/lsn"
)

// WalItem is one unit received from the replication stream: an XLogData
// payload (copied out of the receive buffer) or, when WalEnd is set, a
// primary keepalive's server WAL end placed in stream order (B11).
type WalItem struct {
	WALStart lsn.LSN
	Data     []byte
	WalEnd   lsn.LSN
}

// WalBatch carries received items from the replication actor to the
// txn-builder. At most a window of batches is in flight (credit).
type WalBatch struct {
	Epoch uint64
	Seq   uint64
	Items []WalItem
}

// BatchDone returns one batch of credit to the replication actor.
type BatchDone struct {
	Epoch uint64
	Seq   uint64
}

// Event carries one decoded event from the txn-builder to the collector;
// one is in flight at a time.
type Event struct {
	Epoch uint64
	Seq   uint64
	Event events.Event
}

// EventHandled tells the txn-builder that the collector is done with Seq:
// every affected consumer has it.
type EventHandled struct {
	Epoch uint64
	Seq   uint64
}

// NotReady tells the txn-builder that the collector cannot take events yet;
// the builder retries after status reports the shapes ready.
type NotReady struct {
	Epoch uint64
	Seq   uint64
}

// AckLSN tells the replication actor the newest position that is durable
// for every shape and has been persisted as S|acked (I3): it may be sent to
// Postgres as the flushed position.
type AckLSN struct {
	LSN lsn.LSN
}

// PipelineReset asks conn-manager to restart the stream from the
// acknowledged position (sent after the shapes subsystem restarted).
type PipelineReset struct {
	Reason string
}

// Names of the readiness conditions, each reported by the actor that
// knows it (supervisor/status derives the service state from them).
const (
	CondStoreOpen         = "store_open"           // store: badger opened
	CondMetadataLoaded    = "metadata_loaded"      // registry: stored shapes restored
	CondDatabase          = "database_reachable"   // conn-manager: admin pool connected
	CondLock              = "lock_held"            // lock: advisory lock held by us
	CondReplication       = "replication_ready"    // replication: streaming from the slot
	CondShapes            = "shapes_ready"         // collector: accepting events
	CondReplicationUsable = "replication_possible" // conn-manager: false ⇒ fallback (G1)
)

// Condition reports one readiness condition to the status actor.
type Condition struct {
	Name   string
	OK     bool
	Reason string
}

// Inspect asks any actor for a one-line summary of its state (dashboard).
type Inspect struct{}

// Inspection answers Inspect.
type Inspection struct {
	Summary string
}

// CoalesceKey makes conditions latest-wins per name (status mailbox policy
// "coalesce per condition").
func (c *Condition) CoalesceKey() string { return "condition/" + c.Name }

// CoalesceKey makes acks latest-wins: only the newest durable position
// matters to the replication actor.
func (*AckLSN) CoalesceKey() string { return "ack" }
