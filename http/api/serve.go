package api

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/shapesync/shapesync/replication/lsn"
	"github.com/valyala/fasthttp"
)

// serveShape is the GET/HEAD /v1/shape pipeline (SHAPE_API §9.1 step 1):
// authenticate → admit → validate → resolve → serve. Every stage either
// answers and returns or hands on.
func (h *Handler) serveShape(ctx *fasthttp.RequestCtx) {
	if !h.authenticate(ctx) {
		return
	}
	release, ok := h.admit(ctx)
	if !ok {
		return
	}
	defer release()

	r, invalid := parseShapeRequest(queryOf(ctx.QueryArgs()))
	if invalid != nil {
		writeInvalid(ctx, invalid)
		return
	}

	// Backend calls get their own context: fasthttp recycles ctx after the
	// handler returns, and its Done fires only at server shutdown.
	rctx, cancel := context.WithCancel(h.life)
	defer cancel()
	shape, err := h.shapes.GetOrCreate(rctx, r.def)
	if err != nil {
		h.backendError(ctx, &r, nil, err)
		return
	}
	// §6.3: a handle that is not the live incarnation of exactly this
	// definition gets a 409 naming the one that is.
	if !r.startsFresh() && r.handle != shape.Handle() {
		h.writeMustRefetch(ctx, &r, shape.Handle())
		return
	}
	if err := shape.WaitSnapshotStarted(rctx); err != nil {
		h.backendError(ctx, &r, shape, err)
		return
	}
	if r.now {
		h.serveNow(ctx, &r, shape)
		return
	}
	h.serveLog(ctx, rctx, &r, shape)
}

// authenticate is pipeline stage 1 (SHAPE_API §3): the secret check lands
// here, before any parameter validation, in a later issue. Until then the
// service behaves as with ELECTRIC_INSECURE=true. It answers the request
// itself when it returns false.
func (h *Handler) authenticate(*fasthttp.RequestCtx) bool { return true }

// admit is pipeline stage 2 (SHAPE_API §17): admission control takes a
// permit here, held until the response is complete, in a later issue. It
// answers the request itself when it returns false.
func (h *Handler) admit(*fasthttp.RequestCtx) (release func(), ok bool) { return func() {}, true }

// serveLog is §9.1 steps 3–9 and the waits of §8, §9.2 and §9.4. Each round
// takes the change channel BEFORE reading the extent (RELIABILITY E1): a
// change that lands after the read closes the channel, so the wait that
// follows returns at once.
func (h *Handler) serveLog(ctx *fasthttp.RequestCtx, rctx context.Context, r *shapeRequest, shape Shape) {
	var liveDeadline, holdDeadline, readyDeadline <-chan struct{}
	for {
		changed := shape.Changed()
		if shape.Invalidated() {
			h.writeInvalidated(ctx, r, shape)
			return
		}
		ext := shape.Extent()
		plan := planRead(r.offset, ext, shape.ChunkBoundaryAfter)

		switch plan.kind {
		case planOutOfBounds:
			if holdDeadline == nil {
				holdDeadline = h.wheel.After(h.cfg.LongPollTimeout / 2)
			}
			switch h.wait(ctx, changed, holdDeadline) {
			case waitWoke:
				continue
			case waitTimedOut:
				writeInvalid(ctx, InvalidParam("offset", msgOutOfBounds))
			default:
				h.answerStopped(ctx, r, shape, ext)
			}
			return
		case planNotReady:
			if readyDeadline == nil {
				d := h.cfg.SnapshotChunkTimeout
				if r.live {
					d = h.cfg.LongPollTimeout // stay well inside the client's 45 s watchdog
				}
				readyDeadline = h.wheel.After(d)
			}
			switch h.wait(ctx, changed, readyDeadline) {
			case waitWoke:
				continue
			case waitTimedOut:
				writeUnavailable(ctx, &UnavailableError{Message: "Timed out waiting for the shape's snapshot to be written, please retry", RetryAfter: time.Second, KnownError: true})
			default:
				h.answerStopped(ctx, r, shape, ext)
			}
			return
		}

		// §9.1 step 6: 304 before reading or waiting.
		tag := etag(shape.Handle(), r.offset.String(), plan.ce.String(), "")
		if ifNoneMatch(ctx.Request.Header.PeekAll(fasthttp.HeaderIfNoneMatch), tag) {
			h.writeLogHeaders(ctx, r, shape, plan, tag, fasthttp.StatusNotModified)
			return
		}
		n, err := h.readChunk(ctx, rctx, r, shape, ext, plan)
		if err != nil {
			ctx.Response.ResetBody()
			h.backendError(ctx, r, shape, err)
			return
		}
		if n == 0 && r.live {
			ctx.Response.ResetBody()
			if liveDeadline == nil {
				liveDeadline = h.wheel.After(h.cfg.LongPollTimeout)
			}
			switch h.wait(ctx, changed, liveDeadline) {
			case waitWoke:
				continue
			case waitTimedOut:
				h.writeLiveTimeout(ctx, r, shape, ext, true)
			default:
				h.writeLiveTimeout(ctx, r, shape, ext, false)
			}
			return
		}
		ctx.SetContentType(contentTypeJSON)
		h.writeLogHeaders(ctx, r, shape, plan, tag, fasthttp.StatusOK)
		return
	}
}

// readChunk writes the body of a 200: the entries in (req, ce] and, when
// upToDate, the up-to-date control message. It returns how many log entries
// it wrote.
func (h *Handler) readChunk(ctx *fasthttp.RequestCtx, rctx context.Context, r *shapeRequest, shape Shape, ext Extent, plan readPlan) (int, error) {
	ctx.Response.ResetBody()
	ctx.Response.AppendBodyString("[")
	n := 0
	if r.offset.Less(plan.ce) {
		err := shape.Read(rctx, r.offset, plan.ce, func(item []byte) error {
			if n > 0 {
				ctx.Response.AppendBodyString(",")
			}
			ctx.Response.AppendBody(item)
			n++
			return nil
		})
		if err != nil {
			return 0, err
		}
	}
	if plan.upToDate {
		// §9.1 step 9: ce.tx for live requests, max(lsnG, ce.tx) otherwise.
		seen := plan.ce.Tx
		if !r.live {
			seen = max(h.lastSeen(ext), seen)
		}
		if n > 0 {
			ctx.Response.AppendBodyString(",")
		}
		ctx.Response.AppendBody(upToDateMessage(seen))
	}
	ctx.Response.AppendBodyString("]")
	return n, nil
}

// writeLogHeaders sets the status and headers of a 200 or 304 shape response
// (§10). A 304 carries what the 200 would, except the schema.
func (h *Handler) writeLogHeaders(ctx *fasthttp.RequestCtx, r *shapeRequest, shape Shape, plan readPlan, tag string, status int) {
	ctx.SetStatusCode(status)
	rh := &ctx.Response.Header
	rh.Set("cache-control", h.cfg.cacheControl(status, true, r))
	rh.Set("etag", `"`+tag+`"`)
	rh.Set("electric-handle", shape.Handle())
	rh.Set("electric-offset", plan.ce.String())
	rh.Set("electric-has-data", "true")
	if plan.upToDate {
		rh.Set("electric-up-to-date", "")
	}
	if r.live {
		rh.Set("electric-cursor", h.cursor(r))
	} else if status == fasthttp.StatusOK {
		rh.SetBytesV("electric-schema", shape.SchemaJSON())
	}
}

// writeLiveTimeout answers a long-poll that saw nothing new (§9.2): 200
// [up-to-date] at the requested offset with a never-matching ETag, or 503
// when the service is not healthy at that moment (checkHealth false at
// shutdown: parked requests then always get up-to-date).
func (h *Handler) writeLiveTimeout(ctx *fasthttp.RequestCtx, r *shapeRequest, shape Shape, ext Extent, checkHealth bool) {
	if checkHealth {
		if st := h.status.Status(); !st.serving() {
			writeUnavailable(ctx, Unavailable(unhealthyMessage(st), 10*time.Second))
			return
		}
	}
	h.writeNoData(ctx, r, shape, r.offset, ext)
}

// serveNow answers offset=now (§9.3) once the snapshot is complete, so the
// client continues live from a real end of the log.
func (h *Handler) serveNow(ctx *fasthttp.RequestCtx, r *shapeRequest, shape Shape) {
	var deadline <-chan struct{}
	for {
		changed := shape.Changed()
		if shape.Invalidated() {
			h.writeInvalidated(ctx, r, shape)
			return
		}
		ext := shape.Extent()
		if ext.SnapshotDone {
			h.writeNoData(ctx, r, shape, ext.End, ext)
			return
		}
		if deadline == nil {
			deadline = h.wheel.After(h.cfg.SnapshotChunkTimeout)
		}
		switch h.wait(ctx, changed, deadline) {
		case waitWoke:
			continue
		case waitTimedOut:
			writeUnavailable(ctx, &UnavailableError{Message: "Timed out waiting for the shape's snapshot to be written, please retry", RetryAfter: time.Second, KnownError: true})
		default:
			writeUnavailable(ctx, shuttingDown())
		}
		return
	}
}

// writeNoData writes a data-less 200 ([up-to-date]) at offset: the long-poll
// timeout and offset=now responses, whose ETag carries a nonce (§11.3).
func (h *Handler) writeNoData(ctx *fasthttp.RequestCtx, r *shapeRequest, shape Shape, offset lsn.LogOffset, ext Extent) {
	requested := r.offset.String()
	if r.now {
		requested = "now"
	}
	nonce := strconv.FormatUint(h.nonces.Add(1), 10)
	rh := &ctx.Response.Header
	rh.Set("cache-control", h.cfg.cacheControl(fasthttp.StatusOK, true, r))
	rh.Set("etag", `"`+etag(shape.Handle(), requested, offset.String(), nonce)+`"`)
	rh.Set("electric-handle", shape.Handle())
	rh.Set("electric-offset", offset.String())
	rh.Set("electric-has-data", "false")
	rh.Set("electric-up-to-date", "")
	if r.live {
		rh.Set("electric-cursor", h.cursor(r))
	} else {
		rh.SetBytesV("electric-schema", shape.SchemaJSON())
	}
	body := append([]byte("["), upToDateMessage(h.lastSeen(ext))...)
	writeJSON(ctx, fasthttp.StatusOK, "", append(body, ']'))
}

// answerStopped ends a held request at shutdown: live requests get the
// ordinary up-to-date answer, others a 503 to retry elsewhere.
func (h *Handler) answerStopped(ctx *fasthttp.RequestCtx, r *shapeRequest, shape Shape, ext Extent) {
	if r.live {
		h.writeLiveTimeout(ctx, r, shape, ext, false)
		return
	}
	writeUnavailable(ctx, shuttingDown())
}

// writeInvalidated answers 409 for a shape invalidated while served or held
// (§6.3), with the replacement's handle if one exists already.
func (h *Handler) writeInvalidated(ctx *fasthttp.RequestCtx, r *shapeRequest, old Shape) {
	newHandle := ""
	if cur, ok := h.shapes.Current(r.def); ok && !cur.Invalidated() && (old == nil || cur.Handle() != old.Handle()) {
		newHandle = cur.Handle()
	}
	h.writeMustRefetch(ctx, r, newHandle)
}

// backendError maps an error from Shapes or Shape to its response (§16).
func (h *Handler) backendError(ctx *fasthttp.RequestCtx, r *shapeRequest, shape Shape, err error) {
	var invalid *InvalidRequestError
	var unavailable *UnavailableError
	switch {
	case errors.As(err, &invalid):
		writeInvalid(ctx, invalid)
	case errors.As(err, &unavailable):
		writeUnavailable(ctx, unavailable)
	case errors.Is(err, ErrShapeInvalidated):
		h.writeInvalidated(ctx, r, shape)
	case h.isStopping() && errors.Is(err, context.Canceled):
		writeUnavailable(ctx, shuttingDown())
	default:
		h.internalError(ctx, err)
	}
}

type waitResult int

const (
	waitWoke waitResult = iota
	waitTimedOut
	waitStopped
)

// wait parks the request until the shape changes, the deadline passes or the
// server stops. Shutdown wins over a deadline that fires with it (Shutdown
// stops the wheel, which closes every deadline).
func (h *Handler) wait(ctx *fasthttp.RequestCtx, changed, deadline <-chan struct{}) waitResult {
	select {
	case <-changed:
		return waitWoke
	case <-deadline:
		if h.isStopping() {
			return waitStopped
		}
		return waitTimedOut
	case <-h.stopping:
		return waitStopped
	case <-ctx.Done(): // closes only at fasthttp server shutdown
		return waitStopped
	}
}

func (h *Handler) isStopping() bool {
	select {
	case <-h.stopping:
		return true
	default:
		return false
	}
}

// lastSeen is lsnG, falling back to the shape's end (§9).
func (h *Handler) lastSeen(ext Extent) uint64 {
	if g := h.shapes.LastSeenLSN(); g != 0 {
		return g
	}
	if ext.SnapshotDone {
		return ext.End.Tx
	}
	return 0
}

func (h *Handler) cursor(r *shapeRequest) string {
	return nextCursor(h.cfg.Now(), h.cfg.LongPollTimeout, r.cursor, h.cfg.CursorJitter)
}

func upToDateMessage(globalLastSeen uint64) []byte {
	b := append([]byte(nil), `{"headers":{"control":"up-to-date","global_last_seen_lsn":"`...)
	b = strconv.AppendUint(b, globalLastSeen, 10)
	return append(b, `"}}`...)
}

func shuttingDown() *UnavailableError {
	return Unavailable("The server is shutting down, please retry", 5*time.Second)
}

func unhealthyMessage(st Status) string {
	msg := "The service is not ready (state: " + knownState(st.State) + ")"
	for i, reason := range st.Reasons {
		if i == 0 {
			msg += ": "
		} else {
			msg += "; "
		}
		msg += reason
	}
	return msg + ", please retry"
}
