package storage

import (
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/dgraph-io/badger/v4"

	"github.com/shapesync/shapesync/replication/lsn"
)

// feed appends transactions tx = first…last (3 items each, op 0, 2, 4) and
// commits each; sizes vary so chunks close at varying places.
func feed(t *testing.T, b *Batch, id, first, last uint64) {
	t.Helper()
	for tx := first; tx <= last; tx++ {
		for op := uint64(0); op <= 4; op += 2 {
			must(t, b.AppendChange(id, off(tx, op), item(fmt.Sprintf("%d_%d", tx, op), 20+int((tx*7+op)%23))))
		}
		must(t, b.Commit(id, off(tx, 4)))
	}
}

func snapshotRows(t *testing.T, b *Batch, id uint64, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		must(t, b.AppendSnapshotRow(id, item(fmt.Sprintf("row%d", i), 20+i%17)))
	}
	must(t, b.EndSnapshot(id, snapshotEnd))
}

func viewState(v *ShapeView) any {
	return struct {
		M shapeMeta
		S []SnapshotChunk
		C []ChangeChunk
	}{v.meta, v.snap, v.changes}
}

// TestReopenResumesExactly: after close and reopen the views are identical,
// and writing on produces exactly the chunks of a store that never stopped.
func TestReopenResumesExactly(t *testing.T) {
	t.Parallel()
	opts := Options{ChunkBytesThreshold: 200}
	s, dir := newTestStore(t, opts)
	ref, _ := newTestStore(t, opts) // never restarted
	write := func(s *Store, w *Writer, first, last uint64) {
		b := w.NewBatch()
		if first == 1 {
			snapshotRows(t, b, 1, 25)
			snapshotRows(t, b, 2, 3)
		}
		feed(t, b, 1, first, last)
		feed(t, b, 2, first*10, last*10)
		mustSync(t, s, b)
	}
	write(s, s.NewWriter(), 1, 7)
	refW := ref.NewWriter()
	write(ref, refW, 1, 7)
	before := map[uint64]any{}
	for _, id := range []uint64{1, 2} {
		v, _ := s.View(id)
		before[id] = viewState(v)
	}
	s = reopen(t, s, dir, opts)
	t.Cleanup(func() { s.Close() })
	for _, id := range []uint64{1, 2} {
		v, ok := s.View(id)
		if !ok || !reflect.DeepEqual(viewState(v), before[id]) {
			t.Fatalf("shape %d after reopen:\n%+v\nbefore:\n%+v", id, viewState(v), before[id])
		}
	}
	write(s, s.NewWriter(), 8, 15)
	write(ref, refW, 8, 15)
	for _, id := range []uint64{1, 2} {
		v, _ := s.View(id)
		rv, _ := ref.View(id)
		if !reflect.DeepEqual(viewState(v), viewState(rv)) {
			t.Fatalf("shape %d resumed differently:\n%+v\nnever restarted:\n%+v", id, viewState(v), viewState(rv))
		}
		if len(rv.changes) < 3 {
			t.Fatalf("shape %d: only %d change chunks, the test needs several", id, len(rv.changes))
		}
		if !equalItems(flatten(walk(t, s, id)), flatten(walk(t, ref, id))) {
			t.Fatalf("shape %d: logs differ", id)
		}
	}
}

// TestReplayOfSyncedBatchIsAccepted: after a restart, the pipeline replays
// from the acked LSN; appends and commits at or below the durable commit are
// accepted, not rewritten, and change nothing.
func TestReplayOfSyncedBatchIsAccepted(t *testing.T) {
	t.Parallel()
	opts := Options{ChunkBytesThreshold: 150}
	s, dir := newTestStore(t, opts)
	b := s.NewWriter().NewBatch()
	snapshotRows(t, b, 1, 4)
	feed(t, b, 1, 100, 105)
	mustSync(t, s, b)
	keysBefore := allKeys(t, s)
	v, _ := s.View(1)
	viewBefore := viewState(v)

	s = reopen(t, s, dir, opts)
	t.Cleanup(func() { s.Close() })
	b = s.NewWriter().NewBatch()
	feed(t, b, 1, 102, 105) // the replay window
	res := mustSync(t, s, b)
	if len(res.Rejected) != 0 || res.Items != 0 {
		t.Fatalf("replay: rejected %v, wrote %d items; want none", res.Rejected, res.Items)
	}
	if v, _ := s.View(1); !reflect.DeepEqual(viewState(v), viewBefore) {
		t.Fatalf("replay changed the view")
	}
	if !reflect.DeepEqual(allKeys(t, s), keysBefore) {
		t.Fatalf("replay changed stored keys")
	}
	// New data continues after the replay.
	b = s.NewWriter().NewBatch()
	feed(t, b, 1, 103, 106)
	res = mustSync(t, s, b)
	if len(res.Rejected) != 0 || res.Items != 3 || res.Shapes[0].Committed != off(106, 4) {
		t.Fatalf("replay then new data: %+v", res)
	}
}

// TestNonIdenticalAppendIsRejected covers both cases: below the last offset
// within one writer (an error at once), and a replay whose bytes differ
// from the durable log (rejected at sync; the shape is blocked).
func TestNonIdenticalAppendIsRejected(t *testing.T) {
	t.Parallel()
	s, dir := newTestStore(t, Options{})
	w := s.NewWriter()
	b := w.NewBatch()
	snapshotRows(t, b, 1, 1)
	snapshotRows(t, b, 2, 1)
	feed(t, b, 1, 10, 11)
	feed(t, b, 2, 10, 11)
	if err := b.AppendChange(1, off(11, 4), item("other", 30)); !errors.Is(err, ErrOffsetNotIncreasing) {
		t.Fatalf("append at the last offset: %v", err)
	}
	if err := b.AppendChange(1, off(10, 2), item("other", 30)); !errors.Is(err, ErrOffsetNotIncreasing) {
		t.Fatalf("append below the last offset: %v", err)
	}
	mustSync(t, s, b)
	want := flatten(walk(t, s, 1))

	s = reopen(t, s, dir, Options{})
	t.Cleanup(func() { s.Close() })
	w = s.NewWriter()
	b = w.NewBatch()
	must(t, b.AppendChange(1, off(10, 2), item("different", 30))) // decided at sync
	must(t, b.AppendChange(1, off(11, 6), item("new", 30)))
	must(t, b.Commit(1, off(11, 6)))
	must(t, b.AppendChange(2, off(12, 0), item("fine", 30)))
	must(t, b.Commit(2, off(12, 0)))
	must(t, b.AppendChange(2, off(10, 0), item("10_0", 20+int((10*7+0)%23)))) // identical replay
	res := mustSync(t, s, b)
	if len(res.Rejected) != 1 || res.Rejected[0].ShapeID != 1 || res.Rejected[0].Offset != off(10, 2) {
		t.Fatalf("rejected = %+v, want shape 1 at 10_2", res.Rejected)
	}
	if len(res.Shapes) != 1 || res.Shapes[0].ID != 2 || res.Shapes[0].Committed != off(12, 0) {
		t.Fatalf("shapes = %+v, want only shape 2 advanced", res.Shapes)
	}
	if _, ok := s.View(1); ok {
		t.Fatalf("a shape whose replay diverged must lose its view")
	}
	if err := w.NewBatch().AppendChange(1, off(13, 0), item("x", 20)); !errors.Is(err, ErrShapeBlocked) {
		t.Fatalf("the next append to the rejected shape: %v, want ErrShapeBlocked", err)
	}
	// The stored log of shape 1 was not touched.
	if err := s.db.View(func(txn *badger.Txn) error {
		got, err := readItem(txn, appendChangeKey(nil, 1, off(10, 2)))
		if err != nil || string(got) != string(want[len(want)-5]) {
			return fmt.Errorf("stored 10_2 = %q, %v", got, err)
		}
		_, err = txn.Get(appendChangeKey(nil, 1, off(11, 6)))
		if !errors.Is(err, badger.ErrKeyNotFound) {
			return fmt.Errorf("11_6 of a rejected batch was written: %v", err)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// TestTornTailIsInvisibleAndReplayed: appends synced past the last commit
// (a transaction in flight) are not served, and after a restart the writer
// resumes at the commit, so the replayed transaction is written again.
func TestTornTailIsInvisibleAndReplayed(t *testing.T) {
	t.Parallel()
	opts := Options{ChunkBytesThreshold: 60}
	s, dir := newTestStore(t, opts)
	b := s.NewWriter().NewBatch()
	snapshotRows(t, b, 1, 0)
	feed(t, b, 1, 5, 5)
	must(t, b.AppendChange(1, off(6, 0), item("6_0", 50))) // closes a chunk inside tx 6
	must(t, b.AppendChange(1, off(6, 2), item("6_2", 50)))
	mustSync(t, s, b)
	s = reopen(t, s, dir, opts)
	t.Cleanup(func() { s.Close() })
	v, _ := s.View(1)
	if v.End() != off(5, 4) {
		t.Fatalf("end after reopen %s, want 5_4", v.End())
	}
	b = s.NewWriter().NewBatch()
	must(t, b.AppendChange(1, off(6, 0), item("6_0", 50)))
	must(t, b.AppendChange(1, off(6, 2), item("6_2", 50)))
	must(t, b.AppendChange(1, off(6, 4), item("6_4", 50)))
	must(t, b.Commit(1, off(6, 4)))
	res := mustSync(t, s, b)
	if len(res.Rejected) != 0 || res.Shapes[0].Committed != off(6, 4) {
		t.Fatalf("replay of the torn transaction: %+v", res)
	}
	got := flatten(walk(t, s, 1))
	if len(got) != 1+3+3 || string(got[len(got)-1]) != string(item("6_4", 50)) {
		t.Fatalf("log = %q", got)
	}
}

// TestLoadAllReportsDamagedShapes: metadata contradicting the chunk index
// blocks that shape alone (D3).
func TestLoadAllReportsDamagedShapes(t *testing.T) {
	t.Parallel()
	opts := Options{ChunkBytesThreshold: 100}
	s, dir := newTestStore(t, opts)
	b := s.NewWriter().NewBatch()
	for id := uint64(1); id <= 3; id++ {
		snapshotRows(t, b, id, 10)
		feed(t, b, id, 10, 15)
	}
	mustSync(t, s, b)
	must(t, s.db.Update(func(txn *badger.Txn) error {
		if err := txn.Delete(snapshotChunkKey(1, 1)); err != nil {
			return err
		}
		return txn.Set(idKey(prefixShapeMeta, 2), []byte{valueVersion, 9})
	}))
	must(t, s.Close())
	s, err := Open(dir, opts)
	must(t, err)
	t.Cleanup(func() { s.Close() })
	rep, err := s.LoadAll()
	must(t, err)
	if rep.Shapes != 1 || len(rep.Damaged) != 2 || rep.Damaged[0].ShapeID != 1 || rep.Damaged[1].ShapeID != 2 {
		t.Fatalf("report = %+v, want shapes 1 and 2 damaged, 3 loaded", rep)
	}
	if _, ok := s.View(3); !ok {
		t.Fatalf("the healthy shape has no view")
	}
	if err := s.NewWriter().NewBatch().AppendChange(1, off(20, 0), item("x", 20)); !errors.Is(err, ErrShapeBlocked) {
		t.Fatalf("append to a damaged shape: %v", err)
	}
	if id := s.AllocateShapeID(); id != 4 {
		t.Fatalf("AllocateShapeID = %d, want 4 (above every stored id)", id)
	}
	_ = lsn.SnapshotEnd
}
