package api

import (
	"testing"

	"github.com/shapesync/shapesync/replication/lsn"
	"pgregory.net/rapid"
)

func off(tx, op uint64) lsn.LogOffset { return lsn.LogOffset{Tx: tx, Op: op} }

func noBoundary(after, limit lsn.LogOffset) (lsn.LogOffset, bool) { return lsn.LogOffset{}, false }

func TestPlanReadChunkEnds(t *testing.T) {
	t.Parallel()
	done3 := Extent{SnapshotChunks: 3, SnapshotDone: true, End: lsn.SnapshotEnd}
	withChanges := Extent{SnapshotChunks: 1, SnapshotDone: true, End: off(500, 4)}
	boundaryAt := func(b lsn.LogOffset) boundaryFunc {
		return func(after, limit lsn.LogOffset) (lsn.LogOffset, bool) {
			if after.Less(b) && !limit.Less(b) {
				return b, true
			}
			return lsn.LogOffset{}, false
		}
	}
	cases := []struct {
		name     string
		req      lsn.LogOffset
		ext      Extent
		bound    boundaryFunc
		kind     planKind
		ce       lsn.LogOffset
		upToDate bool
	}{
		{"-1 is chunk 0, never up-to-date", lsn.BeforeAll, Extent{SnapshotChunks: 1, SnapshotDone: true, End: lsn.SnapshotEnd}, noBoundary, planServe, off(0, 0), false},
		{"0_0 of a one-chunk snapshot reaches the end", off(0, 0), Extent{SnapshotChunks: 1, SnapshotDone: true, End: lsn.SnapshotEnd}, noBoundary, planServe, lsn.SnapshotEnd, true},
		{"0_0 before the last chunk", off(0, 0), done3, noBoundary, planServe, off(0, 1), false},
		{"0_1 before the last chunk", off(0, 1), done3, noBoundary, planServe, off(0, 2), false},
		{"last chunk goes to the end", off(0, 2), done3, noBoundary, planServe, lsn.SnapshotEnd, true},
		{"0_inf at end", lsn.SnapshotEnd, done3, noBoundary, planServe, lsn.SnapshotEnd, true},
		{"open change chunk", lsn.SnapshotEnd, withChanges, noBoundary, planServe, off(500, 4), true},
		{"closed change chunk first", lsn.SnapshotEnd, withChanges, boundaryAt(off(300, 2)), planServe, off(300, 2), false},
		{"after the closed chunk", off(300, 2), withChanges, boundaryAt(off(300, 2)), planServe, off(500, 4), true},
		{"out of contract boundary ignored", lsn.SnapshotEnd, withChanges, boundaryAt(off(900, 0)), planServe, off(500, 4), true},
		{"beyond end", off(501, 0), withChanges, noBoundary, planOutOfBounds, lsn.LogOffset{}, false},
		{"snapshot running: chunk 0 not closed", lsn.BeforeAll, Extent{}, noBoundary, planNotReady, lsn.LogOffset{}, false},
		{"snapshot running: chunk 0 closed", lsn.BeforeAll, Extent{SnapshotChunks: 1}, noBoundary, planServe, off(0, 0), false},
		{"snapshot running: next chunk not closed", off(0, 0), Extent{SnapshotChunks: 1}, noBoundary, planNotReady, lsn.LogOffset{}, false},
		{"snapshot running: next chunk closed, not up-to-date", off(0, 0), Extent{SnapshotChunks: 2}, noBoundary, planServe, off(0, 1), false},
		{"snapshot running: 0_inf waits", lsn.SnapshotEnd, Extent{SnapshotChunks: 2}, noBoundary, planNotReady, lsn.LogOffset{}, false},
		{"snapshot running: change offset out of bounds", off(7, 0), Extent{SnapshotChunks: 2}, noBoundary, planOutOfBounds, lsn.LogOffset{}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			p := planRead(c.req, c.ext, c.bound)
			if p.kind != c.kind || (p.kind == planServe && (p.ce != c.ce || p.upToDate != c.upToDate)) {
				t.Fatalf("planRead(%v) = %+v; want kind %d ce %v upToDate %v", c.req, p, c.kind, c.ce, c.upToDate)
			}
		})
	}
}

// Properties of planRead for arbitrary extents and offsets: a served range
// moves forward and stays within durable data, and up-to-date is claimed
// only when the range reaches the end of a complete log.
func TestPlanReadProperties(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(t *rapid.T) {
		chunks := rapid.Uint64Range(0, 5).Draw(t, "chunks")
		done := chunks > 0 && rapid.Bool().Draw(t, "done")
		ext := Extent{SnapshotChunks: chunks, SnapshotDone: done, End: lsn.SnapshotEnd}
		var bounds []lsn.LogOffset
		if done {
			n := rapid.IntRange(0, 4).Draw(t, "changes")
			tx := uint64(100)
			for i := 0; i < n; i++ {
				tx += rapid.Uint64Range(1, 50).Draw(t, "gap")
				ext.End = off(tx, 2*rapid.Uint64Range(0, 3).Draw(t, "op"))
				if rapid.Bool().Draw(t, "boundary") && i < n-1 {
					bounds = append(bounds, ext.End)
				}
			}
		}
		bf := func(after, limit lsn.LogOffset) (lsn.LogOffset, bool) {
			for _, b := range bounds {
				if after.Less(b) && !limit.Less(b) {
					return b, true
				}
			}
			return lsn.LogOffset{}, false
		}
		var req lsn.LogOffset
		switch rapid.IntRange(0, 3).Draw(t, "reqKind") {
		case 0:
			req = lsn.BeforeAll
		case 1:
			req = off(0, rapid.Uint64Range(0, 6).Draw(t, "n"))
		case 2:
			req = lsn.SnapshotEnd
		default:
			req = off(rapid.Uint64Range(1, 400).Draw(t, "tx"), rapid.Uint64Range(0, 8).Draw(t, "op"))
		}
		p := planRead(req, ext, bf)
		switch p.kind {
		case planServe:
			if !req.Less(p.ce) && !(p.ce == req && p.upToDate) {
				t.Fatalf("served range (%v, %v] does not move forward", req, p.ce)
			}
			if done && ext.End.Less(p.ce) {
				t.Fatalf("ce %v beyond end %v", p.ce, ext.End)
			}
			if !done && p.ce.Op >= chunks {
				t.Fatalf("ce %v is an unclosed snapshot chunk (closed: %d)", p.ce, chunks)
			}
			if p.upToDate && (!done || req.Before || p.ce != lsn.Max(ext.End, req)) {
				t.Fatalf("up-to-date claimed for (%v, %v] with %+v", req, p.ce, ext)
			}
			if done && !req.Before && p.ce == ext.End && !p.upToDate {
				t.Fatalf("range reaching the end %v not up-to-date", ext.End)
			}
		case planOutOfBounds:
			if req.IsSnapshot() && done || req.Before {
				t.Fatalf("%v wrongly out of bounds for %+v", req, ext)
			}
		}
	})
}
