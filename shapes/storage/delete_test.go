package storage

import (
	"context"
	"errors"
	"reflect"
	"testing"
)

// keysOf returns the stored keys (and values) that belong to a shape, by id
// or by handle.
func keysOf(t *testing.T, s *Store, id uint64, handle string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for k, v := range allKeys(t, s) {
		key, err := DecodeKey([]byte(k))
		if err != nil {
			t.Fatalf("stored key %q: %v", k, err)
		}
		switch key.Kind {
		case KeyShape, KeyDefinition:
			if key.Handle == handle {
				out[k] = v
			}
		case KeyStackMeta, KeyAcked, KeyRelations:
		default:
			if key.ShapeID == id {
				out[k] = v
			}
		}
	}
	return out
}

func twoShapes(t *testing.T, s *Store) {
	t.Helper()
	for id, h := range map[uint64]string{1: "a-1", 2: "b-2"} {
		must(t, s.PutShape(ShapeRecord{Handle: h, ID: id, DefinitionHash: h[:1], Definition: []byte("{}")}))
	}
	b := s.NewWriter().NewBatch()
	for id := uint64(1); id <= 2; id++ {
		snapshotRows(t, b, id, 40)
		feed(t, b, id, 10, 40)
		must(t, b.SetConsumerMeta(id, []byte("xmin")))
	}
	must(t, b.PersistAck(77))
	mustSync(t, s, b)
}

func TestDeleteShapeRemovesOnlyItsKeys(t *testing.T) {
	t.Parallel()
	s, dir := newTestStore(t, Options{ChunkBytesThreshold: 300, DeleteBatchKeys: 16})
	twoShapes(t, s)
	aBefore, bBefore := keysOf(t, s, 1, "a-1"), keysOf(t, s, 2, "b-2")
	if len(aBefore) < 100 {
		t.Fatalf("shape 1 has only %d keys", len(aBefore))
	}
	bWalk := flatten(walk(t, s, 2))
	n, err := s.DeleteShape(context.Background(), 1, "test")
	must(t, err)
	if n != len(aBefore)-2 { // H| and D| are removed as records, not counted
		t.Errorf("deleted %d keys, shape 1 had %d log/index/meta keys", n, len(aBefore)-2)
	}
	if left := keysOf(t, s, 1, "a-1"); len(left) != 0 {
		t.Fatalf("%d keys of shape 1 remain, e.g. %v", len(left), firstKey(left))
	}
	if after := keysOf(t, s, 2, "b-2"); !reflect.DeepEqual(after, bBefore) {
		t.Fatalf("shape 2 keys changed: %d before, %d after", len(bBefore), len(after))
	}
	if _, ok := s.View(1); ok {
		t.Fatalf("deleted shape still has a view")
	}
	if !equalItems(flatten(walk(t, s, 2)), bWalk) {
		t.Fatalf("shape 2's log changed")
	}
	if s.Acked() != 77 {
		t.Fatalf("Acked() = %s after a deletion", s.Acked())
	}
	s = reopen(t, s, dir, Options{})
	t.Cleanup(func() { s.Close() })
	if _, ok := s.View(1); ok || len(keysOf(t, s, 1, "a-1")) != 0 {
		t.Fatalf("shape 1 came back after reopen")
	}
}

// TestDeletionResumesFromTombstone: a deletion stopped half-way keeps its
// tombstone; after a restart the shape stays hidden and blocked, and
// DeleteShape finishes it.
func TestDeletionResumesFromTombstone(t *testing.T) {
	t.Parallel()
	opts := Options{ChunkBytesThreshold: 300, DeleteBatchKeys: 8}
	s, dir := newTestStore(t, opts)
	twoShapes(t, s)
	bBefore := keysOf(t, s, 2, "b-2")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.DeleteShape(ctx, 1, "evicted"); !errors.Is(err, context.Canceled) {
		t.Fatalf("DeleteShape with a cancelled context: %v", err)
	}
	if left := keysOf(t, s, 1, ""); len(left) < 50 {
		t.Fatalf("the interrupted deletion removed too much (%d keys left)", len(left))
	}
	s = reopen(t, s, dir, opts)
	t.Cleanup(func() { s.Close() })
	ts, err := s.Tombstones()
	must(t, err)
	if len(ts) != 1 || ts[0].ShapeID != 1 || ts[0].Reason != "evicted" || ts[0].Handle != "a-1" {
		t.Fatalf("tombstones after reopen = %+v", ts)
	}
	if _, ok := s.View(1); ok {
		t.Fatalf("a shape with a tombstone must not be served")
	}
	if err := s.NewWriter().NewBatch().AppendChange(1, off(50, 0), item("x", 20)); !errors.Is(err, ErrShapeBlocked) {
		t.Fatalf("append to a shape being deleted: %v", err)
	}
	_, err = s.DeleteShape(context.Background(), 1, "resumed")
	must(t, err)
	if left := keysOf(t, s, 1, "a-1"); len(left) != 0 {
		t.Fatalf("%d keys of shape 1 remain after the resumed deletion", len(left))
	}
	if ts, _ := s.Tombstones(); len(ts) != 0 {
		t.Fatalf("tombstones left: %+v", ts)
	}
	if after := keysOf(t, s, 2, "b-2"); !reflect.DeepEqual(after, bBefore) {
		t.Fatalf("shape 2 keys changed")
	}
}

// TestWritesToDeletedShapeAreDropped: a batch built before the deletion
// cannot bring keys back.
func TestWritesToDeletedShapeAreDropped(t *testing.T) {
	t.Parallel()
	s, _ := newTestStore(t, Options{})
	twoShapes(t, s)
	w := s.NewWriter()
	b := w.NewBatch()
	must(t, b.AppendChange(1, off(41, 0), item("late", 30)))
	must(t, b.Commit(1, off(41, 0)))
	must(t, b.AppendChange(2, off(41, 0), item("fine", 30)))
	must(t, b.Commit(2, off(41, 0)))
	b.Seal()
	_, err := s.DeleteShape(context.Background(), 1, "test")
	must(t, err)
	res, err := s.WriteAndSync(b)
	must(t, err)
	if len(res.Dropped) != 1 || res.Dropped[0] != 1 || len(res.Shapes) != 1 || res.Shapes[0].ID != 2 {
		t.Fatalf("result = %+v, want shape 1 dropped and shape 2 written", res)
	}
	if left := keysOf(t, s, 1, "a-1"); len(left) != 0 {
		t.Fatalf("the late batch recreated %d keys of the deleted shape", len(left))
	}
	if err := w.NewBatch().AppendChange(1, off(42, 0), item("later", 30)); !errors.Is(err, ErrShapeBlocked) {
		t.Fatalf("the writer's next append to the deleted shape: %v", err)
	}
}

func TestPurgeAll(t *testing.T) {
	t.Parallel()
	s, dir := newTestStore(t, Options{})
	twoShapes(t, s)
	w := s.NewWriter()
	b := w.NewBatch()
	must(t, b.AppendChange(2, off(99, 0), item("x", 20)))
	b.Seal()
	must(t, s.PurgeAll())
	if n := len(allKeys(t, s)); n != 0 {
		t.Fatalf("%d keys after PurgeAll", n)
	}
	if len(s.ShapeIDs()) != 0 || s.Acked() != 0 {
		t.Fatalf("views %v, acked %s after PurgeAll", s.ShapeIDs(), s.Acked())
	}
	if _, err := s.WriteAndSync(b); !errors.Is(err, ErrStaleBatch) {
		t.Fatalf("a batch from before the purge: %v, want ErrStaleBatch", err)
	}
	if id := s.AllocateShapeID(); id <= 2 {
		t.Fatalf("AllocateShapeID after purge = %d: ids must not be reused in a run", id)
	}
	s = reopen(t, s, dir, Options{})
	t.Cleanup(func() { s.Close() })
	if len(s.ShapeIDs()) != 0 || len(allKeys(t, s)) != 0 {
		t.Fatalf("data came back after reopen")
	}
}

func firstKey(m map[string][]byte) string {
	for k := range m {
		if key, err := DecodeKey([]byte(k)); err == nil {
			return key.String()
		}
		return k
	}
	return ""
}
