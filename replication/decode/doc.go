// Package decode turns pgoutput protocol-version-1 messages into the change
// model of replication/events: relation definitions, and transactions cut
// into Fragments of a bounded number of changes.
//
// It owns two things. Decode parses one XLogData payload and returns an error
// (never a panic) for a truncated or garbage frame; pglogrepl's decoders do no
// bounds checks, so Decode walks the frame layout first and keeps a recover as
// a last line of defence (GO_STACK §1.2, L4). Builder is the transaction state
// machine: it keeps the relation cache by OID, numbers changes 0, 2, 4, … in
// the order Postgres sent them (SHAPE_API §7.3), restores unchanged TOAST
// values from the old row (§12.3), rejects updates and deletes that arrive
// without the complete old row with a remedy naming REPLICA IDENTITY FULL
// (§22.2, B13), drops updates that change nothing (F6) and enforces the
// maximum transaction size (B7c).
//
// Builder is pure, like raft's Step: no goroutines, no I/O, no clock. The
// txn-builder actor in replication/decode/builder hosts it and owns recovery.
//
// Layer 1 (pure logic): it imports replication/lsn, replication/events and
// pglogrepl (message types and parsing) and never protoactor, badger,
// fasthttp, or anything that performs I/O. Layer 0 packages and the http
// packages must never import it.
package decode
