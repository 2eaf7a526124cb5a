package api

import (
	"bytes"
	"encoding/json"
	"strconv"

	"github.com/valyala/fasthttp"
	"go.uber.org/zap"
)

const contentTypeJSON = "application/json; charset=utf-8"

// Fixed bodies.
var (
	bodyMustRefetch = []byte(`[{"headers":{"control":"must-refetch"}}]`)
	bodyInternal    = []byte(`{"error":"Internal server error"}`)
)

// writeJSON sets status, cache-control (none when empty) and a JSON body.
// Error statuses other than 409 also get surrogate-control: no-store.
func writeJSON(ctx *fasthttp.RequestCtx, status int, cacheControl string, body []byte) {
	ctx.SetStatusCode(status)
	ctx.SetContentType(contentTypeJSON)
	if cacheControl != "" {
		ctx.Response.Header.Set("cache-control", cacheControl)
	}
	if status >= 400 && status != fasthttp.StatusConflict {
		ctx.Response.Header.Set("surrogate-control", surrogateNoStoreVal)
	}
	ctx.SetBody(body)
}

func writeNotFound(ctx *fasthttp.RequestCtx) {
	ctx.SetStatusCode(fasthttp.StatusNotFound)
	ctx.SetContentType("text/plain; charset=utf-8")
	ctx.Response.Header.Set("cache-control", cacheNoStore)
	ctx.Response.Header.Set("surrogate-control", surrogateNoStoreVal)
	ctx.SetBodyString("Not found")
}

// invalidBody renders {"message":"Invalid request","errors":{…}} without
// HTML escaping, so messages keep their exact text.
func invalidBody(e *InvalidRequestError) []byte {
	return marshalNoEscape(struct {
		Message string              `json:"message"`
		Errors  map[string][]string `json:"errors"`
	}{"Invalid request", e.Errors})
}

func writeInvalid(ctx *fasthttp.RequestCtx, e *InvalidRequestError) {
	writeJSON(ctx, fasthttp.StatusBadRequest, cacheNoStore, invalidBody(e))
}

func writeUnavailable(ctx *fasthttp.RequestCtx, e *UnavailableError) {
	ctx.Response.Header.Set("retry-after", strconv.Itoa(e.retryAfterSeconds()))
	if e.KnownError {
		ctx.Response.Header.Set("electric-internal-known-error", "true")
	}
	writeJSON(ctx, fasthttp.StatusServiceUnavailable, cacheNoStore, marshalNoEscape(struct {
		Code    string `json:"code,omitempty"`
		Error   string `json:"error,omitempty"`
		Message string `json:"message,omitempty"`
	}{e.Code, e.ErrorText, e.Message}))
}

// writeMustRefetch answers 409 (§6.3, §12.4), naming the shape the client
// should restart from when it is known.
func (h *Handler) writeMustRefetch(ctx *fasthttp.RequestCtx, r *shapeRequest, newHandle string) {
	if newHandle != "" {
		ctx.Response.Header.Set("electric-handle", newHandle)
	}
	writeJSON(ctx, fasthttp.StatusConflict, h.cfg.cacheControl(fasthttp.StatusConflict, newHandle != "", r), bodyMustRefetch)
}

// internalError logs err and answers a bare 500: never a stack trace or an
// error text in the body (§16).
func (h *Handler) internalError(ctx *fasthttp.RequestCtx, err error) {
	h.log.Error("request failed", zap.ByteString("method", ctx.Method()), zap.ByteString("path", ctx.URI().PathOriginal()), zap.Error(err))
	ctx.Response.Header.Del("electric-handle")
	ctx.Response.Header.Del("etag")
	writeJSON(ctx, fasthttp.StatusInternalServerError, cacheNoStore, bodyInternal)
}

func marshalNoEscape(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return bodyInternal // only maps/structs of strings reach here
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}
