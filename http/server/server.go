package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/valyala/fasthttp"
	"go.uber.org/zap"
)

// App is what a Server serves; http/api's Handler implements it.
type App interface {
	// Handle answers one request.
	Handle(ctx *fasthttp.RequestCtx)
	// SetCommonHeaders adds the headers every response must carry (CORS and
	// the like). The server calls it after Handle returns, and again after
	// a recovered panic has replaced the response.
	SetCommonHeaders(ctx *fasthttp.RequestCtx)
	// Shutdown makes parked requests answer now; the server calls it before
	// it stops accepting.
	Shutdown()
}

// Config holds the listener settings. Start from DefaultConfig.
type Config struct {
	// ReadTimeout bounds reading one whole request (ELECTRIC_TCP_READ_TIMEOUT);
	// IdleTimeout bounds a keep-alive connection waiting for the next one.
	// Neither counts the time a handler holds a long-poll.
	ReadTimeout, IdleTimeout time.Duration
	// WriteTimeout is the absolute deadline for writing a response once the
	// handler returned (ELECTRIC_TCP_SEND_TIMEOUT): it closes connections of
	// clients that stop reading (RELIABILITY E4).
	WriteTimeout time.Duration
	// Concurrency caps open connections, parked long-polls included; beyond
	// it fasthttp answers 503 and closes.
	Concurrency int
	// MaxRequestBodySize rejects larger bodies with 413 (§26: 8,000,000).
	MaxRequestBodySize int
	// MaxURIBytes rejects longer request targets with 414 (RELIABILITY F1:
	// 8 KB). Long where clauses travel in the URL, so the read buffer holds
	// such a target plus ordinary headers (ReadBufferSize).
	MaxURIBytes int
	// ReadBufferSize bounds the request line and headers together; a
	// request that does not fit gets 431. It is allocated per connection
	// being read, parked long-polls included.
	ReadBufferSize int
	// Logger receives panics with stacks and fasthttp's own errors; nil
	// means no logging.
	Logger *zap.Logger
}

// DefaultConfig returns the defaults of SHAPE_API §23 and GO_STACK §1.4.
func DefaultConfig() Config {
	return Config{
		ReadTimeout:        60 * time.Second,
		IdleTimeout:        60 * time.Second,
		WriteTimeout:       30 * time.Second,
		Concurrency:        256 * 1024,
		MaxRequestBodySize: 8_000_000,
		MaxURIBytes:        8 << 10,
		ReadBufferSize:     16 << 10,
	}
}

// Server is one fasthttp listener serving an App.
type Server struct {
	srv    *fasthttp.Server
	maxURI int // 0: no limit but the read buffer
	app    App
	ids    *requestIDs
}

// New builds a server for app. Call Serve to start it and Shutdown to stop.
func New(cfg Config, app App) *Server {
	log := cfg.Logger
	if log == nil {
		log = zap.NewNop()
	}
	s := &Server{app: app, ids: newRequestIDs(), maxURI: cfg.MaxURIBytes}
	s.srv = &fasthttp.Server{
		Handler:               s.envelope(recoverPanics(app.Handle, log)),
		ReadTimeout:           cfg.ReadTimeout,
		IdleTimeout:           cfg.IdleTimeout,
		WriteTimeout:          cfg.WriteTimeout,
		Concurrency:           cfg.Concurrency,
		MaxRequestBodySize:    cfg.MaxRequestBodySize,
		ReadBufferSize:        cfg.ReadBufferSize,
		NoDefaultServerHeader: true, // electric-server is the product header (§2)
		NoDefaultContentType:  true, // 204/304/empty 200 carry none
		CloseOnShutdown:       true,
		Logger:                fasthttpLogger{log.Named("fasthttp")},
		ErrorHandler:          s.parseError,
	}
	return s
}

// Serve accepts connections on ln until Shutdown; it then returns nil.
func (s *Server) Serve(ln net.Listener) error {
	if err := s.srv.Serve(ln); err != nil {
		return fmt.Errorf("serve HTTP on %s: %w", ln.Addr(), err)
	}
	return nil
}

// Shutdown answers parked long-polls (App.Shutdown), stops accepting, and
// waits for open connections to finish until ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	s.app.Shutdown()
	if err := s.srv.ShutdownWithContext(ctx); err != nil {
		return fmt.Errorf("shut down HTTP server: %w", err)
	}
	return nil
}

// envelope gives every response its request id and the App's common
// headers, whatever happened inside next.
func (s *Server) envelope(next fasthttp.RequestHandler) fasthttp.RequestHandler {
	return func(ctx *fasthttp.RequestCtx) {
		id := s.ids.forRequest(ctx)
		ctx.SetUserValue(requestIDKey{}, id)
		if s.maxURI > 0 && len(ctx.RequestURI()) > s.maxURI {
			s.reject(ctx, fasthttp.StatusRequestURITooLong, fmt.Sprintf(`{"error":"Request URI too long: %d bytes; the limit is %d"}`, len(ctx.RequestURI()), s.maxURI))
			return
		}
		next(ctx)
		s.app.SetCommonHeaders(ctx)
		ctx.Response.Header.Set("x-request-id", id)
	}
}

// parseError answers requests fasthttp could not read (oversized header or
// body, read timeout, garbage) with a JSON error that still carries the
// common headers: every response gets CORS (SHAPE_API §4) and errors are
// never cached (RELIABILITY I9).
func (s *Server) parseError(ctx *fasthttp.RequestCtx, err error) {
	var small *fasthttp.ErrSmallBuffer
	var netErr net.Error
	status, body := fasthttp.StatusBadRequest, `{"error":"Malformed request"}`
	switch {
	case errors.Is(err, fasthttp.ErrBodyTooLarge):
		status, body = fasthttp.StatusRequestEntityTooLarge, `{"error":"Request body too large"}`
	case errors.As(err, &small):
		status, body = fasthttp.StatusRequestHeaderFieldsTooLarge, `{"error":"Request header too large"}`
	case errors.As(err, &netErr) && netErr.Timeout():
		status, body = fasthttp.StatusRequestTimeout, `{"error":"Request timeout"}`
	}
	s.reject(ctx, status, body)
}

// reject answers with a JSON error that is never cached and still carries
// the app's common headers.
func (s *Server) reject(ctx *fasthttp.RequestCtx, status int, body string) {
	ctx.Response.Reset()
	ctx.SetStatusCode(status)
	ctx.SetContentType("application/json; charset=utf-8")
	ctx.Response.Header.Set("cache-control", "no-store")
	ctx.Response.Header.Set("surrogate-control", "no-store")
	ctx.SetBodyString(body)
	s.app.SetCommonHeaders(ctx)
	ctx.Response.Header.Set("x-request-id", s.ids.forRequest(ctx))
}

type fasthttpLogger struct{ log *zap.Logger }

func (l fasthttpLogger) Printf(format string, args ...any) {
	l.log.Warn(fmt.Sprintf(format, args...))
}
