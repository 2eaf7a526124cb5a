// Package flush computes the WAL position shapesync may acknowledge to
// Postgres as flushed: the end of the newest commit such that it and every
// earlier commit are durably stored by every shape that received them (I3,
// ARCHITECTURE §1.4 "Flush tracker", after upstream's flush_tracker.ex).
//
// The Tracker is told, in stream order, about each commit and the shapes it
// was delivered to, about idle keepalive positions (WalEnd markers), about
// each shape's durable progress and about shapes that went away. It answers
// with the position to acknowledge and with the shapes whose flushing has
// stalled. It is pure: no goroutines, no I/O, no clock (time is an argument).
// The collector actor owns one and serializes every call.
//
// Layer 1 (pure logic): it imports only the standard library and
// replication/lsn, never protoactor, badger, fasthttp, pglogrepl or anything
// that performs I/O. Layer 0 packages and the http packages must never import
// it.
package flush
