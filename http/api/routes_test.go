package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/shapesync/shapesync/http/api"
	"github.com/shapesync/shapesync/replication/lsn"
)

func lsnOff(tx, op uint64) lsn.LogOffset { return lsn.LogOffset{Tx: tx, Op: op} }

func TestValidationBodies(t *testing.T) {
	t.Parallel()
	ts := startServer(t, newFakeShapes("items"), nil)
	cases := map[string]string{
		"table=items":                                     `{"offset":["can't be blank"]}`,
		"table=items&offset=0_-1&handle=h":                `{"offset":["has invalid format"]}`,
		"table=items&offset=0_0":                          `{"handle":["can't be blank when offset != -1"]}`,
		"table=items&offset=-1&live=true":                 `{"live":["can't be true when offset == -1"]}`,
		"table=items&offset=now&live":                     `{"live":["can't be true when offset is 'now'"]}`,
		"table=items&offset=-1&live_sse=true":             `{"live_sse":["can't be true unless live is also true"]}`,
		"offset=-1":                                       `{"table":["can't be blank"]}`,
		"offset=-1&table=a.b.c":                           `{"table":["Invalid relation identifier, too many delimiters: a.b.c"]}`,
		"offset=-1&table=Bad-Name":                        `{"table":["Invalid unquoted identifier contains special characters: Bad-Name"]}`,
		"offset=-1&table=%22%22":                          `{"table":["Invalid zero-length delimited identifier"]}`,
		"offset=-1&table=%22a%22b%22":                     `{"table":["Invalid identifier with unescaped quote: a\"b"]}`,
		"offset=-1&table=" + strings.Repeat("t", 64):      `{"table":["Identifier is too long (max length is 63)"]}`,
		"offset=-1&table=Missing":                         `{"table":["Table \"public\".\"missing\" does not exist. If the table name contains capitals or special characters you must quote it."]}`,
		"offset=-1&table=%22Items%22":                     `{"table":["Table \"public\".\"Items\" does not exist. If the table name contains capitals or special characters you must quote it."]}`,
		"table=items&offset=x&replica=x&log=x":            `{"log":["is invalid"],"offset":["has invalid format"],"replica":["is invalid"]}`,
		"table=items&offset=-1&params=x":                  `{"params":["is invalid"]}`,
		"table=items&offset=-1&where=id>1&params[a]=1":    `{"params":["Parameters can only use numbers as keys"]}`,
		"table=items&offset=-1&where=id>1&params[2]=1":    `{"params":["Parameters must be numbered sequentially, starting from 1"]}`,
		"table=items&offset=-1&columns=id,":               `{"columns":["Invalid zero-length delimited identifier"]}`,
		"table=items&offset=-1&columns=%22id%22,a-b":      `{"columns":["Invalid unquoted identifier contains special characters: a-b"]}`,
		"table=items&offset=-1&log=changes_only":          `{"log":["not supported yet"]}`,
		"table=items&offset=-1&subset__where=id%3D1":      `{"subset__where":["not supported yet"]}`,
		"table=items&offset=0_inf&handle=h&live&live_sse": `{"live_sse":["not supported yet"]}`,
	}
	for q, errs := range cases {
		r := ts.getShape(t, q)
		wantStatus(t, r, 400)
		wantBody(t, r, `{"message":"Invalid request","errors":`+errs+`}`)
		wantHeader(t, r, "content-type", "application/json; charset=utf-8")
	}
	// Unknown parameters are ignored and empty ones are absent.
	wantStatus(t, ts.getShape(t, "table=items&offset=-1&cache-buster=1&where=&columns=&log=full&foo"), 200)
}

func TestPathNormalisation(t *testing.T) {
	t.Parallel()
	ts := startServer(t, newFakeShapes("items"), nil)
	for _, p := range []string{"/v1/shape", "/v1/shape/", "//v1/shape", "/v1//shape", "/v1/shape//", "/v1/%73hape", "/v1/sh%61pe"} {
		r := ts.raw(t, http.MethodGet, p+"?table=items&offset=-1")
		wantStatus(t, r, 200)
		wantHeader(t, r, "access-control-allow-methods", "GET, POST, HEAD, DELETE, OPTIONS")
	}
	for _, p := range []string{"/v1%2Fshape", "/v1/./shape", "/v1/shape/x", "/v1/shape/items", "/v2/shape", "/v1"} {
		r := ts.raw(t, http.MethodGet, p+"?table=items&offset=-1")
		wantStatus(t, r, 404)
		wantBody(t, r, "Not found")
		wantHeader(t, r, "access-control-allow-methods", "GET, HEAD")
		wantHeader(t, r, "access-control-allow-origin", "*")
	}
	for _, p := range []string{"/v1/health", "//v1/health/", "/v1/%68ealth"} {
		wantStatus(t, ts.raw(t, http.MethodGet, p), 200)
	}
}

func TestOtherRoutes(t *testing.T) {
	t.Parallel()
	ts := startServer(t, newFakeShapes("items"), nil)

	root := ts.do(t, http.MethodGet, "/", nil)
	wantStatus(t, root, 200)
	wantBody(t, root, "")
	wantStatus(t, ts.do(t, http.MethodHead, "/", nil), 200)

	nf := ts.do(t, http.MethodGet, "/nope", map[string]string{"Origin": "https://app.example"})
	wantStatus(t, nf, 404)
	wantBody(t, nf, "Not found")
	wantHeader(t, nf, "content-type", "text/plain; charset=utf-8")
	wantStatus(t, ts.do(t, http.MethodPut, "/v1/shape?table=items&offset=-1", nil), 404)
	wantStatus(t, ts.do(t, http.MethodPost, "/v1/health", nil), 404)
	wantStatus(t, ts.do(t, http.MethodHead, "/v1/status", nil), 404)

	del := ts.do(t, http.MethodDelete, "/v1/shape?table=items", nil)
	wantStatus(t, del, 405)
	wantBody(t, del, `{"message":"DELETE not allowed"}`)
	wantHeader(t, del, "cache-control", "no-cache")
}

func TestPreflight(t *testing.T) {
	t.Parallel()
	ts := startServer(t, newFakeShapes("items"), nil)
	cases := map[string]string{
		"If-None-Match":                       "If-None-Match",
		"if-none-match, traceparent":          "if-none-match,traceparent",
		"content-type, X-Custom, TraceParent": "TraceParent",
		"content-type":                        "",
		"":                                    "",
	}
	for req, want := range cases {
		h := map[string]string{"Origin": "https://app.example", "Access-Control-Request-Method": "GET"}
		if req != "" {
			h["Access-Control-Request-Headers"] = req
		}
		r := ts.do(t, http.MethodOptions, "/v1/shape", h)
		wantStatus(t, r, 204)
		wantBody(t, r, "")
		wantHeader(t, r, "access-control-max-age", "86400")
		wantHeader(t, r, "connection", "keep-alive")
		wantNoHeader(t, r, "cache-control")
		if want == "" {
			wantNoHeader(t, r, "access-control-allow-headers")
		} else {
			wantHeader(t, r, "access-control-allow-headers", want)
		}
	}
	wantStatus(t, ts.do(t, http.MethodOptions, "/v1/health", nil), 404)
}

func TestHealthAndStatus(t *testing.T) {
	t.Parallel()
	ts := startServer(t, newFakeShapes("items"), nil)
	cases := []struct {
		state  string
		status int
		body   string
	}{
		{api.StateLive, 200, `{"status":"active"}`},
		{api.StateWaiting, 202, `{"status":"waiting"}`},
		{api.StateStarting, 202, `{"status":"starting"}`},
		{api.StateFallback, 202, `{"status":"fallback"}`},
		{"bogus", 202, `{"status":"starting"}`},
	}
	for _, c := range cases {
		ts.status.set(api.Status{State: c.state})
		r := ts.do(t, http.MethodGet, "/v1/health", nil)
		wantStatus(t, r, c.status)
		wantBody(t, r, c.body)
		wantHeader(t, r, "cache-control", "no-cache, no-store, must-revalidate")
		wantHeader(t, r, "content-type", "application/json; charset=utf-8")
		head := ts.do(t, http.MethodHead, "/v1/health", nil)
		wantStatus(t, head, c.status)
		wantBody(t, head, "")
	}

	ts.status.set(api.Status{State: api.StateFallback, Reasons: []string{"role lacks REPLICATION: grant REPLICATION to role app"},
		ReceivedLSN: 0x16B3748, DurableLSN: 0x1_0000_0010, AckedLSN: 0})
	r := ts.do(t, http.MethodGet, "/v1/status", nil)
	wantStatus(t, r, 200)
	wantBody(t, r, `{"state":"fallback","reasons":["role lacks REPLICATION: grant REPLICATION to role app"],"received_lsn":"0/16B3748","durable_lsn":"1/10","acked_lsn":"0/0"}`)
	wantHeader(t, r, "cache-control", "no-cache, no-store, must-revalidate")
	ts.status.set(api.Status{State: api.StateLive})
	wantBody(t, ts.do(t, http.MethodGet, "/v1/status", nil), `{"state":"live","reasons":[],"received_lsn":"0/0","durable_lsn":"0/0","acked_lsn":"0/0"}`)
}
