package api_test

import (
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shapesync/shapesync/http/api"
)

const long = "public, max-age=604800, s-maxage=3600, stale-while-revalidate=2629746"

// The walk-through of SHAPE_API §8, rows 1–5.
func TestWalkThrough(t *testing.T) {
	t.Parallel()
	shapes := newFakeShapes("items")
	ts := startServer(t, shapes, func(c *api.Config) { c.LongPollTimeout = time.Second })
	shapes.lastSeen.Store(777)

	// 1: offset=-1 → [row, snapshot-end] at 0_0, not up-to-date.
	r1 := ts.getShape(t, "table=items&offset=-1")
	wantStatus(t, r1, 200)
	wantBody(t, r1, "["+rowItem("1")+","+snapshotEndItem+"]")
	h := r1.get("electric-handle")
	wantHeader(t, r1, "electric-offset", "0_0")
	wantNoHeader(t, r1, "electric-up-to-date")
	wantHeader(t, r1, "electric-schema", schemaJSON)
	wantHeader(t, r1, "electric-has-data", "true")
	wantHeader(t, r1, "etag", `"`+h+`:-1:0_0"`)
	wantHeader(t, r1, "cache-control", long)
	wantHeader(t, r1, "content-type", "application/json; charset=utf-8")
	wantNoHeader(t, r1, "electric-cursor")

	// 2: offset=0_0 → [up-to-date] at 0_inf; non-live lsn is max(lsnG, ce.tx).
	r2 := ts.getShape(t, "table=items&offset=0_0&handle="+h)
	wantStatus(t, r2, 200)
	wantBody(t, r2, "["+upToDate(777)+"]")
	wantHeader(t, r2, "electric-offset", "0_inf")
	wantHeader(t, r2, "electric-up-to-date", "")
	wantHeader(t, r2, "etag", `"`+h+`:0_0:0_inf"`)
	wantHeader(t, r2, "cache-control", "public, max-age=60, stale-while-revalidate=300")

	// 3: live at 0_inf waits out the long-poll, then [up-to-date lsnG].
	r3 := ts.getShape(t, "table=items&offset=0_inf&handle="+h+"&live=true&cursor=")
	wantStatus(t, r3, 200)
	if r3.elapsed < 900*time.Millisecond {
		t.Fatalf("live request answered after %v, before the long-poll timeout", r3.elapsed)
	}
	wantBody(t, r3, "["+upToDate(777)+"]")
	wantHeader(t, r3, "electric-offset", "0_inf")
	wantHeader(t, r3, "electric-up-to-date", "")
	wantHeader(t, r3, "electric-has-data", "false")
	wantHeader(t, r3, "cache-control", "public, max-age=5, stale-while-revalidate=5")
	wantNoHeader(t, r3, "electric-schema")
	tag3 := r3.get("etag")
	if !strings.HasPrefix(tag3, `"`+h+`:0_inf:0_inf:`) || strings.Count(tag3, ":") != 3 {
		t.Fatalf("timeout etag %s lacks a nonce", tag3)
	}
	cursor3 := r3.get("electric-cursor")

	// 4: a change committed during the wait wakes it: lsn/op offsets, and
	// up-to-date carrying ce.tx (live).
	shape := shapes.shape("items")
	const tx = 23847562
	base := extentReads(shape)
	pending := ts.goShape(t, "table=items&offset=0_inf&handle="+h+"&live=true&cursor="+cursor3)
	awaitExtentReads(t, shape, base+1) // parked (or about to): E1 makes either safe
	shape.commit(tx, changeItem("2", tx, 0, true))
	r4 := <-pending
	wantStatus(t, r4, 200)
	if r4.elapsed > 900*time.Millisecond {
		t.Fatalf("woken request took %v", r4.elapsed)
	}
	wantBody(t, r4, "["+changeItem("2", tx, 0, true)+","+upToDate(tx)+"]")
	wantHeader(t, r4, "electric-offset", "23847562_0")
	wantHeader(t, r4, "electric-up-to-date", "")
	wantHeader(t, r4, "electric-has-data", "true")
	wantHeader(t, r4, "etag", `"`+h+`:0_inf:23847562_0"`)
	if c := r4.get("electric-cursor"); c == cursor3 {
		t.Fatalf("cursor %s did not change after a response", c)
	}

	// 5: from 23847562_0 the next live request waits for the next change.
	base = extentReads(shape)
	pending = ts.goShape(t, "table=items&offset=23847562_0&handle="+h+"&live=true&cursor="+r4.get("electric-cursor"))
	awaitExtentReads(t, shape, base+1)
	shape.commit(23847600, changeItem("3", 23847600, 0, false), changeItem("4", 23847600, 2, true))
	r5 := <-pending
	wantStatus(t, r5, 200)
	wantBody(t, r5, "["+changeItem("3", 23847600, 0, false)+","+changeItem("4", 23847600, 2, true)+","+upToDate(23847600)+"]")
	wantHeader(t, r5, "electric-offset", "23847600_2")

	// A non-live catch-up from 0_0 now returns both transactions.
	r6 := ts.getShape(t, "table=items&offset=0_0&handle="+h)
	wantBody(t, r6, "["+changeItem("2", tx, 0, true)+","+changeItem("3", 23847600, 0, false)+","+changeItem("4", 23847600, 2, true)+","+upToDate(23847600)+"]")
}

func TestLastSeenFallsBackToEnd(t *testing.T) {
	t.Parallel()
	shapes := newFakeShapes("items")
	ts := startServer(t, shapes, nil)
	s := shapes.shape("items")
	s.commit(99, changeItem("2", 99, 0, true))
	r := ts.getShape(t, "table=items&offset=0_0&handle="+s.handle)
	wantBody(t, r, "["+changeItem("2", 99, 0, true)+","+upToDate(99)+"]")
}

// RELIABILITY E1: a change that lands between reading the end and parking
// must be delivered at once, not after the long-poll timeout.
func TestLiveWaitNoLostWakeup(t *testing.T) {
	t.Parallel()
	for _, hook := range []string{"after-extent", "after-boundary-lookup"} {
		t.Run(hook, func(t *testing.T) {
			t.Parallel()
			shapes := newFakeShapes("items")
			ts := startServer(t, shapes, func(c *api.Config) { c.LongPollTimeout = 10 * time.Second })
			s := shapes.shape("items")
			var once sync.Once
			fire := func() { once.Do(func() { s.commit(500, changeItem("9", 500, 0, true)) }) }
			s.set(func(s *fakeShape) {
				switch hook {
				case "after-extent":
					base := s.extentCalls
					s.afterExtent = func(call int) {
						if call == base+1 { // the read the request parks on
							fire()
						}
					}
				case "after-boundary-lookup":
					s.afterBoundary = fire
				}
			})
			r := ts.getShape(t, "table=items&offset=0_inf&handle="+s.handle+"&live=true")
			wantStatus(t, r, 200)
			if r.elapsed > 3*time.Second {
				t.Fatalf("change delivered after %v: the wake-up was lost", r.elapsed)
			}
			wantBody(t, r, "["+changeItem("9", 500, 0, true)+","+upToDate(500)+"]")
			wantHeader(t, r, "electric-offset", "500_0")
		})
	}
}

func TestChunking(t *testing.T) {
	t.Parallel()
	shapes := newFakeShapes("items")
	shapes.newShape = func(s *fakeShape) {
		s.closeChunk(rowItem("1"), rowItem("2"))
		s.closeChunk(rowItem("3"))
		s.closeChunk(rowItem("4"), snapshotEndItem)
		s.finish()
	}
	ts := startServer(t, shapes, nil)
	s := shapes.shape("items")
	s.commit(100, changeItem("5", 100, 0, false), changeItem("6", 100, 2, true))
	s.closeChangeChunkAt(lsnOff(100, 0)) // a chunk may end inside a transaction
	s.commit(200, changeItem("7", 200, 0, true))

	steps := []struct {
		offset, body, next string
		upToDate           bool
	}{
		{"-1", "[" + rowItem("1") + "," + rowItem("2") + "]", "0_0", false},
		{"0_0", "[" + rowItem("3") + "]", "0_1", false},
		{"0_1", "[" + rowItem("4") + "," + snapshotEndItem + "]", "0_2", false},
		{"0_2", "[" + changeItem("5", 100, 0, false) + "]", "100_0", false},
		{"100_0", "[" + changeItem("6", 100, 2, true) + "," + changeItem("7", 200, 0, true) + "," + upToDate(200) + "]", "200_0", true},
	}
	for _, st := range steps {
		q := "table=items&offset=" + st.offset
		if st.offset != "-1" {
			q += "&handle=" + s.handle
		}
		r := ts.getShape(t, q)
		wantStatus(t, r, 200)
		wantBody(t, r, st.body)
		wantHeader(t, r, "electric-offset", st.next)
		if r.has("electric-up-to-date") != st.upToDate {
			t.Fatalf("offset %s: up-to-date header %v, want %v", st.offset, r.has("electric-up-to-date"), st.upToDate)
		}
		// Identical URLs give identical bodies once the chunk is closed (§8).
		if again := ts.getShape(t, q); again.body != r.body || again.get("etag") != r.get("etag") {
			t.Fatalf("offset %s: second response differs", st.offset)
		}
	}
}

// A request for a snapshot chunk that is still being written waits for it
// (§8, client prefetch).
func TestSnapshotChunkInProgressWaits(t *testing.T) {
	t.Parallel()
	shapes := newFakeShapes("items")
	shapes.newShape = func(s *fakeShape) {}
	ts := startServer(t, shapes, nil)
	s := shapes.shape("items")

	pending := ts.goShape(t, "table=items&offset=-1")
	awaitExtentReads(t, s, 1)
	select {
	case r := <-pending:
		t.Fatalf("answered before chunk 0 was closed: %d %q", r.status, r.body)
	default:
	}
	s.closeChunk(rowItem("1"))
	r0 := <-pending
	wantBody(t, r0, "["+rowItem("1")+"]")
	wantHeader(t, r0, "electric-offset", "0_0")
	wantNoHeader(t, r0, "electric-up-to-date")

	// The prefetch of the next chunk waits for it too.
	base := extentReads(s)
	pending = ts.goShape(t, "table=items&offset=0_0&handle="+s.handle)
	awaitExtentReads(t, s, base+1)
	s.closeChunk(rowItem("2"), snapshotEndItem)
	s.finish()
	r1 := <-pending
	wantBody(t, r1, "["+rowItem("2")+","+snapshotEndItem+"]")
	wantHeader(t, r1, "electric-offset", "0_1")
	wantNoHeader(t, r1, "electric-up-to-date")
}

func TestSnapshotChunkTimeout(t *testing.T) {
	t.Parallel()
	shapes := newFakeShapes("items")
	shapes.newShape = func(s *fakeShape) {}
	ts := startServer(t, shapes, func(c *api.Config) { c.SnapshotChunkTimeout = 300 * time.Millisecond })
	r := ts.getShape(t, "table=items&offset=-1")
	wantStatus(t, r, 503)
	wantHeader(t, r, "retry-after", "1")
	wantHeader(t, r, "electric-internal-known-error", "true")
	if r.elapsed < 250*time.Millisecond {
		t.Fatalf("gave up after %v", r.elapsed)
	}
}

func TestOffsetNow(t *testing.T) {
	t.Parallel()
	shapes := newFakeShapes("items")
	ts := startServer(t, shapes, nil)
	shapes.lastSeen.Store(4242)
	r := ts.getShape(t, "table=items&offset=now")
	wantStatus(t, r, 200)
	h := r.get("electric-handle")
	wantBody(t, r, "["+upToDate(4242)+"]")
	wantHeader(t, r, "electric-offset", "0_inf")
	wantHeader(t, r, "electric-up-to-date", "")
	wantHeader(t, r, "electric-has-data", "false")
	wantHeader(t, r, "electric-schema", schemaJSON)
	wantHeader(t, r, "cache-control", "public, max-age=60, stale-while-revalidate=300")
	if tag := r.get("etag"); !strings.HasPrefix(tag, `"`+h+`:now:0_inf:`) {
		t.Fatalf("etag %s", tag)
	}
	shapes.shape("items").commit(300, changeItem("2", 300, 0, true))
	r2 := ts.getShape(t, "table=items&offset=now&handle=stale")
	wantHeader(t, r2, "electric-offset", "300_0")
	if r2.get("etag") == r.get("etag") {
		t.Fatal("two offset=now responses share an etag")
	}
}

func TestETagAndNotModified(t *testing.T) {
	t.Parallel()
	shapes := newFakeShapes("items")
	ts := startServer(t, shapes, func(c *api.Config) { c.LongPollTimeout = 5 * time.Second })
	r := ts.getShape(t, "table=items&offset=-1")
	tag := r.get("etag")
	for _, inm := range []string{tag, `"other", ` + tag, strings.Trim(tag, `"`)} {
		nm := ts.do(t, http.MethodGet, "/v1/shape?table=items&offset=-1", map[string]string{"If-None-Match": inm})
		wantStatus(t, nm, 304)
		wantBody(t, nm, "")
		wantHeader(t, nm, "etag", tag)
		wantHeader(t, nm, "electric-handle", r.get("electric-handle"))
		wantHeader(t, nm, "electric-offset", "0_0")
		wantHeader(t, nm, "cache-control", long)
		wantNoHeader(t, nm, "electric-schema")
	}
	for _, inm := range []string{"W/" + tag, `"nope"`} {
		wantStatus(t, ts.do(t, http.MethodGet, "/v1/shape?table=items&offset=-1", map[string]string{"If-None-Match": inm}), 200)
	}

	// A live request whose chunk end matches is answered at once, without waiting.
	h := r.get("electric-handle")
	s := shapes.shape("items")
	s.commit(10, changeItem("2", 10, 0, true))
	first := ts.getShape(t, "table=items&offset=0_inf&handle="+h+"&live=true")
	nm := ts.do(t, http.MethodGet, "/v1/shape?table=items&offset=0_inf&handle="+h+"&live=true", map[string]string{"If-None-Match": first.get("etag")})
	wantStatus(t, nm, 304)
	if nm.elapsed > 2*time.Second {
		t.Fatalf("304 waited %v", nm.elapsed)
	}
	if !nm.has("electric-cursor") {
		t.Fatal("live 304 without electric-cursor")
	}
	wantHeader(t, nm, "electric-up-to-date", "")
}

// A panic while reading the log is recovered the same way, is logged with
// its stack, and the server keeps serving.
func TestCacheControlRules(t *testing.T) {
	t.Parallel()
	shapes := newFakeShapes("items")
	ts := startServer(t, shapes, func(c *api.Config) {
		c.CacheMaxAge, c.CacheStaleAge = 17, 42
		c.LongPollTimeout = 200 * time.Millisecond
	})
	s := shapes.shape("items")
	cases := []struct{ query, want string }{
		{"table=items&offset=-1", long},
		{"table=items&offset=0_0&handle=" + s.handle, "public, max-age=17, stale-while-revalidate=42"},
		{"table=items&offset=0_inf&handle=" + s.handle + "&live=true", "public, max-age=5, stale-while-revalidate=5"},
		{"table=items&offset=0_0&handle=nope", "public, max-age=60, must-revalidate"},
		{"table=items&offset=bad", "no-store"},
	}
	for _, c := range cases {
		wantHeader(t, ts.getShape(t, c.query), "cache-control", c.want)
	}
}

// HEAD is answered exactly as GET, without a body (§4).
func TestHeadMatchesGet(t *testing.T) {
	t.Parallel()
	shapes := newFakeShapes("items")
	ts := startServer(t, shapes, nil)
	h := shapes.shape("items").handle
	for _, q := range []string{"table=items&offset=-1", "table=items&offset=0_0&handle=" + h, "table=items&offset=0_0&handle=x", "table=items"} {
		get := ts.do(t, http.MethodGet, "/v1/shape?"+q, nil)
		head := ts.do(t, http.MethodHead, "/v1/shape?"+q, nil)
		if head.status != get.status || head.body != "" {
			t.Fatalf("%s: HEAD %d %q vs GET %d", q, head.status, head.body, get.status)
		}
		for k := range get.header {
			if k == "Date" || k == "X-Request-Id" {
				continue
			}
			if head.header.Get(k) != get.header.Get(k) {
				t.Fatalf("%s: header %s HEAD %q GET %q", q, k, head.header.Get(k), get.header.Get(k))
			}
		}
		if len(head.header) != len(get.header) {
			t.Fatalf("%s: HEAD headers %v, GET headers %v", q, head.header, get.header)
		}
	}
}

func TestLiveCursorAdvances(t *testing.T) {
	t.Parallel()
	shapes := newFakeShapes("items")
	clock := time.Unix(1728432000+1000, 0)
	var mu sync.Mutex
	ts := startServer(t, shapes, func(c *api.Config) {
		c.LongPollTimeout = 20 * time.Second
		c.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
		c.CursorJitter = func() int64 { return 7 }
	})
	s := shapes.shape("items")
	tx := uint64(1000)
	cursor := ""
	var got []int64
	for i := range 4 {
		tx++
		s.commit(tx, changeItem(strconv.Itoa(i), tx, 0, true))
		r := ts.getShape(t, "table=items&offset="+strconv.FormatUint(tx-1, 10)+"_0&handle="+s.handle+"&live=true&cursor="+cursor)
		wantStatus(t, r, 200)
		cursor = r.get("electric-cursor")
		v, _ := strconv.ParseInt(cursor, 10, 64)
		got = append(got, v)
	}
	// Same 20-second window: 1000 → 1000 is not past the echoed cursor, so +7.
	want := []int64{1000, 1007, 1014, 1021}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("cursors %v, want %v", got, want)
		}
	}
}

type errString string

func (e errString) Error() string { return string(e) }
