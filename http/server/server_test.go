package server

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
	"go.uber.org/goleak"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

// Two fasthttp goroutines are not ours to stop: the worker-pool cleaner,
// which notices Stop only after its 10 s idle sleep and then exits, and the
// process-wide Date-header ticker.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.(*workerPool).Start.func2"),
		goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.updateServerDate.func1"))
}

// testApp panics on /panic, parks on /park until Shutdown, and answers
// everything else with 200 "ok".
type testApp struct {
	stop      chan struct{}
	shutdowns atomic.Int32
	ids       chan string
}

func newTestApp() *testApp { return &testApp{stop: make(chan struct{}), ids: make(chan string, 10)} }

func (a *testApp) Handle(ctx *fasthttp.RequestCtx) {
	a.ids <- RequestID(ctx)
	switch string(ctx.Path()) {
	case "/panic":
		ctx.Response.Header.Set("electric-handle", "half-built")
		ctx.SetBodyString("partial")
		panic("boom: secret=hunter2 must not reach the body")
	case "/park":
		<-a.stop
		ctx.SetBodyString("released")
	default:
		ctx.SetBodyString("ok")
	}
}

func (a *testApp) SetCommonHeaders(ctx *fasthttp.RequestCtx) {
	ctx.Response.Header.Set("access-control-allow-origin", "*")
}

func (a *testApp) Shutdown() {
	if a.shutdowns.Add(1) == 1 {
		close(a.stop)
	}
}

type running struct {
	srv    *Server
	addr   string
	served chan error
	logs   *observer.ObservedLogs
}

func start(t *testing.T, app App) *running {
	t.Helper()
	core, logs := observer.New(zap.DebugLevel)
	cfg := DefaultConfig()
	cfg.Logger = zap.New(core)
	r := &running{srv: New(cfg, app), served: make(chan error, 1), logs: logs}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r.addr = ln.Addr().String()
	go func() { r.served <- r.srv.Serve(ln) }()
	return r
}

func (r *running) shutdown(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-r.served; err != nil {
		t.Fatalf("Serve returned %v after Shutdown", err)
	}
}

func get(t *testing.T, client *http.Client, url string, header map[string]string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestPanicBecomes500(t *testing.T) {
	app := newTestApp()
	r := start(t, app)
	defer r.shutdown(t)
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()

	resp, body := get(t, client, "http://"+r.addr+"/panic?secret=hunter2", nil)
	if resp.StatusCode != 500 || body != `{"error":"Internal server error"}` {
		t.Fatalf("got %d %q", resp.StatusCode, body)
	}
	for k, v := range map[string]string{
		"Cache-Control": "no-store", "Surrogate-Control": "no-store",
		"Content-Type": "application/json; charset=utf-8", "Access-Control-Allow-Origin": "*",
	} {
		if got := resp.Header.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if resp.Header.Get("electric-handle") != "" {
		t.Error("the half-built response leaked into the 500")
	}
	if resp.Header.Get("Server") != "" {
		t.Error("fasthttp's default Server header is sent")
	}
	entries := r.logs.FilterMessage("panic in HTTP handler").All()
	if len(entries) != 1 {
		t.Fatalf("want one panic log entry, got %d", len(entries))
	}
	fields := entries[0].ContextMap()
	if !strings.Contains(fields["stack"].(string), "testApp).Handle") {
		t.Errorf("logged stack does not name the panicking handler: %v", fields["stack"])
	}
	if fields["path"] != "/panic" || strings.Contains(fields["path"].(string), "hunter2") {
		t.Errorf("logged path %v", fields["path"])
	}
	if fields["request_id"] != resp.Header.Get("x-request-id") || fields["request_id"] == "" {
		t.Errorf("logged request id %v, response has %q", fields["request_id"], resp.Header.Get("x-request-id"))
	}
	<-app.ids

	// The connection and the server survive.
	resp, body = get(t, client, "http://"+r.addr+"/", nil)
	if resp.StatusCode != 200 || body != "ok" {
		t.Fatalf("after panic: %d %q", resp.StatusCode, body)
	}
	<-app.ids
}

func TestRequestIDs(t *testing.T) {
	app := newTestApp()
	r := start(t, app)
	defer r.shutdown(t)
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()

	seen := map[string]bool{}
	for range 3 {
		resp, _ := get(t, client, "http://"+r.addr+"/", nil)
		id := resp.Header.Get("x-request-id")
		if id == "" || seen[id] || id != <-app.ids {
			t.Fatalf("request id %q not unique or not the handler's", id)
		}
		seen[id] = true
	}
	resp, _ := get(t, client, "http://"+r.addr+"/", map[string]string{"X-Request-Id": "proxy-abc.123_XYZ"})
	if got := resp.Header.Get("x-request-id"); got != "proxy-abc.123_XYZ" {
		t.Fatalf("sane incoming id not kept: %q", got)
	}
	<-app.ids
	for _, bad := range []string{"short", "has space in it", strings.Repeat("x", 201), "semi;colon-id"} {
		resp, _ := get(t, client, "http://"+r.addr+"/", map[string]string{"X-Request-Id": bad})
		if got := resp.Header.Get("x-request-id"); got == bad || got == "" {
			t.Fatalf("incoming id %q: response id %q", bad, got)
		}
		<-app.ids
	}
}

// Shutdown lets the app answer parked requests first; otherwise it would
// wait for them until its context ended.
func TestShutdownReleasesParkedRequests(t *testing.T) {
	app := newTestApp()
	r := start(t, app)
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()

	done := make(chan string, 1)
	go func() {
		resp, err := client.Get("http://" + r.addr + "/park")
		if err != nil {
			done <- err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		done <- string(b)
	}()
	<-app.ids // the request is inside the handler
	start := time.Now()
	r.shutdown(t)
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("shutdown took %v", d)
	}
	if got := <-done; got != "released" {
		t.Fatalf("parked request got %q", got)
	}
	if app.shutdowns.Load() != 1 {
		t.Fatalf("App.Shutdown called %d times", app.shutdowns.Load())
	}
}

func TestValidRequestID(t *testing.T) {
	t.Parallel()
	for id, want := range map[string]bool{"abcdefgh": true, "a-b_c.d-1234": true, "abc": false, "abcdefg\n": false, "abcdefgh/": false, "": false} {
		if got := validRequestID([]byte(id)); got != want {
			t.Errorf("validRequestID(%q) = %v", id, got)
		}
	}
}

// Requests fasthttp itself rejects still get the app's common headers.
func TestParseErrorsCarryCommonHeaders(t *testing.T) {
	app := newTestApp()
	r := start(t, app)
	defer r.shutdown(t)
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()

	resp, body := get(t, client, "http://"+r.addr+"/", map[string]string{"X-Big": strings.Repeat("a", 20_000)})
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge || body != `{"error":"Request header too large"}` {
		t.Fatalf("oversized header: %d %q", resp.StatusCode, body)
	}
	for k, v := range map[string]string{"Access-Control-Allow-Origin": "*", "Cache-Control": "no-store", "Surrogate-Control": "no-store"} {
		if got := resp.Header.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if resp.Header.Get("x-request-id") == "" {
		t.Error("no x-request-id on a parse error")
	}

	// A declared body over the limit is refused before it is read.
	conn, err := net.Dial("tcp", r.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 8000001\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	resp2, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp2.Body)
	resp2.Body.Close()
	if resp2.StatusCode != http.StatusRequestEntityTooLarge || string(b) != `{"error":"Request body too large"}` {
		t.Fatalf("oversized body: %d %q", resp2.StatusCode, b)
	}
	if resp2.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Error("413 without CORS")
	}
}

// A request target over MaxURIBytes is a 414 that never reaches the app;
// one just under it, with ordinary headers, fits the read buffer and does.
func TestLongURIs(t *testing.T) {
	app := newTestApp()
	r := start(t, app)
	defer r.shutdown(t)
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()

	long := "http://" + r.addr + "/v1/shape?where=" + strings.Repeat("a", 9000)
	resp, body := get(t, client, long, nil)
	if resp.StatusCode != http.StatusRequestURITooLong || !strings.Contains(body, "Request URI too long") {
		t.Fatalf("9 KB URI: %d %q", resp.StatusCode, body)
	}
	for k, v := range map[string]string{"Access-Control-Allow-Origin": "*", "Cache-Control": "no-store"} {
		if got := resp.Header.Get(k); got != v {
			t.Errorf("414: %s = %q, want %q", k, got, v)
		}
	}
	fits := "http://" + r.addr + "/v1/shape?where=" + strings.Repeat("a", 8000)
	resp, _ = get(t, client, fits, map[string]string{"Cookie": strings.Repeat("c", 3000), "User-Agent": strings.Repeat("u", 500)})
	if resp.StatusCode == http.StatusRequestURITooLong || resp.StatusCode == http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("an 8,000-byte where with 3.5 KB of headers was refused: %d", resp.StatusCode)
	}
}
