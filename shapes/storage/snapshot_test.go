package storage

import (
	"errors"
	"testing"

	"github.com/shapesync/shapesync/replication/lsn"
)

// TestWalkThrough replays the SHAPE_API §8 walk-through: a table with one
// small row, then one insert committing at LSN 23847562.
func TestWalkThrough(t *testing.T) {
	t.Parallel()
	s, _ := newTestStore(t, Options{})
	w := s.NewWriter()
	b := w.NewBatch()
	row := []byte(`{"key":"\"public\".\"t\"/\"1\"","value":{"id":"1"},"headers":{"operation":"insert"}}`)
	must(t, b.AppendSnapshotRow(1, row))
	must(t, b.EndSnapshot(1, snapshotEnd))
	res := mustSync(t, s, b)
	if len(res.Shapes) != 1 || !res.Shapes[0].SnapshotDone || res.Shapes[0].End != lsn.SnapshotEnd {
		t.Fatalf("result = %+v, want a done snapshot ending at 0_inf", res.Shapes)
	}
	v, _ := s.View(1)

	// 1: offset=-1 → [row, snapshot-end], electric-offset 0_0.
	if ce := v.ChunkEnd(lsn.BeforeAll); ce != off(0, 0) {
		t.Fatalf("request 1: chunk end %s, want 0_0", ce)
	}
	if got := readRange(t, s, 1, lsn.BeforeAll, off(0, 0)); !equalItems(got, [][]byte{row, snapshotEnd}) {
		t.Fatalf("request 1: body %q", got)
	}
	// 2: offset=0_0 → [] (then up-to-date), electric-offset 0_inf.
	if ce := v.ChunkEnd(off(0, 0)); ce != lsn.SnapshotEnd || v.End() != lsn.SnapshotEnd {
		t.Fatalf("request 2: chunk end %s, end %s; want 0_inf, 0_inf", ce, v.End())
	}
	if got := readRange(t, s, 1, off(0, 0), lsn.SnapshotEnd); len(got) != 0 {
		t.Fatalf("request 2: body %q, want nothing", got)
	}
	// 3: offset=0_inf live: nothing until a change.
	if ce := v.ChunkEnd(lsn.SnapshotEnd); ce != lsn.SnapshotEnd {
		t.Fatalf("request 3: chunk end %s, want 0_inf", ce)
	}
	// 4: an insert commits at 23847562.
	ins := []byte(`{"key":"\"public\".\"t\"/\"2\"","headers":{"operation":"insert","lsn":"23847562","op_position":0,"last":true}}`)
	b = w.NewBatch()
	must(t, b.AppendChange(1, off(23847562, 0), ins))
	must(t, b.Commit(1, off(23847562, 0)))
	mustSync(t, s, b)
	v, _ = s.View(1)
	if ce := v.ChunkEnd(lsn.SnapshotEnd); ce != off(23847562, 0) {
		t.Fatalf("request 4: chunk end %s, want 23847562_0", ce)
	}
	if got := readRange(t, s, 1, lsn.SnapshotEnd, off(23847562, 0)); !equalItems(got, [][]byte{ins}) {
		t.Fatalf("request 4: body %q", got)
	}
	// 5: from 23847562_0 there is nothing more.
	if ce := v.ChunkEnd(off(23847562, 0)); ce != off(23847562, 0) {
		t.Fatalf("request 5: chunk end %s, want 23847562_0", ce)
	}
}

func TestEmptySnapshotIsOneChunkWithSnapshotEnd(t *testing.T) {
	t.Parallel()
	s, _ := newTestStore(t, Options{})
	b := s.NewWriter().NewBatch()
	must(t, b.EndSnapshot(4, snapshotEnd))
	mustSync(t, s, b)
	v, _ := s.View(4)
	if v.SnapshotChunks() != 1 || !v.SnapshotDone() || v.End() != lsn.SnapshotEnd {
		t.Fatalf("view: %d chunks, done %v, end %s; want 1, true, 0_inf", v.SnapshotChunks(), v.SnapshotDone(), v.End())
	}
	if got := readRange(t, s, 4, lsn.BeforeAll, v.ChunkEnd(lsn.BeforeAll)); !equalItems(got, [][]byte{snapshotEnd}) {
		t.Fatalf("chunk 0 = %q, want only snapshot-end", got)
	}
	if c, _ := v.SnapshotChunk(0); c.Rows != 1 || c.Bytes != 0 {
		t.Fatalf("chunk 0 index = %+v, want 1 row and no counted bytes", c)
	}
}

// TestSnapshotChunkExactBoundary: a chunk ends after the row whose len+1
// makes the running total reach the threshold, not one row later or earlier.
func TestSnapshotChunkExactBoundary(t *testing.T) {
	t.Parallel()
	s, _ := newTestStore(t, Options{ChunkBytesThreshold: 100})
	b := s.NewWriter().NewBatch()
	rows := [][]byte{item("a", 49), item("b", 49), item("c", 48), item("d", 50), item("e", 20)}
	// totals: 50, 100 (reaches: chunk 0 = a,b) | 49, 100 (chunk 1 = c,d) | 21 → chunk 2 = e + end.
	for _, r := range rows {
		must(t, b.AppendSnapshotRow(2, r))
	}
	must(t, b.EndSnapshot(2, snapshotEnd))
	res := mustSync(t, s, b)
	want := []SnapshotChunk{{0, 0, 2, 100}, {1, 2, 2, 100}, {2, 4, 2, 21}}
	if got := res.Shapes[0].NewSnapshotChunks; len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Fatalf("chunks = %+v, want %+v", got, want)
	}
	rs := walk(t, s, 2)
	if len(rs) < 3 || !equalItems(rs[0].body, rows[:2]) || !equalItems(rs[1].body, rows[2:4]) ||
		!equalItems(rs[2].body, [][]byte{rows[4], snapshotEnd}) {
		t.Fatalf("responses = %+v", rs)
	}
	if rs[0].end != off(0, 0) || rs[1].end != off(0, 1) || rs[2].end != off(0, 2) {
		t.Fatalf("chunk ends %s %s %s, want 0_0 0_1 0_2", rs[0].end, rs[1].end, rs[2].end)
	}
}

// TestSnapshotEndAfterAClosingRow: when the last row closes its chunk,
// snapshot-end is alone in the next chunk.
func TestSnapshotEndAfterAClosingRow(t *testing.T) {
	t.Parallel()
	s, _ := newTestStore(t, Options{ChunkBytesThreshold: 50})
	b := s.NewWriter().NewBatch()
	r := item("a", 49)
	must(t, b.AppendSnapshotRow(3, r))
	must(t, b.EndSnapshot(3, snapshotEnd))
	mustSync(t, s, b)
	v, _ := s.View(3)
	if v.SnapshotChunks() != 2 {
		t.Fatalf("%d chunks, want 2", v.SnapshotChunks())
	}
	if got := readRange(t, s, 3, lsn.BeforeAll, off(0, 0)); !equalItems(got, [][]byte{r}) {
		t.Fatalf("chunk 0 = %q", got)
	}
	if got := readRange(t, s, 3, off(0, 0), off(0, 1)); !equalItems(got, [][]byte{snapshotEnd}) {
		t.Fatalf("chunk 1 = %q", got)
	}
}

// TestSnapshotChunksReadableWhileWritten: closed chunks are served before
// the snapshot ends; the open one is not.
func TestSnapshotChunksReadableWhileWritten(t *testing.T) {
	t.Parallel()
	s, _ := newTestStore(t, Options{ChunkBytesThreshold: 30})
	w := s.NewWriter()
	b := w.NewBatch()
	must(t, b.AppendSnapshotRow(1, item("a", 29))) // closes chunk 0
	must(t, b.AppendSnapshotRow(1, item("b", 16))) // chunk 1, open
	mustSync(t, s, b)
	v, _ := s.View(1)
	if v.SnapshotDone() || v.SnapshotChunks() != 1 || v.End() != off(0, 0) {
		t.Fatalf("view: done %v, %d chunks, end %s", v.SnapshotDone(), v.SnapshotChunks(), v.End())
	}
	if ce := v.ChunkEnd(off(0, 0)); ce != off(0, 1) {
		t.Fatalf("ChunkEnd(0_0) = %s while writing, want 0_1 (the caller waits)", ce)
	}
	if err := s.Read(1, off(0, 0), off(0, 1), func([]byte) error { return nil }); !errors.Is(err, ErrBeyondEnd) {
		t.Fatalf("reading the open chunk: %v, want ErrBeyondEnd", err)
	}
	b = w.NewBatch()
	must(t, b.EndSnapshot(1, snapshotEnd))
	mustSync(t, s, b)
	if got := readRange(t, s, 1, off(0, 0), off(0, 1)); !equalItems(got, [][]byte{item("b", 16), snapshotEnd}) {
		t.Fatalf("chunk 1 = %q", got)
	}
}
