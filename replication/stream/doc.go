// Package stream owns the replication connection once it is set up: the
// start-up steps on it (IDENTIFY_SYSTEM, server settings, publication, slot
// create-or-read, display settings, START_REPLICATION; SHAPE_API §22.2) and
// the WAL pump, the one goroutine that reads and writes the connection
// afterwards (ARCHITECTURE §1.4, "Replication client").
//
// The pump is plain Go that an actor owns (ARCHITECTURE §1.1 principle 1):
// the actor runs Pump.Run in a goroutine it starts, passes the durable ack
// with SetAcked (latest wins), returns credit with Credit, and kills a stuck
// pump by cancelling its context and closing the socket. The pump hands
// downstream raw, copied pgoutput payloads with their WAL positions and the
// keepalive wal_end markers, in the order received; decoding them is
// replication/decode's job, and the wiring connects the two.
//
// What the pump guarantees: the flush position it reports is only ever a
// value given to SetAcked (or the slot's start), never 0 and never
// decreasing, also in replies to keepalives (I3, B5); status updates go out
// every KeepaliveInterval even while reading is paused for want of credit
// (B4); at most Window batches are delivered and not yet credited (I10);
// a silent server ends Run after WatchdogTimeout of reading.
//
// Layer 2 (components, ARCHITECTURE §2). It may import layers 0–1
// (replication/lsn, replication/pgwire), pgx and pglogrepl. It does not
// import protoactor, actors or any other layer-2 package; nothing in layers
// 0–1 or http/* may import it.
package stream
