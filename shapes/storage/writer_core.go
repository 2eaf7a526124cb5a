package storage

import (
	"errors"
	"fmt"

	"github.com/shapesync/shapesync/actors"
	"github.com/shapesync/shapesync/replication/lsn"
	"github.com/shapesync/shapesync/shapes/protocol"
)

// outgoing is a message the store-writer actor must send.
type outgoing struct {
	to  *actors.PID
	msg any
}

// pendingSync is one side of the writer's double buffer: a storage batch
// and everything to report once it is durable.
type pendingSync struct {
	batch *Batch
	// flushed is, per shape, the newest commit mark appended in this batch
	// (with or without items): durable once the batch is synced.
	flushed map[protocol.ShapeID]lsn.LSN
	// replies wait for the sync: SnapshotStored, and Accepted/RowsAccepted
	// held back because the pending bytes were over the bound (credit).
	replies []outgoing
	ack     lsn.LSN
	hasAck  bool
}

func newPendingSync(b *Batch) *pendingSync {
	return &pendingSync{batch: b, flushed: map[protocol.ShapeID]lsn.LSN{}}
}

func (p *pendingSync) idle() bool {
	return p.batch.Empty() && len(p.flushed) == 0 && len(p.replies) == 0 && !p.hasAck
}

// synced is what the actor reports after a batch became durable (or, for a
// batch with nothing to write, once every earlier batch did).
type synced struct {
	sends  []outgoing
	shapes []uint64 // shapes whose durable view changed (OnSynced)
}

// writerCore is the store-writer's decision logic, without actors or I/O:
// it fills the open batch from the messages, decides when a reply may be
// sent (credit) and what a finished sync reports. Group commit: while one
// batch syncs, the next one fills; a batch is handed out only when none is
// syncing.
type writerCore struct {
	w          *Writer
	bound      int64
	collector  *actors.PID
	invalidate *actors.PID

	open    *pendingSync
	syncing *pendingSync
	// txnLast is each shape's last offset appended since its last commit:
	// the offset a commit mark commits (storage Commit needs it).
	txnLast map[uint64]lsn.LogOffset
	// broken shapes had an append rejected; their later messages are
	// accepted and dropped so the pipeline never waits for them.
	broken map[uint64]string
	out    []outgoing
}

func newWriterCore(w *Writer, bound int64, collector, invalidate *actors.PID) *writerCore {
	return &writerCore{
		w: w, bound: bound, collector: collector, invalidate: invalidate,
		open:    newPendingSync(w.NewBatch()),
		txnLast: map[uint64]lsn.LogOffset{},
		broken:  map[uint64]string{},
	}
}

// take returns and clears the messages to send now.
func (c *writerCore) take() []outgoing {
	out := c.out
	c.out = nil
	return out
}

// pendingBytes is the item bytes not yet durable (both buffers).
func (c *writerCore) pendingBytes() int64 {
	n := int64(c.open.batch.Bytes())
	if c.syncing != nil {
		n += int64(c.syncing.batch.Bytes())
	}
	return n
}

// reply sends msg now while the pending bytes are under the bound, else
// after the open batch is synced: the sender's next message waits for it,
// which is the credit window.
func (c *writerCore) reply(to *actors.PID, msg any) {
	if to == nil {
		return
	}
	if c.pendingBytes() < c.bound {
		c.out = append(c.out, outgoing{to, msg})
		return
	}
	c.open.replies = append(c.open.replies, outgoing{to, msg})
}

func (c *writerCore) markFlushed(shape protocol.ShapeID, l lsn.LSN) {
	if l > c.open.flushed[shape] {
		c.open.flushed[shape] = l
	}
}

// fail blocks a shape whose append was rejected and reports it.
func (c *writerCore) fail(shape protocol.ShapeID, err error) {
	id := uint64(shape)
	if _, ok := c.broken[id]; ok {
		return
	}
	c.broken[id] = err.Error()
	delete(c.txnLast, id)
	_ = c.open.batch.Rollback(id) // its uncommitted appends stay beyond the committed offset
	// Sent even without a receiver (to == nil): the actor logs it.
	c.out = append(c.out, outgoing{c.invalidate, &protocol.ShapeInvalid{Shape: shape, Reason: "its log rejected a write: " + err.Error()}})
}

// Append adds a consumer's items and commit mark to the open batch.
func (c *writerCore) Append(m *protocol.Append) {
	id := uint64(m.Shape)
	if _, bad := c.broken[id]; !bad {
		for _, it := range m.Items {
			if err := c.open.batch.AppendChange(id, it.Offset, it.JSON); err != nil {
				c.fail(m.Shape, err)
				break
			}
			c.txnLast[id] = it.Offset
		}
	}
	if m.Commit != nil {
		if _, bad := c.broken[id]; !bad {
			if off, ok := c.txnLast[id]; ok {
				if err := c.open.batch.Commit(id, off); err != nil {
					c.fail(m.Shape, err)
				}
				delete(c.txnLast, id)
			}
		}
		// A commit without items for the shape touches no storage, but is
		// reported with this batch, so flushes arrive in commit order. A
		// broken shape's marks are reported too: it must not pin the ack.
		c.markFlushed(m.Shape, m.Commit.LSN)
	}
	c.reply(m.ReplyTo, &protocol.Accepted{Seq: m.Seq, Shape: m.Shape})
}

// Rollback forgets the shape's appends since its last commit.
func (c *writerCore) Rollback(m *protocol.Rollback) {
	id := uint64(m.Shape)
	delete(c.txnLast, id)
	if _, bad := c.broken[id]; !bad {
		if err := c.open.batch.Rollback(id); err != nil {
			c.fail(m.Shape, err)
		}
	}
	c.reply(m.ReplyTo, &protocol.Accepted{Seq: m.Seq, Shape: m.Shape})
}

// ConsumerState stores a consumer's state with the open batch.
func (c *writerCore) ConsumerState(m *protocol.ConsumerState) {
	id := uint64(m.Shape)
	if _, bad := c.broken[id]; bad {
		return
	}
	if err := c.open.batch.SetConsumerMeta(id, m.State); err != nil {
		c.fail(m.Shape, err)
	}
}

// SnapshotRows appends snapshot rows; a rejected row fails the snapshot.
func (c *writerCore) SnapshotRows(m *protocol.SnapshotRows) {
	id := uint64(m.Shape)
	if reason, bad := c.broken[id]; bad {
		c.reply(m.ReplyTo, &protocol.SnapshotFailed{Shape: m.Shape, Err: errors.New(reason)})
		return
	}
	for _, row := range m.Rows {
		if err := c.open.batch.AppendSnapshotRow(id, row); err != nil {
			c.fail(m.Shape, err)
			c.reply(m.ReplyTo, &protocol.SnapshotFailed{Shape: m.Shape, Err: err})
			return
		}
	}
	c.reply(m.ReplyTo, &protocol.RowsAccepted{Shape: m.Shape, Seq: m.Seq})
}

// SnapshotEnd closes the snapshot; SnapshotStored follows its sync.
func (c *writerCore) SnapshotEnd(m *protocol.SnapshotEnd) {
	id := uint64(m.Shape)
	if reason, bad := c.broken[id]; bad {
		c.reply(m.ReplyTo, &protocol.SnapshotFailed{Shape: m.Shape, Err: errors.New(reason)})
		return
	}
	if err := c.open.batch.EndSnapshot(id, m.JSON); err != nil {
		c.fail(m.Shape, err)
		c.reply(m.ReplyTo, &protocol.SnapshotFailed{Shape: m.Shape, Err: err})
		return
	}
	if m.ReplyTo != nil {
		c.open.replies = append(c.open.replies, outgoing{m.ReplyTo, &protocol.SnapshotStored{Shape: m.Shape, Seq: m.Seq}})
	}
}

// PersistAck records S|acked = l with the open batch; it is written after
// every item of the batch and synced with them. A position at or below one
// already requested (a collector that started below the stored ack) is
// answered with the open batch without writing S|acked: the larger value
// is durable once every earlier batch is.
func (c *writerCore) PersistAck(l lsn.LSN) error {
	if err := c.open.batch.PersistAck(l); err != nil && !errors.Is(err, ErrAckRegressed) {
		return err
	}
	if !c.open.hasAck || l > c.open.ack {
		c.open.ack = l
	}
	c.open.hasAck = true
	return nil
}

// StartSync hands out the open batch when none is syncing and it has
// something to do. A batch with nothing to write (only commit marks without
// items, or delayed replies) needs no I/O: with no sync in flight, everything
// appended before it is durable, so it completes at once and its reports are
// returned as done (the storage batch stays open for further appends).
func (c *writerCore) StartSync() (b *Batch, done *synced) {
	if c.syncing != nil || c.open.idle() {
		return nil, nil
	}
	if c.open.batch.Empty() && (!c.open.hasAck || c.open.ack <= c.w.s.Acked()) {
		p := c.open
		c.open = &pendingSync{batch: p.batch, flushed: map[protocol.ShapeID]lsn.LSN{}}
		return nil, c.report(p, Result{})
	}
	c.syncing = c.open
	c.open = newPendingSync(c.w.NewBatch()) // seals the previous batch
	return c.syncing.batch, nil
}

// Synced is called with the Result of the syncing batch: only now are its
// commits reported flushed, its ack persisted and its replies sent (I3).
func (c *writerCore) Synced(res Result) *synced {
	p := c.syncing
	if p == nil {
		return nil
	}
	c.syncing = nil
	for _, r := range res.Rejected {
		c.fail(protocol.ShapeID(r.ShapeID), fmt.Errorf("replay at %s differs from the stored log: %s", r.Offset, r.Reason))
	}
	for _, id := range res.Dropped {
		c.fail(protocol.ShapeID(id), ErrShapeBlocked)
	}
	return c.report(p, res)
}

func (c *writerCore) report(p *pendingSync, res Result) *synced {
	s := &synced{sends: c.take()}
	if len(p.flushed) > 0 && c.collector != nil {
		s.sends = append(s.sends, outgoing{c.collector, &protocol.FlushedBatch{Shapes: p.flushed}})
	}
	if p.hasAck && c.collector != nil {
		s.sends = append(s.sends, outgoing{c.collector, &protocol.AckPersisted{LSN: p.ack}})
	}
	s.sends = append(s.sends, p.replies...)
	for _, sh := range res.Shapes {
		s.shapes = append(s.shapes, sh.ID)
	}
	return s
}

// errStorePurged fails snapshots whose rows were pending when the store was
// purged under the writer.
var errStorePurged = errors.New("storage: the store was purged before the snapshot was synced")

// Reset abandons both buffers after the store was purged (their batches
// are stale) and continues with w. Nothing of them is reported flushed or
// acknowledged; replies held for the sync are sent so no sender waits
// forever — appends were accepted, but a snapshot is reported failed, since
// it can no longer become durable.
func (c *writerCore) Reset(w *Writer) []outgoing {
	out := c.take()
	for _, p := range []*pendingSync{c.syncing, c.open} {
		if p == nil {
			continue
		}
		for _, r := range p.replies {
			if m, ok := r.msg.(*protocol.SnapshotStored); ok {
				r = outgoing{r.to, &protocol.SnapshotFailed{Shape: m.Shape, Err: errStorePurged}}
			}
			out = append(out, r)
		}
	}
	*c = *newWriterCore(w, c.bound, c.collector, c.invalidate)
	return out
}

// Syncing reports whether a batch is being synced.
func (c *writerCore) Syncing() *Batch {
	if c.syncing == nil {
		return nil
	}
	return c.syncing.batch
}
