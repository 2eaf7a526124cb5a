package storage

import (
	"testing"

	"github.com/shapesync/shapesync/replication/lsn"
)

func testView(done bool, snapChunks int, committed lsn.LogOffset, changeEnds ...lsn.LogOffset) *ShapeView {
	v := &ShapeView{id: 1, meta: newShapeMeta()}
	for i := 0; i < snapChunks; i++ {
		v.snap = append(v.snap, SnapshotChunk{N: uint64(i), FirstRow: uint64(i), Rows: 1})
	}
	v.meta.Snap.Done = done
	v.meta.Committed = committed
	start := lsn.SnapshotEnd
	for _, e := range changeEnds {
		v.changes = append(v.changes, ChangeChunk{Start: start, End: e})
		start = e
	}
	return v
}

func TestChunkEndEveryRegion(t *testing.T) {
	t.Parallel()
	inf := lsn.SnapshotEnd
	cases := []struct {
		name string
		view *ShapeView
		req  lsn.LogOffset
		want lsn.LogOffset
		end  lsn.LogOffset
	}{
		{"-1 is always snapshot chunk 0", testView(true, 3, inf), lsn.BeforeAll, off(0, 0), inf},
		{"-1 while nothing is written", testView(false, 0, inf), lsn.BeforeAll, off(0, 0), lsn.BeforeAll},
		{"0_n below the last chunk", testView(true, 3, inf), off(0, 0), off(0, 1), inf},
		{"0_n just below the last chunk", testView(true, 3, inf), off(0, 1), off(0, 2), inf},
		{"0_n while the snapshot is written", testView(false, 1, inf), off(0, 0), off(0, 1), off(0, 0)},
		{"0_n past the written chunks", testView(false, 1, inf), off(0, 4), off(0, 5), off(0, 0)},
		{"last snapshot chunk, no changes: 0_inf", testView(true, 1, inf), off(0, 0), inf, inf},
		{"0_inf, no changes", testView(true, 1, inf), inf, inf, inf},
		{"last snapshot chunk, changes in the open chunk", testView(true, 2, off(100, 4)), off(0, 1), off(100, 4), off(100, 4)},
		{"0_inf, first change chunk closed", testView(true, 1, off(300, 0), off(100, 2), off(200, 0)), inf, off(100, 2), off(300, 0)},
		{"inside the first closed chunk", testView(true, 1, off(300, 0), off(100, 2), off(200, 0)), off(100, 0), off(100, 2), off(300, 0)},
		{"at a chunk end: the next chunk", testView(true, 1, off(300, 0), off(100, 2), off(200, 0)), off(100, 2), off(200, 0), off(300, 0)},
		{"after the last closed chunk: committed", testView(true, 1, off(300, 0), off(100, 2), off(200, 0)), off(200, 0), off(300, 0), off(300, 0)},
		{"at the end: the end", testView(true, 1, off(300, 0), off(100, 2), off(200, 0)), off(300, 0), off(300, 0), off(300, 0)},
		{"past the last snapshot chunk number", testView(true, 2, off(50, 0)), off(0, 7), off(50, 0), off(50, 0)},
		{"a closed chunk ending at the commit", testView(true, 1, off(100, 2), off(100, 2)), inf, off(100, 2), off(100, 2)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := c.view.ChunkEnd(c.req); got != c.want {
				t.Errorf("ChunkEnd(%s) = %s, want %s", c.req, got, c.want)
			}
			if got := c.view.End(); got != c.end {
				t.Errorf("End() = %s, want %s", got, c.end)
			}
		})
	}
}
