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
// The replication actor (label "replication", ChildSpec, Producer) hosts
// the pump for conn-manager: its wal-pump goroutine connects, starts the
// stream from the slot's acknowledged position and runs the pump; each
// batch goes to the txn-builder as a protocol.WalBatch tagged with the
// goroutine's epoch (which grows across incarnations, so the builder drops
// a dead stream's leftovers) and a sequence number; BatchDone of the
// current epoch returns the credit; protocol.AckLSN (coalesced, latest
// wins) moves the flush position forward only. Once the server speaks, the
// actor reports protocol.CondReplication to status and, as a request, to
// its parent. A pump error fails the actor with the classified error, so
// conn-manager, its protoactor strategy, learns the reason; a stop kills
// the goroutine (cancel, close the socket) without waiting. Setup is the
// replication setup conn-manager runs before spawning it.
//
// Layer 2 (components, ARCHITECTURE §2). It may import layers 0–1
// (replication/lsn, replication/pgwire, actors, shapes/protocol), pgx,
// pglogrepl and protoactor (it hosts an actor). It never imports another
// layer-2 package (the wiring converts conn-manager's setup result into an
// ActorConfig); nothing in layers 0–1 or http/* may import it.
package stream
