package storage

import (
	"fmt"

	"github.com/shapesync/shapesync/replication/lsn"
)

// Batch accumulates appends across many shapes for one WriteBatch + Sync.
// Its methods only decide and record (no I/O); Store.WriteAndSync writes it.
// It keeps the item slices it is given (no copy): callers must not modify
// them afterwards. A failed WriteAndSync may be retried with the same batch:
// every key it writes is a function of its content.
type Batch struct {
	w        *Writer
	gen, seq uint64
	sealed   bool
	arena    []byte // the keys of data, back to back
	data     []entry
	verify   []replayItem
	shapes   map[uint64]*batchShape
	order    []uint64 // shapes in first-touch order, for a deterministic write order
	ack      lsn.LSN
	hasAck   bool
	bytes    int
}

type entry struct {
	shape  uint64
	kStart int
	kEnd   int
	val    []byte
}

type replayItem struct {
	shape uint64
	off   lsn.LogOffset
	item  []byte
}

// batchShape is what a batch changes in one shape's index and metadata.
type batchShape struct {
	c          *cursor
	meta       shapeMeta // the cursor's meta, copied by Seal
	metaDirty  bool
	newSnap    []SnapshotChunk
	newChanges []ChangeChunk
}

// Bytes is the total size of the items in the batch (the writer's credit).
func (b *Batch) Bytes() int { return b.bytes }

// Items is the number of items the batch will write.
func (b *Batch) Items() int { return len(b.data) }

// Empty reports whether WriteAndSync would have nothing to do.
func (b *Batch) Empty() bool {
	return len(b.data) == 0 && len(b.verify) == 0 && len(b.order) == 0 && !b.hasAck
}

// Seal freezes the batch, so it can be handed to the I/O goroutine.
// Idempotent; Writer.NewBatch seals the previous batch itself.
func (b *Batch) Seal() {
	if b.sealed {
		return
	}
	for _, id := range b.order {
		b.shapes[id].meta = b.shapes[id].c.meta
	}
	b.sealed = true
}

// cursor returns the shape's writer state. The first use of a shape in a
// batch asks the store whether it was blocked (deleted, damaged, rejected)
// meanwhile, so the actor learns it at its next append.
func (b *Batch) cursor(id uint64) (*cursor, *batchShape, error) {
	if bs, ok := b.shapes[id]; ok {
		return bs.c, bs, nil
	}
	c, err := b.w.cursor(id)
	if err != nil {
		return nil, nil, err
	}
	bs := &batchShape{c: c}
	b.shapes[id] = bs
	b.order = append(b.order, id)
	return c, bs, nil
}

func (b *Batch) addData(id uint64, key []byte, val []byte) {
	start := len(b.arena)
	b.arena = append(b.arena, key...)
	b.data = append(b.data, entry{shape: id, kStart: start, kEnd: len(b.arena), val: val})
	b.bytes += len(val)
}

func (b *Batch) begin(id uint64, item []byte) (*cursor, *batchShape, error) {
	if b.sealed {
		return nil, nil, ErrBatchSealed
	}
	if len(item) == 0 || item[0] == splitDescriptorTag {
		return nil, nil, fmt.Errorf("shape %d: %w", id, ErrInvalidItem)
	}
	return b.cursor(id)
}

// AppendSnapshotRow appends one snapshot row (a JSON message) to the shape's
// current snapshot chunk. When the chunk's running total of len+1 reaches or
// exceeds the threshold, the chunk ends after this row (§8) and becomes
// readable once the batch is synced.
func (b *Batch) AppendSnapshotRow(id uint64, row []byte) error {
	c, bs, err := b.begin(id, row)
	if err != nil {
		return err
	}
	sn := &c.meta.Snap
	if sn.Done {
		return fmt.Errorf("shape %d: %w", id, ErrSnapshotDone)
	}
	var key [snapshotKeyLen]byte
	b.addData(id, appendSnapshotRowKey(key[:0], id, sn.Chunk, sn.NextRow), row)
	sn.NextRow++
	bs.metaDirty = true
	sum, closes := fillChunk(sn.ChunkBytes, entrySize(len(row)), b.w.threshold)
	sn.ChunkBytes = sum
	if closes {
		closeSnapshotChunk(bs, sn)
	}
	return nil
}

// EndSnapshot appends the snapshot-end control message to the current
// chunk without size accounting and closes it: the last line of a snapshot
// is always snapshot-end, and a snapshot of no rows is one chunk holding
// only it. If the last row closed its chunk, snapshot-end opens (and ends)
// a chunk of its own, as in the reference, where the chunk boundary follows
// the row that reached the threshold.
func (b *Batch) EndSnapshot(id uint64, snapshotEnd []byte) error {
	c, bs, err := b.begin(id, snapshotEnd)
	if err != nil {
		return err
	}
	sn := &c.meta.Snap
	if sn.Done {
		return fmt.Errorf("shape %d: %w", id, ErrSnapshotDone)
	}
	var key [snapshotKeyLen]byte
	b.addData(id, appendSnapshotRowKey(key[:0], id, sn.Chunk, sn.NextRow), snapshotEnd)
	sn.NextRow++
	bs.metaDirty = true
	closeSnapshotChunk(bs, sn)
	sn.Done = true
	return nil
}

func closeSnapshotChunk(bs *batchShape, sn *snapCursor) {
	bs.newSnap = append(bs.newSnap, SnapshotChunk{
		N: sn.Chunk, FirstRow: sn.ChunkFirstRow, Rows: sn.NextRow - sn.ChunkFirstRow, Bytes: sn.ChunkBytes,
	})
	sn.Chunk++
	sn.ChunkFirstRow = sn.NextRow
	sn.ChunkBytes = 0
}

// AppendChange appends one log item (one JSON message) at off, a change
// offset (tx = commit LSN > 0). Offsets must increase per shape; see Writer
// for the replay rule. The change region chunks by the same §8 rule per
// message, so a chunk may end inside a transaction; readers see such a chunk
// as closed only once a commit covers its end.
func (b *Batch) AppendChange(id uint64, off lsn.LogOffset, item []byte) error {
	if off.Before || off.Tx == 0 || off.Op == lsn.OpInf {
		return fmt.Errorf("shape %d: append at %s: %w", id, off, ErrInvalidOffset)
	}
	c, _, err := b.begin(id, item)
	if err != nil {
		return err
	}
	if off.Compare(c.replayFloor) <= 0 {
		b.verify = append(b.verify, replayItem{shape: id, off: off, item: item})
		return nil
	}
	if off.Compare(c.last) <= 0 {
		return fmt.Errorf("shape %d: append at %s after %s: %w", id, off, c.last, ErrOffsetNotIncreasing)
	}
	var key [offsetKeyLen]byte
	b.addData(id, appendChangeKey(key[:0], id, off), item)
	c.last = off
	sum, closes := fillChunk(c.tail.Bytes, entrySize(len(item)), b.w.threshold)
	c.tail.Bytes = sum
	c.tail.Items++
	if closes {
		c.tailClosed = append(c.tailClosed, ChangeChunk{Start: c.tail.Start, End: off, Bytes: sum, Items: c.tail.Items})
		c.tail = openChunk{Start: off}
	}
	return nil
}

// Commit marks the end of a transaction at off, the offset of the shape's
// last appended item: once the batch is synced, the shape's committed offset
// is off, and chunks closed by the transaction become readable. A commit at
// or below the shape's committed offset is a replay and does nothing.
func (b *Batch) Commit(id uint64, off lsn.LogOffset) error {
	if b.sealed {
		return ErrBatchSealed
	}
	c, bs, err := b.cursor(id)
	if err != nil {
		return err
	}
	if off.Compare(c.meta.Committed) <= 0 {
		return nil
	}
	if off != c.last {
		return fmt.Errorf("shape %d: commit at %s, last append at %s: %w", id, off, c.last, ErrCommitOffset)
	}
	c.meta.Committed = off
	c.meta.Open = c.tail
	c.meta.ClosedChanges += uint64(len(c.tailClosed))
	bs.metaDirty = true
	bs.newChanges = append(bs.newChanges, c.tailClosed...)
	c.tailClosed = nil
	return nil
}

// Rollback forgets the shape's appends since its last commit, for a
// transaction abandoned half-way (the collector's AbortTxn after a stream
// restart): the transaction is then sent again from its start, at the same
// offsets. Items of it already handed to a batch are still written, but lie
// beyond the committed offset, so no reader sees them, and the re-sent
// transaction overwrites them with the same bytes.
func (b *Batch) Rollback(id uint64) error {
	if b.sealed {
		return ErrBatchSealed
	}
	c, _, err := b.cursor(id)
	if err != nil {
		return err
	}
	c.last, c.tail, c.tailClosed = c.meta.Committed, c.meta.Open, nil
	return nil
}

// SetConsumerMeta stores opaque consumer state (the pg snapshot and whether
// visibility filtering is still on) in the shape's M| record.
func (b *Batch) SetConsumerMeta(id uint64, meta []byte) error {
	if b.sealed {
		return ErrBatchSealed
	}
	c, bs, err := b.cursor(id)
	if err != nil {
		return err
	}
	c.meta.Consumer = append([]byte(nil), meta...)
	bs.metaDirty = true
	return nil
}

// PersistAck records the LSN to store in S|acked. It is written after every
// item of the batch and synced with them, so it never names a position whose
// data is not durable; Result.Acked reports it once synced.
func (b *Batch) PersistAck(l lsn.LSN) error {
	if b.sealed {
		return ErrBatchSealed
	}
	if l < b.w.acked {
		return fmt.Errorf("persist ack %s below %s: %w", l, b.w.acked, ErrAckRegressed)
	}
	b.w.acked = l
	b.ack, b.hasAck = l, true
	return nil
}
