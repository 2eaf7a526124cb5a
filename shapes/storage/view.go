package storage

import (
	"sort"

	"github.com/shapesync/shapesync/replication/lsn"
)

// ShapeView is the immutable, durable state of one shape's log, published
// atomically after every sync (ARCHITECTURE §1.1 principle 3). HTTP readers
// take it without locks; nothing in it ever describes data that is not
// synced, and a newer view of a shape never has a smaller End.
type ShapeView struct {
	id      uint64
	meta    shapeMeta       // the durable M| state; Writer resumes from it
	snap    []SnapshotChunk // closed snapshot chunks 0…k
	changes []ChangeChunk   // closed change chunks, ordered, all ending ≤ meta.Committed
}

// ID is the shape id.
func (v *ShapeView) ID() uint64 { return v.id }

// SnapshotDone reports whether the snapshot, snapshot-end included, is durable.
func (v *ShapeView) SnapshotDone() bool { return v.meta.Snap.Done }

// SnapshotChunks is the number of closed, durable snapshot chunks. Once the
// snapshot is done the last one, SnapshotChunks()-1, ends with snapshot-end.
func (v *ShapeView) SnapshotChunks() uint64 { return uint64(len(v.snap)) }

// SnapshotChunk returns the row range of closed snapshot chunk n.
func (v *ShapeView) SnapshotChunk(n uint64) (SnapshotChunk, bool) {
	if n >= uint64(len(v.snap)) {
		return SnapshotChunk{}, false
	}
	return v.snap[n], true
}

// Committed is the offset of the last durable commit of the change region,
// 0_inf while there is none.
func (v *ShapeView) Committed() lsn.LogOffset { return v.meta.Committed }

// ChangeChunks returns the closed change chunks, ordered by offset. The
// elements are shared and must not be modified; the capacity is clipped, so
// appending to the result copies.
func (v *ShapeView) ChangeChunks() []ChangeChunk { return v.changes[:len(v.changes):len(v.changes)] }

// ConsumerMeta is the opaque consumer state last stored with
// Batch.SetConsumerMeta (nil if none). It must not be modified.
func (v *ShapeView) ConsumerMeta() []byte { return v.meta.Consumer }

// End is the shape's current end offset (SHAPE_API §9): the last commit once
// the snapshot is done (0_inf for a snapshot-only shape); while the snapshot
// is being written, the end of its last closed chunk, or -1 if none is.
func (v *ShapeView) End() lsn.LogOffset {
	if v.meta.Snap.Done {
		return v.meta.Committed
	}
	if len(v.snap) > 0 {
		return lsn.LogOffset{Tx: 0, Op: uint64(len(v.snap)) - 1}
	}
	return lsn.BeforeAll
}

// ChunkEnd is the end of the response for a request at req (SHAPE_API §8
// "chunk end for a requested offset"):
//   - -1 → 0_0, the first response is always snapshot chunk 0;
//   - 0_n with n below the last snapshot chunk, or while the snapshot is still
//     being written → 0_(n+1);
//   - otherwise (0_n at or after the last snapshot chunk, 0_inf, a change
//     offset) → the end of the closed change chunk holding the entries after
//     req, or, when those are in the open chunk, the committed end.
//
// The result can lie beyond End() only in the snapshot region while the
// snapshot is being written: the caller waits for that chunk (§8). A chunk
// that a commit has not covered yet is not closed for readers, so a response
// never ends inside an uncommitted transaction.
func (v *ShapeView) ChunkEnd(req lsn.LogOffset) lsn.LogOffset {
	if req.Before {
		return lsn.LogOffset{Tx: 0, Op: 0}
	}
	if req.Tx == 0 && req.Op != lsn.OpInf {
		if !v.meta.Snap.Done || req.Op+1 < uint64(len(v.snap)) {
			return lsn.LogOffset{Tx: 0, Op: req.Op + 1}
		}
	}
	from := lsn.Max(req, lsn.SnapshotEnd)
	i := sort.Search(len(v.changes), func(i int) bool { return from.Less(v.changes[i].End) })
	if i < len(v.changes) {
		return v.changes[i].End
	}
	return v.meta.Committed
}
