package api

import (
	"context"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shapesync/shapesync/http/longpoll"
	"github.com/valyala/fasthttp"
	"go.uber.org/zap"
)

// Config holds the handler's settings. Start from DefaultConfig.
type Config struct {
	// LongPollTimeout is how long a live request is held (ELECTRIC_LONG_POLL_TIMEOUT,
	// §9.2); out-of-bounds offsets are held half of it (§9.4). Its whole
	// seconds are also the live cursor interval (§11.4).
	LongPollTimeout time.Duration
	// SnapshotChunkTimeout bounds the wait of a non-live request for a
	// snapshot chunk that is still being written (§8); then 503.
	SnapshotChunkTimeout time.Duration
	// CacheMaxAge and CacheStaleAge are the seconds of §11.1 rule 8
	// (ELECTRIC_CACHE_MAX_AGE, ELECTRIC_CACHE_STALE_AGE).
	CacheMaxAge, CacheStaleAge int
	// ServerName is the electric-server header value, "<product>/<version>".
	ServerName string
	// Now is the clock of the live cursor; nil means time.Now.
	Now func() time.Time
	// CursorJitter returns the random cursor step in [1, 3600]; nil means
	// math/rand.
	CursorJitter func() int64
	// Logger receives failures (500s) and is never given secrets; nil means
	// no logging.
	Logger *zap.Logger
}

// DefaultConfig returns the defaults of SHAPE_API §23.
func DefaultConfig() Config {
	return Config{
		LongPollTimeout:      20 * time.Second,
		SnapshotChunkTimeout: 30 * time.Second,
		CacheMaxAge:          60,
		CacheStaleAge:        300,
		ServerName:           "shapesync",
	}
}

// Handler serves every route of the public listener. Create it with
// NewHandler; call Shutdown when the server stops.
type Handler struct {
	cfg    Config
	shapes Shapes
	status StatusView
	log    *zap.Logger
	wheel  *longpoll.Wheel

	life     context.Context // parent of every backend call; cancelled by Shutdown
	cancel   context.CancelFunc
	stopping chan struct{} // closed by Shutdown: parked requests answer now
	stopOnce sync.Once

	nonces atomic.Uint64 // ETag nonces for responses without data
}

// NewHandler returns a handler serving shapes from shapes and health/status
// from status.
func NewHandler(cfg Config, shapes Shapes, status StatusView) *Handler {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.CursorJitter == nil {
		cfg.CursorJitter = func() int64 { return 1 + rand.Int64N(maxCursorJitter) }
	}
	if cfg.ServerName == "" {
		cfg.ServerName = "shapesync"
	}
	log := cfg.Logger
	if log == nil {
		log = zap.NewNop()
	}
	life, cancel := context.WithCancel(context.Background())
	h := &Handler{
		cfg: cfg, shapes: shapes, status: status, log: log,
		wheel: longpoll.NewWheel(longpoll.DefaultTick),
		life:  life, cancel: cancel, stopping: make(chan struct{}),
	}
	// Nonces start at the wall clock so they differ across restarts too.
	h.nonces.Store(uint64(time.Now().UnixNano()))
	return h
}

// Shutdown makes every parked long-poll answer at once (up-to-date, as on a
// timeout), cancels backend calls in flight, and makes later live requests
// answer without waiting. Call it before the server stops accepting so parked
// requests do not hold the shutdown up. Idempotent.
func (h *Handler) Shutdown() {
	h.stopOnce.Do(func() {
		close(h.stopping)
		h.cancel()
		h.wheel.Stop()
	})
}

// Handle is the fasthttp request handler for the public listener.
func (h *Handler) Handle(ctx *fasthttp.RequestCtx) {
	rt := routeOf(ctx.URI().PathOriginal())
	defer h.setCommonHeaders(ctx, rt)
	get := ctx.IsGet() || ctx.IsHead()
	switch {
	case rt == routeRoot && get:
		ctx.SetStatusCode(fasthttp.StatusOK)
	case rt == routeShape && get:
		h.serveShape(ctx)
	case rt == routeShape && ctx.IsOptions():
		h.servePreflight(ctx)
	case rt == routeShape && ctx.IsDelete():
		// Deletion is off until it is configurable (§18: disabled → 405).
		writeJSON(ctx, fasthttp.StatusMethodNotAllowed, cacheNoCache, []byte(`{"message":"DELETE not allowed"}`))
	case rt == routeShape && ctx.IsPost():
		writeJSON(ctx, fasthttp.StatusBadRequest, cacheNoCache, invalidBody(InvalidParam("method", msgNotSupportedYet)))
	case rt == routeHealth && get:
		h.serveHealth(ctx)
	case rt == routeStatus && ctx.IsGet():
		h.serveStatus(ctx)
	default:
		writeNotFound(ctx)
	}
}

// SetCommonHeaders adds the headers every response carries (CORS of §4,
// Vary: Origin, electric-server). Handle calls it itself; a middleware that
// rewrites a response (panic recovery) calls it again afterwards.
func (h *Handler) SetCommonHeaders(ctx *fasthttp.RequestCtx) {
	h.setCommonHeaders(ctx, routeOf(ctx.URI().PathOriginal()))
}

// exposedHeaders is §4's list plus electric-snapshot (a deliberate addition).
const exposedHeaders = "electric-cursor,electric-handle,electric-has-data,electric-offset,electric-schema,electric-up-to-date,electric-internal-known-error,retry-after,electric-snapshot"

func (h *Handler) setCommonHeaders(ctx *fasthttp.RequestCtx, rt route) {
	rh := &ctx.Response.Header
	if origin := ctx.Request.Header.Peek("Origin"); len(origin) > 0 {
		rh.SetBytesV("access-control-allow-origin", origin)
	} else {
		rh.Set("access-control-allow-origin", "*")
	}
	if rt == routeShape {
		rh.Set("access-control-allow-methods", "GET, POST, HEAD, DELETE, OPTIONS")
	} else {
		rh.Set("access-control-allow-methods", "GET, HEAD")
	}
	rh.Set("access-control-expose-headers", exposedHeaders)
	rh.Set("vary", "Origin")
	rh.Set("electric-server", h.cfg.ServerName)
}

// servePreflight answers OPTIONS /v1/shape (§4, §26): 204, no cache-control,
// and only if-none-match / traceparent echoed from the requested headers.
func (h *Handler) servePreflight(ctx *fasthttp.RequestCtx) {
	ctx.SetStatusCode(fasthttp.StatusNoContent)
	rh := &ctx.Response.Header
	rh.Set("access-control-max-age", "86400")
	rh.Set("connection", "keep-alive")
	var allowed []string
	for _, v := range ctx.Request.Header.PeekAll("Access-Control-Request-Headers") {
		for _, name := range strings.Split(string(v), ",") {
			name = strings.TrimSpace(name)
			if strings.EqualFold(name, "if-none-match") || strings.EqualFold(name, "traceparent") {
				allowed = append(allowed, name)
			}
		}
	}
	if len(allowed) > 0 {
		rh.Set("access-control-allow-headers", strings.Join(allowed, ","))
	}
}
