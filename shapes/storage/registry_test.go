package storage

import (
	"errors"
	"reflect"
	"slices"
	"testing"
)

func TestShapeRecords(t *testing.T) {
	t.Parallel()
	s, dir := newTestStore(t, Options{})
	a := ShapeRecord{Handle: "h1-100", ID: s.AllocateShapeID(), DefinitionHash: "h1", Definition: []byte(`{"table":"a"}`),
		State: ShapeState{SnapshotStarted: true}}
	b := ShapeRecord{Handle: "h1-200", ID: s.AllocateShapeID(), DefinitionHash: "h1", Definition: []byte(`{"table":"a"}`)}
	c := ShapeRecord{Handle: "h2-300", ID: s.AllocateShapeID(), DefinitionHash: "h2", Definition: []byte(`{"table":"b"}`),
		State: ShapeState{Provisional: true, SnapshotDone: true, SnapshotStarted: true}}
	if a.ID != 1 || b.ID != 2 || c.ID != 3 {
		t.Fatalf("ids %d %d %d, want 1 2 3", a.ID, b.ID, c.ID)
	}
	for _, r := range []ShapeRecord{a, b, c} {
		must(t, s.PutShape(r))
	}
	got, ok, err := s.GetShape("h2-300")
	if err != nil || !ok || !reflect.DeepEqual(got, c) {
		t.Fatalf("GetShape = %+v, %v, %v; want %+v", got, ok, err, c)
	}
	if _, ok, err := s.GetShape("missing"); ok || err != nil {
		t.Fatalf("GetShape(missing) = %v, %v", ok, err)
	}
	hs, err := s.HandlesForHash("h1")
	must(t, err)
	if !slices.Equal(hs, []string{"h1-100", "h1-200"}) {
		t.Fatalf("HandlesForHash(h1) = %v", hs)
	}
	// A state change rewrites the record; a hash change moves the D| entry.
	a.State.SnapshotDone = true
	a.DefinitionHash = "h3"
	must(t, s.PutShape(a))
	if hs, _ := s.HandlesForHash("h1"); !slices.Equal(hs, []string{"h1-200"}) {
		t.Fatalf("after the hash change HandlesForHash(h1) = %v", hs)
	}
	if err := s.PutShape(ShapeRecord{Handle: "h1-100", ID: 9, DefinitionHash: "h3"}); err == nil {
		t.Fatalf("rebinding a handle to another id must fail")
	}
	must(t, s.DeleteShapeRecord("h1-200"))
	must(t, s.DeleteShapeRecord("h1-200")) // idempotent

	s = reopen(t, s, dir, Options{})
	t.Cleanup(func() { s.Close() })
	list, err := s.ListShapes()
	must(t, err)
	if len(list) != 2 || !reflect.DeepEqual(list[0], a) || !reflect.DeepEqual(list[1], c) {
		t.Fatalf("ListShapes after reopen = %+v", list)
	}
	if hs, _ := s.HandlesForHash("h1"); len(hs) != 0 {
		t.Fatalf("HandlesForHash(h1) after deletion = %v", hs)
	}
	if id := s.AllocateShapeID(); id != 4 {
		t.Fatalf("AllocateShapeID after reopen = %d, want 4", id)
	}
}

func TestShapeRecordValidation(t *testing.T) {
	t.Parallel()
	s, _ := newTestStore(t, Options{})
	for name, r := range map[string]ShapeRecord{
		"id 0":            {Handle: "h", DefinitionHash: "x"},
		"no handle":       {ID: 1, DefinitionHash: "x"},
		"hash with a bar": {ID: 1, Handle: "h", DefinitionHash: "x|y"},
		"no hash":         {ID: 1, Handle: "h"},
	} {
		if err := s.PutShape(r); err == nil {
			t.Errorf("%s: PutShape accepted %+v", name, r)
		}
	}
	if _, err := s.HandlesForHash("a|b"); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("HandlesForHash with a bar: %v", err)
	}
}

func TestSystemKeys(t *testing.T) {
	t.Parallel()
	s, dir := newTestStore(t, Options{})
	if _, ok, err := s.StackMeta(); ok || err != nil {
		t.Fatalf("StackMeta on a new store = %v, %v", ok, err)
	}
	must(t, s.PutStackMeta([]byte(`{"slot":"electric_slot","system_id":"7","timeline":1}`)))
	must(t, s.PutRelations([]byte(`[{"oid":16384}]`)))
	s = reopen(t, s, dir, Options{})
	t.Cleanup(func() { s.Close() })
	m, ok, err := s.StackMeta()
	if err != nil || !ok || string(m) != `{"slot":"electric_slot","system_id":"7","timeline":1}` {
		t.Fatalf("StackMeta = %q, %v, %v", m, ok, err)
	}
	r, ok, err := s.Relations()
	if err != nil || !ok || string(r) != `[{"oid":16384}]` {
		t.Fatalf("Relations = %q, %v, %v", r, ok, err)
	}
}
