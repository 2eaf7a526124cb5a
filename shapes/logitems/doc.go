// Package logitems turns replication changes and snapshot rows into the JSON
// log items of the Shape API (SHAPE_API §12, §13): change messages with their
// headers, snapshot rows, row keys, control messages (up-to-date,
// snapshot-end, must-refetch) and the electric-schema header.
//
// The output is a pure function of the input: the same change always gives
// the same bytes, so a replay after a restart rewrites identical log items
// (I2). Encoding is on the hot path (every change of every shape passes
// through it), so the encoder precomputes everything that depends only on the
// shape and appends into reusable buffers.
//
// Keys are built from a canonical text (bool "true"/"false" → "t"/"f", inet
// without a full-length mask) so a row's key is byte-identical in the
// snapshot and in the stream (SHAPE_API §12.5, §25.2); relation names inside
// keys are written verbatim by one function used on every path (§25.3).
//
// Layer 1 (pure logic): it imports only the standard library,
// replication/lsn and replication/events. It must never import protoactor,
// badger, fasthttp, actors or shapes/protocol, and it starts no goroutines.
// Components (consumer, snapshotter, HTTP handlers) import it; no layer-0
// package may.
package logitems
