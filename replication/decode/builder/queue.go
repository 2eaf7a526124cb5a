package builder

import (
	"errors"
	"fmt"

	"github.com/shapesync/shapesync/actors"
	"github.com/shapesync/shapesync/replication/events"
	"github.com/shapesync/shapesync/replication/lsn"
	"github.com/shapesync/shapesync/shapes/protocol"
)

// Decoder is what the Queue needs of decode.Builder.
type Decoder interface {
	ApplyWAL(walData []byte, walStart lsn.LSN) ([]events.Event, error)
	WalEnd(l lsn.LSN) []events.Event
	Reset()
}

// Credit is one batch's credit and the actor it goes back to.
type Credit struct {
	To   *actors.PID
	Done protocol.BatchDone
}

// Output is what one Queue step asks the host to do.
type Output struct {
	// Send is the event to hand to the collector now; nil when none.
	Send *protocol.Event
	// Credits are the batches fully handed over, oldest first.
	Credits []Credit
	// Reset reports that the batch started a new stream epoch: the partial
	// transaction and every pending batch of the old epoch were discarded.
	Reset bool
	// Stale reports that the batch or answer belonged to an older epoch or
	// an event no longer in flight, and was ignored.
	Stale bool
}

// Queue is the txn-builder's flow control, pure like raft's Step: batches
// in, at most one event in flight, credits out. It is not safe for
// concurrent use.
type Queue struct {
	dec      Decoder
	epoch    uint64
	started  bool
	batches  []*pendingBatch
	seq      uint64 // seq of the last event issued; events are numbered from 1
	inflight *protocol.Event
	err      error
}

// pendingBatch is a batch whose credit has not gone back yet.
type pendingBatch struct {
	seq     uint64
	replyTo *actors.PID
	items   []protocol.WalItem
	next    int            // next item to decode
	events  []events.Event // decoded from items[next-1], not yet sent
}

// ErrBothDataAndWalEnd is returned for a WalItem that is neither plainly an
// XLogData payload nor plainly a wal_end marker.
var ErrBothDataAndWalEnd = errors.New("WAL item carries both XLogData and a wal_end marker")

// NewQueue returns an empty queue feeding dec.
func NewQueue(dec Decoder) *Queue { return &Queue{dec: dec} }

// Offer takes a batch received from replyTo. A batch of a newer epoch than
// any seen resets the decoder and drops everything pending; a batch of an
// older epoch is dropped (its pump is gone, so its credit is not returned).
// An error is a decode error: the queue is broken and returns it from then
// on; the host restarts the stream.
func (q *Queue) Offer(b *protocol.WalBatch, replyTo *actors.PID) (Output, error) {
	if q.err != nil {
		return Output{}, q.err
	}
	var out Output
	switch {
	case q.started && b.Epoch < q.epoch:
		return Output{Stale: true}, nil
	case !q.started || b.Epoch > q.epoch:
		out.Reset = q.started
		q.dec.Reset()
		q.epoch, q.started = b.Epoch, true
		q.batches, q.inflight = nil, nil
	}
	q.batches = append(q.batches, &pendingBatch{seq: b.Seq, replyTo: replyTo, items: b.Items})
	return out, q.pump(&out)
}

// Handled takes the collector's EventHandled. Answers for anything but the
// event in flight are stale and ignored.
func (q *Queue) Handled(epoch, seq uint64) (Output, error) {
	if q.err != nil {
		return Output{}, q.err
	}
	if !q.IsInFlight(epoch, seq) {
		return Output{Stale: true}, nil
	}
	q.inflight = nil
	var out Output
	return out, q.pump(&out)
}

// InFlight is the event handed to the collector and not yet handled, or nil.
func (q *Queue) InFlight() *protocol.Event { return q.inflight }

// IsInFlight reports whether (epoch, seq) names the event in flight.
func (q *Queue) IsInFlight(epoch, seq uint64) bool {
	return q.inflight != nil && q.inflight.Epoch == epoch && q.inflight.Seq == seq
}

// Epoch is the stream epoch being decoded (0 before the first batch).
func (q *Queue) Epoch() uint64 { return q.epoch }

// Pending is the number of batches whose credit has not gone back.
func (q *Queue) Pending() int { return len(q.batches) }

// pump issues the next event if none is in flight, decoding items as
// needed, and returns the credits of batches that have nothing left.
// Items are decoded one at a time, so the events before a bad item are
// delivered (and can be acknowledged) before the error stops the stream.
func (q *Queue) pump(out *Output) error {
	for q.inflight == nil && len(q.batches) > 0 {
		b := q.batches[0]
		if len(b.events) > 0 {
			ev := b.events[0]
			b.events[0] = nil
			b.events = b.events[1:]
			q.seq++
			q.inflight = &protocol.Event{Epoch: q.epoch, Seq: q.seq, Event: ev}
			out.Send = q.inflight
			return nil
		}
		if b.next < len(b.items) {
			item := b.items[b.next]
			b.items[b.next] = protocol.WalItem{} // the payload is decoded: let it go
			b.next++
			evs, err := q.decode(item)
			if err != nil {
				q.err = err
				q.batches, q.inflight = nil, nil
				return err
			}
			b.events = evs
			continue
		}
		out.Credits = append(out.Credits, Credit{To: b.replyTo, Done: protocol.BatchDone{Epoch: q.epoch, Seq: b.seq}})
		q.batches[0] = nil
		q.batches = q.batches[1:]
	}
	return nil
}

func (q *Queue) decode(item protocol.WalItem) ([]events.Event, error) {
	if item.WalEnd != 0 {
		if len(item.Data) != 0 {
			return nil, fmt.Errorf("%w (wal_end %s, WAL start %s)", ErrBothDataAndWalEnd, item.WalEnd, item.WALStart)
		}
		return q.dec.WalEnd(item.WalEnd), nil
	}
	return q.dec.ApplyWAL(item.Data, item.WALStart)
}
