package server

import (
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"sync/atomic"

	"github.com/valyala/fasthttp"
	"go.uber.org/zap"
)

var bodyInternalError = []byte(`{"error":"Internal server error"}`)

// recoverPanics turns a panic in next into 500 {"error":"Internal server
// error"} with no-store (SHAPE_API §16, RELIABILITY A11). The stack goes to
// the log, never into the body; the partly built response is discarded.
func recoverPanics(next fasthttp.RequestHandler, log *zap.Logger) fasthttp.RequestHandler {
	return func(ctx *fasthttp.RequestCtx) {
		defer func() {
			p := recover()
			if p == nil {
				return
			}
			log.Error("panic in HTTP handler",
				zap.Any("panic", p),
				zap.ByteString("method", ctx.Method()),
				zap.ByteString("path", ctx.URI().PathOriginal()), // never the query: it may hold the secret
				zap.String("request_id", RequestID(ctx)),
				zap.Stack("stack"))
			ctx.Response.Reset()
			ctx.SetStatusCode(fasthttp.StatusInternalServerError)
			ctx.SetContentType("application/json; charset=utf-8")
			ctx.Response.Header.Set("cache-control", "no-store")
			ctx.Response.Header.Set("surrogate-control", "no-store")
			ctx.SetBody(bodyInternalError)
		}()
		next(ctx)
	}
}

type requestIDKey struct{}

// RequestID returns the id the server gave the request ("" outside one).
func RequestID(ctx *fasthttp.RequestCtx) string {
	id, _ := ctx.UserValue(requestIDKey{}).(string)
	return id
}

// requestIDs hands out x-request-id values: a sane incoming one is kept (a
// proxy's id then joins both logs), otherwise a per-process random prefix
// plus a counter, unique without a syscall per request.
type requestIDs struct {
	prefix string
	next   atomic.Uint64
}

func newRequestIDs() *requestIDs {
	var b [6]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return &requestIDs{prefix: hex.EncodeToString(b[:])}
}

func (r *requestIDs) forRequest(ctx *fasthttp.RequestCtx) string {
	if in := ctx.Request.Header.Peek("X-Request-Id"); validRequestID(in) {
		return string(in)
	}
	return r.prefix + "-" + strconv.FormatUint(r.next.Add(1), 36)
}

// validRequestID accepts 8–200 characters of [A-Za-z0-9._-], so an id that
// reaches logs and headers cannot carry separators or control bytes.
func validRequestID(b []byte) bool {
	if len(b) < 8 || len(b) > 200 {
		return false
	}
	for _, c := range b {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}
