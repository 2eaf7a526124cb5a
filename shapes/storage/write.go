package storage

import (
	"bytes"
	"errors"
	"fmt"
	"slices"

	"github.com/dgraph-io/badger/v4"

	"github.com/shapesync/shapesync/replication/lsn"
)

// Result is what a synced batch made durable. WriteAndSync returns it only
// after db.Sync() has returned, so everything it reports may be served and
// acknowledged (I3).
type Result struct {
	// Acked is the durable S|acked after this sync.
	Acked lsn.LSN
	// Shapes has one entry per shape the batch wrote, in first-touch order.
	Shapes []ShapeResult
	// Rejected lists replayed appends whose bytes differ from the stored
	// item. Their shapes are blocked: nothing of theirs was written, and the
	// caller must invalidate them.
	Rejected []ReplayMismatch
	// Dropped lists shapes whose appends were discarded because the shape is
	// deleted or damaged (see ErrShapeBlocked).
	Dropped []uint64
	// Items and Bytes count the items written.
	Items int
	Bytes int
}

// ShapeResult is one shape's durable state after a sync.
type ShapeResult struct {
	ID uint64
	// End is the view's End(); Committed the last durable commit (0_inf if none).
	End       lsn.LogOffset
	Committed lsn.LogOffset
	// SnapshotDone and SnapshotChunks as in ShapeView.
	SnapshotDone   bool
	SnapshotChunks uint64
	// NewSnapshotChunks and NewChangeChunks are the chunks this batch closed
	// (change chunks: made readable by a commit in this batch).
	NewSnapshotChunks []SnapshotChunk
	NewChangeChunks   []ChangeChunk
}

// ReplayMismatch is a replayed append whose bytes differ from the stored item.
type ReplayMismatch struct {
	ShapeID uint64
	Offset  lsn.LogOffset
	Reason  string
}

func (s *Store) blockedReason(id uint64) string {
	s.state.RLock()
	defer s.state.RUnlock()
	return s.blocked[id]
}

// WriteAndSync writes a sealed batch with one badger WriteBatch, then calls
// db.Sync(); only then does it publish the new views and return the Result.
// Items are written first, then chunk index entries, then M| records, then
// S|acked: badger commits a WriteBatch as a sequence of atomic transactions
// in that order, so a crash that loses the end of a batch never leaves a
// record describing data that is missing. Batches must be written in the
// order their Writer produced them; a failed call may be retried with the
// same batch.
func (s *Store) WriteAndSync(b *Batch) (Result, error) {
	if !b.sealed {
		return Result{}, ErrBatchNotSealed
	}
	if err := s.enter(); err != nil {
		return Result{}, err
	}
	defer s.life.RUnlock()
	s.writeMu.Lock()
	defer s.writeMu.Unlock()

	s.state.RLock()
	stale := b.gen != s.gen || b.seq != s.syncedSeq
	skip := map[uint64]bool{}
	for _, id := range b.order {
		if s.blocked[id] != "" {
			skip[id] = true
		}
	}
	for _, r := range b.verify {
		if s.blocked[r.shape] != "" {
			skip[r.shape] = true
		}
	}
	s.state.RUnlock()
	if stale {
		return Result{}, fmt.Errorf("write batch %d/%d: %w", b.gen, b.seq, ErrStaleBatch)
	}
	var dropped []uint64
	for id := range skip {
		dropped = append(dropped, id)
	}
	slices.Sort(dropped)

	rejected, err := s.verifyReplays(b, skip)
	if err != nil {
		return Result{}, err
	}
	if len(rejected) > 0 {
		s.state.Lock()
		for _, r := range rejected {
			if !skip[r.ShapeID] {
				s.blocked[r.ShapeID] = fmt.Sprintf("replay at %s differs from the stored log: %s", r.Offset, r.Reason)
				s.views.Delete(r.ShapeID)
			}
			skip[r.ShapeID] = true
		}
		s.state.Unlock()
	}

	res, wrote, err := s.writeBatch(b, skip)
	if err != nil {
		return Result{}, err
	}
	if wrote { // a batch that wrote nothing has nothing to make durable
		if err := s.db.Sync(); err != nil {
			return Result{}, fmt.Errorf("sync shape store: %w (nothing of this batch is acknowledged; "+
				"check free disk space and I/O errors, then retry)", err)
		}
	}
	res.Rejected, res.Dropped = rejected, dropped

	s.state.Lock()
	defer s.state.Unlock()
	for _, id := range b.order {
		if skip[id] {
			continue
		}
		bs := b.shapes[id]
		v := s.nextView(id, bs)
		s.publish(v)
		res.Shapes = append(res.Shapes, ShapeResult{
			ID: id, End: v.End(), Committed: v.meta.Committed,
			SnapshotDone: v.meta.Snap.Done, SnapshotChunks: uint64(len(v.snap)),
			NewSnapshotChunks: bs.newSnap, NewChangeChunks: bs.newChanges,
		})
	}
	if b.hasAck && uint64(b.ack) > s.acked.Load() {
		s.acked.Store(uint64(b.ack))
	}
	res.Acked = lsn.LSN(s.acked.Load())
	s.syncedSeq++
	return res, nil
}

// nextView derives a shape's new view from its current one. The chunk
// slices are extended in place: earlier views keep their shorter length and
// never see the new elements, and only this (serialised) path appends.
func (s *Store) nextView(id uint64, bs *batchShape) *ShapeView {
	v := &ShapeView{id: id, meta: bs.meta}
	if old, ok := s.View(id); ok {
		v.snap, v.changes = old.snap, old.changes
	}
	v.snap = append(v.snap, bs.newSnap...)
	v.changes = append(v.changes, bs.newChanges...)
	return v
}

func (s *Store) writeBatch(b *Batch, skip map[uint64]bool) (res Result, wrote bool, err error) {
	wb := s.db.NewWriteBatch()
	defer wb.Cancel()
	for _, e := range b.data {
		if skip[e.shape] {
			continue
		}
		if err := s.setItem(wb, b.arena[e.kStart:e.kEnd], e.val); err != nil {
			return Result{}, false, s.writeErr(err)
		}
		res.Items++
		res.Bytes += len(e.val)
		wrote = true
	}
	set := func(k, v []byte) error {
		wrote = true
		if err := wb.Set(k, v); err != nil {
			return s.writeErr(err)
		}
		return nil
	}
	for _, id := range b.order {
		if skip[id] {
			continue
		}
		bs := b.shapes[id]
		for _, c := range bs.newSnap {
			if err := set(snapshotChunkKey(id, c.N), encodeSnapshotChunk(c)); err != nil {
				return Result{}, false, err
			}
		}
		for _, c := range bs.newChanges {
			if err := set(changeChunkKey(id, c.End), encodeChangeChunk(c)); err != nil {
				return Result{}, false, err
			}
		}
	}
	for _, id := range b.order {
		if !skip[id] && b.shapes[id].metaDirty {
			if err := set(idKey(prefixShapeMeta, id), encodeShapeMeta(b.shapes[id].meta)); err != nil {
				return Result{}, false, err
			}
		}
	}
	if b.hasAck && uint64(b.ack) > s.acked.Load() {
		if err := set([]byte(keyAcked), encodeLSN(b.ack)); err != nil {
			return Result{}, false, err
		}
	}
	if !wrote {
		return res, false, nil
	}
	if err := wb.Flush(); err != nil {
		return Result{}, false, s.writeErr(err)
	}
	return res, true, nil
}

func (s *Store) writeErr(err error) error {
	return fmt.Errorf("write shape store batch: %w (nothing of this batch is acknowledged; "+
		"check free disk space and I/O errors, then retry the batch)", err)
}

// setItem stores one item, splitting it into continuation keys when it is
// longer than MaxValueBytes: the item key then holds a descriptor and parts
// 1…n hold the bytes.
func (s *Store) setItem(wb *badger.WriteBatch, key, val []byte) error {
	max := s.opts.MaxValueBytes
	if len(val) <= max {
		return wb.Set(key, val)
	}
	parts := (len(val) + max - 1) / max
	if err := wb.Set(key, encodeSplitDescriptor(uint64(len(val)), uint64(parts))); err != nil {
		return err
	}
	for p := 1; p <= parts; p++ {
		lo, hi := (p-1)*max, min(p*max, len(val))
		pk := appendPart(append(make([]byte, 0, len(key)+partSuffixLen), key...), uint64(p))
		if err := wb.Set(pk, val[lo:hi]); err != nil {
			return err
		}
	}
	return nil
}

// verifyReplays compares replayed appends with the stored items.
func (s *Store) verifyReplays(b *Batch, skip map[uint64]bool) ([]ReplayMismatch, error) {
	if len(b.verify) == 0 {
		return nil, nil
	}
	var out []ReplayMismatch
	err := s.db.View(func(txn *badger.Txn) error {
		var key [offsetKeyLen]byte
		for _, r := range b.verify {
			if skip[r.shape] {
				continue
			}
			stored, err := readItem(txn, appendChangeKey(key[:0], r.shape, r.off))
			switch {
			case errors.Is(err, badger.ErrKeyNotFound):
				out = append(out, ReplayMismatch{ShapeID: r.shape, Offset: r.off, Reason: "no item stored at this offset"})
			case err != nil:
				return err
			case !bytes.Equal(stored, r.item):
				out = append(out, ReplayMismatch{ShapeID: r.shape, Offset: r.off,
					Reason: fmt.Sprintf("stored %d bytes, replayed %d bytes that differ", len(stored), len(r.item))})
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("verify replayed items: %w", err)
	}
	return out, nil
}

// readItem reads one whole item (its continuation parts joined) by key.
func readItem(txn *badger.Txn, key []byte) ([]byte, error) {
	it, err := txn.Get(key)
	if err != nil {
		return nil, err
	}
	v, err := it.ValueCopy(nil)
	if err != nil {
		return nil, err
	}
	if len(v) == 0 || v[0] != splitDescriptorTag {
		return v, nil
	}
	total, parts, err := decodeSplitDescriptor(v)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, total)
	for p := uint64(1); p <= parts; p++ {
		pk := appendPart(append([]byte(nil), key...), p)
		pi, err := txn.Get(pk)
		if err != nil {
			return nil, fmt.Errorf("%w: part %d of %q: %v", ErrCorrupt, p, clip(key), err)
		}
		if err := pi.Value(func(v []byte) error { out = append(out, v...); return nil }); err != nil {
			return nil, err
		}
	}
	if uint64(len(out)) != total {
		return nil, fmt.Errorf("%w: split item of %d bytes reassembled to %d", ErrCorrupt, total, len(out))
	}
	return out, nil
}
