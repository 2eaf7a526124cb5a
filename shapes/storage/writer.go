package storage

import (
	"errors"
	"fmt"

	"github.com/shapesync/shapesync/replication/lsn"
)

// Errors of the write path. Every one of them means a bug upstream (or a
// shape that must be invalidated); none is retryable.
var (
	ErrBatchSealed         = errors.New("storage: batch is sealed")
	ErrBatchNotSealed      = errors.New("storage: batch is not sealed; call Seal (or Writer.NewBatch) before WriteAndSync")
	ErrStaleBatch          = errors.New("storage: batch is out of order or from a stale writer; create a new Writer (restart the store-writer) and replay from the acked LSN")
	ErrOffsetNotIncreasing = errors.New("storage: append at or below the shape's last offset")
	ErrInvalidOffset       = errors.New("storage: not a change offset (tx must be > 0, op finite)")
	ErrCommitOffset        = errors.New("storage: commit offset is not the shape's last appended offset")
	ErrSnapshotDone        = errors.New("storage: snapshot already ended")
	ErrInvalidItem         = errors.New("storage: an item must be non-empty JSON (it cannot start with a NUL byte)")
	ErrAckRegressed        = errors.New("storage: acked LSN would move backwards")
	ErrShapeBlocked        = errors.New("storage: shape is deleted or damaged; invalidate it")
	ErrInvalidShapeID      = errors.New("storage: shape id 0 is not a shape")
)

// Writer holds the per-shape writer state of one store-writer incarnation
// and turns appends into Batches. It is not safe for concurrent use: one
// actor owns it, builds batches with it and hands sealed batches to the
// goroutine that calls Store.WriteAndSync (double buffering: the next batch
// fills while the previous one syncs).
//
// All decisions (keys, chunk boundaries, offset checks) are made here,
// without I/O. A Writer starts from the durable state (Store.NewWriter); the
// change state it resumes from is the one as of each shape's last durable
// commit, so appends that were synced past a commit are simply written again
// by the replay that follows every restart (same offsets, same bytes: I2).
//
// Replay rule (how "identical" is checked cheaply): an append at or below
// the shape's durable commit when the Writer was created is a replay. It is
// accepted without being written again; WriteAndSync compares its bytes
// with the stored item (one point read per replayed item, only in the short
// window between the acked LSN and the commit) and reports a difference in
// Result.Rejected, blocking the shape. Any other append at or below the
// shape's last offset fails at once with ErrOffsetNotIncreasing.
type Writer struct {
	s         *Store
	threshold uint64
	gen       uint64
	nextSeq   uint64
	cursors   map[uint64]*cursor
	open      *Batch
	acked     lsn.LSN
}

// cursor is one shape's writer state.
type cursor struct {
	meta        shapeMeta     // what M| says once the batches so far are synced
	last        lsn.LogOffset // last appended change offset, ≥ meta.Committed
	tail        openChunk     // the open change chunk, uncommitted appends included
	tailClosed  []ChangeChunk // chunks closed by appends not yet committed
	replayFloor lsn.LogOffset // durable commit when the Writer took the shape over
	blocked     string
}

// NewWriter starts a writer from the durable state. Batches of any earlier
// writer are rejected from the first batch of this one on.
func (s *Store) NewWriter() *Writer {
	s.state.RLock()
	defer s.state.RUnlock()
	return &Writer{
		s:         s,
		threshold: s.opts.ChunkBytesThreshold,
		gen:       s.gen,
		nextSeq:   s.syncedSeq,
		cursors:   map[uint64]*cursor{},
		acked:     lsn.LSN(s.acked.Load()),
	}
}

func (w *Writer) cursor(id uint64) (*cursor, error) {
	c, ok := w.cursors[id]
	if !ok {
		if id == 0 {
			return nil, ErrInvalidShapeID
		}
		c = &cursor{meta: newShapeMeta()}
		// The view cannot change under us: only this writer's batches
		// publish it, and a batch of any other writer makes ours stale.
		if v, ok := w.s.View(id); ok {
			c.meta = v.meta
		}
		c.last, c.tail, c.replayFloor = c.meta.Committed, c.meta.Open, c.meta.Committed
		w.cursors[id] = c
	}
	if c.blocked == "" {
		c.blocked = w.s.blockedReason(id)
	}
	if c.blocked != "" {
		return nil, fmt.Errorf("shape %d: %w (%s)", id, ErrShapeBlocked, c.blocked)
	}
	return c, nil
}

// NewBatch seals the batch returned before (if any) and opens the next one.
func (w *Writer) NewBatch() *Batch {
	if w.open != nil {
		w.open.Seal()
	}
	b := &Batch{w: w, gen: w.gen, seq: w.nextSeq, shapes: map[uint64]*batchShape{}}
	w.nextSeq++
	w.open = b
	return b
}
