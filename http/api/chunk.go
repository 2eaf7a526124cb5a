package api

import "github.com/shapesync/shapesync/replication/lsn"

// readPlan is what the serving algorithm (SHAPE_API §9.1 steps 3–5) decides
// for a requested offset against one reading of the log's extent.
type readPlan struct {
	kind     planKind
	ce       lsn.LogOffset // chunk end: serve entries in (req, ce]
	upToDate bool          // the response ends with up-to-date
}

type planKind int

const (
	// planServe: (req, ce] is durable and can be read now.
	planServe planKind = iota
	// planNotReady: the snapshot chunk the request needs is still being
	// written; wait for it rather than return it incomplete (§8).
	planNotReady
	// planOutOfBounds: req lies beyond the end of the log (§9.4).
	planOutOfBounds
)

// boundaryFunc is Shape.ChunkBoundaryAfter.
type boundaryFunc func(after, limit lsn.LogOffset) (lsn.LogOffset, bool)

// planRead applies §8 "chunk end for a requested offset" and §9.1:
//
//   - -1 → 0_0 (the first response is always snapshot chunk 0);
//   - 0_n before the last snapshot chunk, or while the snapshot is still being
//     written → 0_(n+1);
//   - otherwise → the end of the closed change chunk holding the entries
//     after req, else the shape's end;
//
// and upToDate = ce >= max(end, req) and req != -1, only once the snapshot
// is done.
func planRead(req lsn.LogOffset, ext Extent, boundaryAfter boundaryFunc) readPlan {
	if !ext.SnapshotDone {
		switch {
		case req.Before:
			return snapshotChunk(0, ext)
		case req.IsSnapshot() && req.Op != lsn.OpInf:
			return snapshotChunk(req.Op+1, ext)
		case req.IsSnapshot():
			// 0_inf (e.g. after offset=now) waits for the snapshot to end.
			return readPlan{kind: planNotReady}
		}
		// A change offset while the snapshot is still being written.
		return readPlan{kind: planOutOfBounds}
	}

	end := ext.End
	last := uint64(0) // index of the last snapshot chunk
	if ext.SnapshotChunks > 0 {
		last = ext.SnapshotChunks - 1
	}
	var ce lsn.LogOffset
	switch {
	case req.Before:
		return readPlan{kind: planServe, ce: lsn.LogOffset{Tx: 0, Op: 0}}
	case req.IsSnapshot() && req.Op < last:
		ce = lsn.LogOffset{Tx: 0, Op: req.Op + 1}
	case end.Less(req):
		return readPlan{kind: planOutOfBounds}
	default:
		ce = end
		// A boundary outside (req, end] would break the contract; ignoring
		// it keeps the response within durable data.
		if b, ok := boundaryAfter(req, end); ok && req.Less(b) && !end.Less(b) {
			ce = b
		}
	}
	return readPlan{kind: planServe, ce: ce, upToDate: !ce.Less(lsn.Max(end, req))}
}

// snapshotChunk plans a read of snapshot chunk n while the snapshot is still
// being written: ready once the chunk is closed, never up-to-date.
func snapshotChunk(n uint64, ext Extent) readPlan {
	if n == lsn.OpInf || n >= ext.SnapshotChunks {
		return readPlan{kind: planNotReady}
	}
	return readPlan{kind: planServe, ce: lsn.LogOffset{Tx: 0, Op: n}}
}
