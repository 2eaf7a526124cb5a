// Package server runs the fasthttp listeners of shapesync (ARCHITECTURE §1.4
// "HTTP layer", GO_STACK §1.4): server construction with the timeouts and
// limits the specs ask for, and the middleware every response passes
// through — request ids (x-request-id), panic recovery (500 with no-store,
// the stack in the log and never in the body) and the application's common
// headers, re-applied after a recovered panic so CORS is never lost.
// Shutdown first lets the application answer its parked long-polls, then
// stops accepting and waits for open connections.
//
// Layer 3 (http/*). It imports fasthttp, zap and the standard library; what
// it serves (http/api's Handler) reaches it through the App interface. It
// must never import, even transitively, protoactor, pgx, pglogrepl or
// badger, nor actors, shapes/protocol or any layer-2 package. Only
// supervisor and cmd import it.
package server
