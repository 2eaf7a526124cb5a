package flush

import (
	"container/heap"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/shapesync/shapesync/replication/lsn"
)

// ShapeID names a shape to the tracker (its handle).
type ShapeID string

// ErrOutOfOrder marks a commit that is not after everything the tracker has
// seen; accepting it could acknowledge a transaction before it is durable.
var ErrOutOfOrder = errors.New("commit out of stream order")

// Tracker is the flush tracker. Every pending delivery (a commit sent to a
// shape that has not yet reported it durable) is queued on its shape together
// with the end of the commit just before it in the stream; a heap keeps the
// shapes ordered by their oldest pending commit. The oldest pending commit of
// all is the first one not yet everywhere durable, so the position is the
// end of the commit before it, or the newest end seen when nothing is
// pending. Each operation costs O(log n) in the number of pending shapes
// (Commit: per shape delivered to).
//
// A Tracker is not safe for concurrent use.
type Tracker struct {
	position lsn.LSN // may be acknowledged; never decreases
	lastEnd  lsn.LSN // end of the newest commit or WalEnd seen
	// lastCommit is the newest commit LSN seen, valid once haveCommit.
	lastCommit lsn.LSN
	haveCommit bool
	shapes     map[ShapeID]*shape // only shapes with pending deliveries
	heap       shapeHeap
}

// delivery is a commit sent to a shape and not yet durable there. prevEnd is
// what may be acknowledged if this is the oldest pending commit of all: the
// end of the commit (or WalEnd) just before it in the stream.
type delivery struct {
	commit  lsn.LSN
	prevEnd lsn.LSN
}

type shape struct {
	id      ShapeID
	pending []delivery // FIFO from head, commit LSNs increasing
	head    int
	index   int // position in the heap
	// progress counts flush advances; Stalled compares it across calls.
	progress     uint64
	seen         bool
	seenProgress uint64
	seenAt       time.Time
}

func (s *shape) oldest() delivery { return s.pending[s.head] }

// NewTracker starts at the position already acknowledged (the slot's
// confirmed_flush_lsn, or a new slot's consistent point): it never reports
// less.
func NewTracker(start lsn.LSN) *Tracker {
	return &Tracker{position: start, lastEnd: start, shapes: make(map[ShapeID]*shape)}
}

// Position is the WAL position that may be acknowledged as flushed.
func (t *Tracker) Position() lsn.LSN { return t.position }

// LastSeen is the end of the newest commit or WalEnd told to the tracker.
func (t *Tracker) LastSeen() lsn.LSN { return t.lastEnd }

// PendingShapes is how many shapes hold deliveries not yet durable.
func (t *Tracker) PendingShapes() int { return len(t.heap) }

// Commit records a committed transaction in stream order: commitLSN is its
// BEGIN final LSN (the tx part of its offsets), endLSN its TransactionEndLSN,
// shapes those it was delivered to (none is fine: such a transaction is
// durable as soon as everything before it is). It reports whether the
// position advanced. A commit not after the previous one, or before a
// position already seen, is rejected with ErrOutOfOrder and changes nothing.
func (t *Tracker) Commit(endLSN, commitLSN lsn.LSN, shapes []ShapeID) (advanced bool, err error) {
	switch {
	case t.haveCommit && commitLSN <= t.lastCommit:
		return false, fmt.Errorf("%w: commit %s after commit %s", ErrOutOfOrder, commitLSN, t.lastCommit)
	case commitLSN < t.lastEnd:
		return false, fmt.Errorf("%w: commit %s before position %s already seen", ErrOutOfOrder, commitLSN, t.lastEnd)
	case endLSN < commitLSN:
		return false, fmt.Errorf("%w: commit %s ends at %s, before it starts", ErrOutOfOrder, commitLSN, endLSN)
	}
	d := delivery{commit: commitLSN, prevEnd: t.lastEnd}
	t.lastCommit, t.haveCommit, t.lastEnd = commitLSN, true, endLSN
	for _, id := range shapes {
		s, ok := t.shapes[id]
		if !ok {
			s = &shape{id: id}
			t.shapes[id] = s
			s.pending = append(s.pending, d)
			heap.Push(&t.heap, s)
			continue
		}
		if s.pending[len(s.pending)-1].commit == commitLSN {
			continue // listed twice
		}
		// A newer commit never becomes the shape's oldest, so its heap key
		// stays the same.
		s.pending = append(s.pending, d)
	}
	return t.advance(), nil
}

// WalEnd records an idle keepalive position (B11). The Builder sends it only
// between transactions, so it acts as an empty commit at l: with nothing
// pending the position moves to l at once; otherwise it moves there once
// everything received before it is durable, never past a pending transaction
// (I3). A position at or below the last one seen changes nothing.
func (t *Tracker) WalEnd(l lsn.LSN) (advanced bool) {
	if l > t.lastEnd {
		t.lastEnd = l
	}
	return t.advance()
}

// Flushed records that shape id has durably stored every transaction it was
// sent with a commit LSN ≤ commitLSN. It reports whether the position
// advanced. Unknown shapes and stale reports change nothing.
func (t *Tracker) Flushed(id ShapeID, commitLSN lsn.LSN) (advanced bool) {
	s, ok := t.shapes[id]
	if !ok {
		return false
	}
	start := s.head
	for s.head < len(s.pending) && s.pending[s.head].commit <= commitLSN {
		s.head++
	}
	if s.head == start {
		return false
	}
	s.progress++
	if s.head == len(s.pending) {
		t.drop(s)
	} else {
		if s.head >= 32 && s.head*2 >= len(s.pending) {
			s.pending = append(s.pending[:0], s.pending[s.head:]...)
			s.head = 0
		}
		heap.Fix(&t.heap, s.index)
	}
	return t.advance()
}

// RemoveShape forgets a removed or terminated shape so it no longer pins the
// position. It reports whether the position advanced.
func (t *Tracker) RemoveShape(id ShapeID) (advanced bool) {
	s, ok := t.shapes[id]
	if !ok {
		return false
	}
	t.drop(s)
	return t.advance()
}

// Stalled returns, sorted, the pending shapes whose flush position has not
// moved for at least grace. The tracker has no clock: a shape's progress is
// stamped with the now of the first Stalled call that observes it, so the
// caller polls on a ticker and the result is precise to that period (and a
// shape that just became pending is never reported on its first observation).
func (t *Tracker) Stalled(now time.Time, grace time.Duration) []ShapeID {
	var out []ShapeID
	for _, s := range t.shapes {
		if !s.seen || s.seenProgress != s.progress {
			s.seen, s.seenProgress, s.seenAt = true, s.progress, now
			continue
		}
		if now.Sub(s.seenAt) >= grace {
			out = append(out, s.id)
		}
	}
	slices.Sort(out)
	return out
}

func (t *Tracker) drop(s *shape) {
	heap.Remove(&t.heap, s.index)
	delete(t.shapes, s.id)
}

// advance moves the position to what is now safe. The candidate only grows
// (the heap minimum's commit only grows, and so does its prevEnd), and the
// max keeps the start position a floor.
func (t *Tracker) advance() bool {
	next := t.lastEnd
	if len(t.heap) > 0 {
		next = t.heap[0].oldest().prevEnd
	}
	if next <= t.position {
		return false
	}
	t.position = next
	return true
}

// shapeHeap orders pending shapes by their oldest pending commit.
type shapeHeap []*shape

func (h shapeHeap) Len() int           { return len(h) }
func (h shapeHeap) Less(i, j int) bool { return h[i].oldest().commit < h[j].oldest().commit }
func (h shapeHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index = i
	h[j].index = j
}
func (h *shapeHeap) Push(x any) {
	s := x.(*shape)
	s.index = len(*h)
	*h = append(*h, s)
}
func (h *shapeHeap) Pop() any {
	old := *h
	s := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return s
}
