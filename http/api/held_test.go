package api_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shapesync/shapesync/http/api"
)

func TestMustRefetch(t *testing.T) {
	t.Parallel()
	shapes := newFakeShapes("items", "other")
	ts := startServer(t, shapes, nil)
	items := shapes.shape("items").handle
	other := shapes.shape("other").handle

	for _, handle := range []string{"made-up", other} {
		r := ts.getShape(t, "table=items&offset=0_0&handle="+handle)
		wantStatus(t, r, 409)
		wantBody(t, r, `[{"headers":{"control":"must-refetch"}}]`)
		wantHeader(t, r, "electric-handle", items)
		wantHeader(t, r, "cache-control", "public, max-age=60, must-revalidate")
		wantNoHeader(t, r, "surrogate-control")
	}

	// A handle for a definition with no shape yet creates it (§6.3).
	shapes.tables["fresh"] = true
	r := ts.getShape(t, "table=fresh&offset=5_0&handle=gone&live=true")
	wantStatus(t, r, 409)
	cur, ok := shapes.Current(api.ShapeDefinition{Schema: "public", Table: "fresh"})
	if !ok || r.get("electric-handle") != cur.Handle() {
		t.Fatalf("409 handle %q, registry has %v", r.get("electric-handle"), cur)
	}
}

func TestInvalidatedWhileWaiting(t *testing.T) {
	t.Parallel()
	shapes := newFakeShapes("items")
	ts := startServer(t, shapes, nil)
	old := shapes.shape("items")

	// With a replacement already registered, the 409 names it.
	pending := ts.goShape(t, "table=items&offset=0_inf&handle="+old.handle+"&live=true")
	awaitExtentReads(t, old, 1)
	old.invalidateThen(func() { shapes.shape("items") })
	r := <-pending
	wantStatus(t, r, 409)
	if r.elapsed > 5*time.Second {
		t.Fatalf("409 after %v", r.elapsed)
	}
	cur, _ := shapes.Current(api.ShapeDefinition{Schema: "public", Table: "items"})
	if r.get("electric-handle") != cur.Handle() || cur.Handle() == old.handle {
		t.Fatalf("409 handle %q, want replacement %q", r.get("electric-handle"), cur.Handle())
	}

	// Without a replacement yet: 409 without a handle, cached for 1 s.
	second := shapes.shape("items")
	pending = ts.goShape(t, "table=items&offset=0_inf&handle="+second.handle+"&live=true")
	awaitExtentReads(t, second, 1)
	second.invalidate()
	r = <-pending
	wantStatus(t, r, 409)
	wantNoHeader(t, r, "electric-handle")
	wantHeader(t, r, "cache-control", "public, max-age=1, must-revalidate")
	wantBody(t, r, `[{"headers":{"control":"must-refetch"}}]`)
}

func TestOutOfBounds(t *testing.T) {
	t.Parallel()
	shapes := newFakeShapes("items")
	ts := startServer(t, shapes, func(c *api.Config) { c.LongPollTimeout = 800 * time.Millisecond })
	s := shapes.shape("items")

	r := ts.getShape(t, "table=items&offset=900_0&handle="+s.handle)
	wantStatus(t, r, 400)
	wantBody(t, r, `{"message":"Invalid request","errors":{"offset":["out of bounds for this shape"]}}`)
	if r.elapsed < 350*time.Millisecond || r.elapsed > 3*time.Second {
		t.Fatalf("out-of-bounds answered after %v, want about half the long-poll timeout", r.elapsed)
	}

	// Reaching the offset during the hold serves normally.
	base := extentReads(s)
	pending := ts.goShape(t, "table=items&offset=900_0&handle="+s.handle)
	awaitExtentReads(t, s, base+1)
	s.commit(900, changeItem("2", 900, 0, false), changeItem("3", 900, 2, true))
	r = <-pending
	wantStatus(t, r, 200)
	wantBody(t, r, "["+changeItem("3", 900, 2, true)+","+upToDate(900)+"]")
}

func TestLiveTimeoutWhileUnhealthy(t *testing.T) {
	t.Parallel()
	shapes := newFakeShapes("items")
	ts := startServer(t, shapes, func(c *api.Config) { c.LongPollTimeout = 300 * time.Millisecond })
	s := shapes.shape("items")
	ts.status.set(api.Status{State: api.StateStarting, Reasons: []string{"replication connection refused: check DATABASE_URL"}})
	r := ts.getShape(t, "table=items&offset=0_inf&handle="+s.handle+"&live=true")
	wantStatus(t, r, 503)
	wantHeader(t, r, "retry-after", "10")
	wantBody(t, r, `{"message":"The service is not ready (state: starting): replication connection refused: check DATABASE_URL, please retry"}`)

	// Fallback keeps serving (RELIABILITY G1).
	ts.status.set(api.Status{State: api.StateFallback})
	wantStatus(t, ts.getShape(t, "table=items&offset=0_inf&handle="+s.handle+"&live=true"), 200)
}

func TestShutdownAnswersParkedPolls(t *testing.T) {
	t.Parallel()
	shapes := newFakeShapes("items")
	ts := startServer(t, shapes, func(c *api.Config) { c.LongPollTimeout = 30 * time.Second })
	s := shapes.shape("items")
	ts.status.set(api.Status{State: api.StateStarting}) // shutdown answers up-to-date regardless

	const n = 5
	var pending []<-chan *response
	for range n {
		pending = append(pending, ts.goShape(t, "table=items&offset=0_inf&handle="+s.handle+"&live=true"))
	}
	awaitExtentReads(t, s, n)
	start := time.Now()
	ts.stop(t)
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("shutdown took %v", d)
	}
	for _, p := range pending {
		r := <-p
		wantStatus(t, r, 200)
		wantHeader(t, r, "electric-up-to-date", "")
		wantHeader(t, r, "electric-offset", "0_inf")
		if r.elapsed > 10*time.Second {
			t.Fatalf("parked poll answered after %v", r.elapsed)
		}
	}
}

func TestBackendErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		setup  func(*fakeShapes)
		status int
		body   string
		header map[string]string
	}{
		{"table not found", func(*fakeShapes) {}, 400,
			`{"message":"Invalid request","errors":{"table":["Table \"public\".\"missing\" does not exist. If the table name contains capitals or special characters you must quote it."]}}`, nil},
		{"cannot verify", func(f *fakeShapes) { f.getErr = api.CannotVerifyShape() }, 503,
			`{"message":"Cannot connect to the database to verify the shape. Please try again later."}`, map[string]string{"retry-after": "1"}},
		{"database unreachable", func(f *fakeShapes) { f.getErr = api.DatabaseUnreachable() }, 503,
			`{"code":"database_unreachable","error":"Database is unreachable"}`, map[string]string{"retry-after": "10"}},
		{"snapshot failed", func(f *fakeShapes) {
			f.tables["missing"] = true
			f.newShape = func(s *fakeShape) {
				s.waitErr = api.SnapshotFailed("Snapshot timed out waiting for a lock on public.missing")
			}
		}, 503, `{"message":"Snapshot timed out waiting for a lock on public.missing"}`, map[string]string{"retry-after": "10", "electric-internal-known-error": "true"}},
		{"unexpected error is a bare 500", func(f *fakeShapes) { f.getErr = errString("badger: value log corrupt at /secret/path") }, 500,
			`{"error":"Internal server error"}`, map[string]string{"cache-control": "no-store"}},
		{"panic in the backend", func(f *fakeShapes) { f.getPanic = true }, 500,
			`{"error":"Internal server error"}`, map[string]string{"cache-control": "no-store", "content-type": "application/json; charset=utf-8"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			shapes := newFakeShapes("items")
			c.setup(shapes)
			ts := startServer(t, shapes, nil)
			r := ts.do(t, http.MethodGet, "/v1/shape?table=missing&offset=-1", map[string]string{"Origin": "https://app.example"})
			wantStatus(t, r, c.status)
			wantBody(t, r, c.body)
			for k, v := range c.header {
				wantHeader(t, r, k, v)
			}
			wantNoHeader(t, r, "electric-handle")
			if c.status == 500 && strings.Contains(r.body, "goroutine") {
				t.Fatal("stack trace in the body")
			}
		})
	}
}

func TestPanicInReadIsRecovered(t *testing.T) {
	t.Parallel()
	shapes := newFakeShapes("items")
	ts := startServer(t, shapes, nil)
	s := shapes.shape("items")
	s.set(func(s *fakeShape) { s.readPanic = true })
	r := ts.getShape(t, "table=items&offset=-1")
	wantStatus(t, r, 500)
	wantBody(t, r, `{"error":"Internal server error"}`)
	wantNoHeader(t, r, "electric-handle")
	entries := ts.logs.FilterMessage("panic in HTTP handler").All()
	if len(entries) != 1 || !strings.Contains(entries[0].ContextMap()["stack"].(string), "Read") {
		t.Fatalf("panic not logged with its stack: %v", entries)
	}
	s.set(func(s *fakeShape) { s.readPanic = false })
	wantStatus(t, ts.getShape(t, "table=items&offset=-1"), 200)
}
