package status

import (
	"sync/atomic"

	"github.com/shapesync/shapesync/replication/lsn"
)

// Snapshot is an immutable picture of the service state.
type Snapshot struct {
	State   State
	Reasons []string
}

// View publishes the derived state and the replication positions for
// lock-free readers (HTTP). The status actor writes the state; the
// replication path writes the positions, each with a single writer.
type View struct {
	state    atomic.Pointer[Snapshot]
	received atomic.Uint64
	durable  atomic.Uint64
	acked    atomic.Uint64
}

// NewView returns a view in the starting state.
func NewView() *View {
	v := &View{}
	v.state.Store(&Snapshot{State: Starting, Reasons: []string{"service: starting up"}})
	return v
}

// Current returns the latest state.
func (v *View) Current() Snapshot { return *v.state.Load() }

// Publish replaces the state; only the status actor calls it.
func (v *View) Publish(s Snapshot) { v.state.Store(&s) }

// SetReceived records the newest WAL position received from Postgres.
func (v *View) SetReceived(l lsn.LSN) { raise(&v.received, l) }

// SetDurable records the acknowledged position as synced to storage.
func (v *View) SetDurable(l lsn.LSN) { raise(&v.durable, l) }

// SetAcked records the flushed position last sent to Postgres.
func (v *View) SetAcked(l lsn.LSN) { raise(&v.acked, l) }

// raise stores l if it is above the current value. WAL positions only grow,
// and a report of an older position (a restarted component re-reporting
// where it started) must not make /v1/status go backwards.
func raise(p *atomic.Uint64, l lsn.LSN) {
	for {
		cur := p.Load()
		if uint64(l) <= cur || p.CompareAndSwap(cur, uint64(l)) {
			return
		}
	}
}

// Positions returns received, durable and acked positions.
func (v *View) Positions() (received, durable, acked lsn.LSN) {
	return lsn.LSN(v.received.Load()), lsn.LSN(v.durable.Load()), lsn.LSN(v.acked.Load())
}
