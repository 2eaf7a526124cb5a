// Package api serves the Shape HTTP API (SHAPE_API.md): routing on the
// normalised path (§2), CORS and preflight (§4), parameter validation with
// the exact 400 bodies (§5), shape resolution and 409s (§6.3), chunk-bounded
// reads (§8), the serving algorithm with long-poll, out-of-bounds hold and
// offset=now (§9), response headers (§10), caching, ETag/304 and the live
// cursor (§11), and /v1/health and /v1/status (§19).
//
// Everything the handler knows about shapes and the service comes through the
// small interfaces declared in backend.go (Shapes, Shape, StatusView). They are
// consumer-owned: the wiring (supervisor/cmd) implements them on top of the
// shape registry and storage and injects them. The serving logic of §8/§9 —
// chunk ends, up-to-date, ETags, waiting — lives here; the backend only
// answers facts.
//
// Layer 3 (http/*). It may import replication/lsn, http/longpoll, fasthttp,
// zap and the standard library. It must never import, even transitively,
// protoactor, pgx, pglogrepl or badger, nor actors, shapes/protocol or any
// layer-2 package. Only http/server, supervisor and cmd import it.
package api
