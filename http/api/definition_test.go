package api_test

import "testing"

// The handler hands the parsed columns and replica mode to the backend as
// the shape's definition (SHAPE_API §6.1): the fake registry identifies
// shapes by them, so equal definitions share a handle and different ones
// do not.
func TestColumnsAndReplicaReachTheBackend(t *testing.T) {
	t.Parallel()
	shapes := newFakeShapes("items")
	ts := startServer(t, shapes, nil)
	handle := func(q string) string {
		t.Helper()
		r := ts.getShape(t, "table=items&offset=-1&"+q)
		wantStatus(t, r, 200)
		return r.get("electric-handle")
	}
	whole := handle("")
	cols := handle("columns=id,title")
	if cols == whole {
		t.Fatalf("columns=id,title shares the whole-table handle %q", whole)
	}
	if h := handle("columns=%22title%22,%22id%22"); h != cols {
		t.Fatalf("reordered columns got handle %q, want %q", h, cols)
	}
	full := handle("columns=id,title&replica=full")
	if full == cols || full == whole {
		t.Fatalf("replica=full shares a handle: %q", full)
	}
	if h := handle("replica=default"); h != whole {
		t.Fatalf("replica=default got %q, want the default shape %q", h, whole)
	}
	shapes.mu.Lock()
	created := shapes.created
	shapes.mu.Unlock()
	if created != 3 {
		t.Fatalf("created %d shapes, want 3", created)
	}
}
