package api_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/shapesync/shapesync/http/api"
	"github.com/shapesync/shapesync/http/server"
	"go.uber.org/goleak"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

// Two fasthttp goroutines are not ours to stop: the worker-pool cleaner,
// which notices Stop only after its 10 s idle sleep and then exits, and the
// process-wide Date-header ticker, started once and never stopped.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.(*workerPool).Start.func2"),
		goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.updateServerDate.func1"))
}

// testServer is the real stack (http/server + api.Handler) on a real
// listening socket on 127.0.0.1, in front of the fake backend.
type testServer struct {
	addr    string
	shapes  *fakeShapes
	status  *fakeStatus
	handler *api.Handler
	srv     *server.Server
	logs    *observer.ObservedLogs
	served  chan error
	client  *http.Client
}

func startServer(t *testing.T, shapes *fakeShapes, configure func(*api.Config)) *testServer {
	t.Helper()
	cfg := api.DefaultConfig()
	cfg.LongPollTimeout = 10 * time.Second
	cfg.ServerName = "shapesync/test"
	if configure != nil {
		configure(&cfg)
	}
	core, logs := observer.New(zap.DebugLevel)
	cfg.Logger = zap.New(core)
	ts := &testServer{shapes: shapes, status: newFakeStatus(api.StateLive), logs: logs, served: make(chan error, 1)}
	ts.handler = api.NewHandler(cfg, shapes, ts.status)
	scfg := server.DefaultConfig()
	scfg.Logger = zap.New(core)
	ts.srv = server.New(scfg, ts.handler)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts.addr = ln.Addr().String()
	go func() { ts.served <- ts.srv.Serve(ln) }()
	ts.client = &http.Client{Transport: &http.Transport{DisableCompression: true}, Timeout: 60 * time.Second}
	t.Cleanup(func() { ts.stop(t) })
	return ts
}

func (ts *testServer) stop(t *testing.T) {
	if ts.srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := ts.srv.Shutdown(ctx); err != nil {
		t.Errorf("shutdown: %v", err)
	}
	if err := <-ts.served; err != nil {
		t.Errorf("serve: %v", err)
	}
	ts.client.CloseIdleConnections()
	ts.srv = nil
}

type response struct {
	status  int
	header  http.Header
	body    string
	elapsed time.Duration
}

func (r *response) get(name string) string { return r.header.Get(name) }

func (r *response) has(name string) bool { _, ok := r.header[http.CanonicalHeaderKey(name)]; return ok }

// do sends one request through net/http and checks what every response
// must carry (§2, §4) and what the client insists on for 2xx shape
// responses (§10.2).
func (ts *testServer) do(t *testing.T, method, target string, header map[string]string) *response {
	t.Helper()
	r, err := ts.fetch(t, method, target, header)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// goShape sends a GET /v1/shape from another goroutine; the channel yields
// the response (nil after a transport error, which is reported).
func (ts *testServer) goShape(t *testing.T, query string) <-chan *response {
	ch := make(chan *response, 1)
	go func() {
		r, err := ts.fetch(t, http.MethodGet, "/v1/shape?"+query, nil)
		if err != nil {
			t.Error(err)
		}
		ch <- r
	}()
	return ch
}

// fetch is do without t.Fatal, so it may run outside the test goroutine.
func (ts *testServer) fetch(t *testing.T, method, target string, header map[string]string) (*response, error) {
	req, err := http.NewRequest(method, "http://"+ts.addr+target, nil)
	if err != nil {
		return nil, err
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	start := time.Now()
	resp, err := ts.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, target, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	r := &response{status: resp.StatusCode, header: resp.Header, body: string(body), elapsed: time.Since(start)}
	path, query, _ := strings.Cut(target, "?")
	checkEveryResponse(t, req, r, path == "/v1/shape")
	if path == "/v1/shape" && r.status >= 200 && r.status < 300 && method != http.MethodOptions {
		checkClientRequiredHeaders(t, query, r)
	}
	return r, nil
}

func (ts *testServer) getShape(t *testing.T, query string) *response {
	t.Helper()
	return ts.do(t, http.MethodGet, "/v1/shape?"+query, nil)
}

// awaitExtentReads polls until the shape's Extent has been read at least n
// times: a request has got that far and is about to serve or park.
func awaitExtentReads(t *testing.T, s *fakeShape, n int) {
	t.Helper()
	checkFor(t, 5*time.Second, func() error {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.extentCalls < n {
			return fmt.Errorf("%d extent reads, waiting for %d", s.extentCalls, n)
		}
		return nil
	})
}

func extentReads(s *fakeShape) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.extentCalls
}

func checkEveryResponse(t *testing.T, req *http.Request, r *response, shapeEndpoint bool) {
	t.Helper()
	wantOrigin := "*"
	if o := req.Header.Get("Origin"); o != "" {
		wantOrigin = o
	}
	methods := "GET, HEAD"
	if shapeEndpoint {
		methods = "GET, POST, HEAD, DELETE, OPTIONS"
	}
	want := map[string]string{
		"access-control-allow-origin":   wantOrigin,
		"access-control-allow-methods":  methods,
		"access-control-expose-headers": "electric-cursor,electric-handle,electric-has-data,electric-offset,electric-schema,electric-up-to-date,electric-internal-known-error,retry-after,electric-snapshot",
		"vary":                          "Origin",
		"electric-server":               "shapesync/test",
	}
	for k, v := range want {
		if got := r.get(k); got != v {
			t.Errorf("%s %s → %d: %s = %q, want %q", req.Method, req.URL.RequestURI(), r.status, k, got, v)
		}
	}
	if r.get("x-request-id") == "" {
		t.Errorf("%s %s: no x-request-id", req.Method, req.URL.RequestURI())
	}
	if r.status >= 400 && r.status != http.StatusConflict {
		if r.get("cache-control") != "no-store" && req.Method == http.MethodGet || r.get("surrogate-control") != "no-store" {
			t.Errorf("%s %s → %d: cache-control %q surrogate-control %q, want no-store", req.Method, req.URL.RequestURI(), r.status, r.get("cache-control"), r.get("surrogate-control"))
		}
	}
	if r.status == http.StatusServiceUnavailable && r.get("retry-after") == "" {
		t.Errorf("503 without retry-after")
	}
}

// checkClientRequiredHeaders is SHAPE_API §10.2: a missing header is fatal
// for the official client.
func checkClientRequiredHeaders(t *testing.T, query string, r *response) {
	t.Helper()
	q, err := url.ParseQuery(query)
	if err != nil {
		t.Fatal(err)
	}
	if !r.has("electric-offset") || !r.has("electric-handle") {
		t.Errorf("2xx for %q lacks electric-offset/electric-handle: %v", query, r.header)
	}
	live, isLive := q["live"]
	if isLive && (len(live) == 0 || live[len(live)-1] != "false") {
		if !r.has("electric-cursor") {
			t.Errorf("live 2xx for %q lacks electric-cursor", query)
		}
	} else if r.status == http.StatusOK && !r.has("electric-schema") {
		t.Errorf("non-live 200 for %q lacks electric-schema", query)
	}
	if !r.has("electric-has-data") {
		t.Errorf("2xx for %q lacks electric-has-data", query)
	}
}

// raw sends a request line exactly as given (for path normalisation) and
// reads the response.
func (ts *testServer) raw(t *testing.T, method, target string) *response {
	t.Helper()
	conn, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, method+" "+target+" HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: method})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatal(err)
	}
	return &response{status: resp.StatusCode, header: resp.Header, body: string(body)}
}

// checkFor polls fn until it returns nil or the timeout passes.
func checkFor(t *testing.T, timeout time.Duration, fn func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := fn()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func wantStatus(t *testing.T, r *response, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body %q", r.status, status, r.body)
	}
}

func wantBody(t *testing.T, r *response, body string) {
	t.Helper()
	if r.body != body {
		t.Fatalf("body\n got %s\nwant %s", r.body, body)
	}
}

func wantHeader(t *testing.T, r *response, name, value string) {
	t.Helper()
	if !r.has(name) {
		t.Fatalf("header %s missing (want %q)", name, value)
	}
	if got := r.get(name); got != value {
		t.Fatalf("header %s = %q, want %q", name, got, value)
	}
}

func wantNoHeader(t *testing.T, r *response, name string) {
	t.Helper()
	if r.has(name) {
		t.Fatalf("header %s = %q, want absent", name, r.get(name))
	}
}
