// Package builder hosts the txn-builder actor (ARCHITECTURE §1.4,
// "Transaction builder"): it receives WAL batches from the replication
// actor, turns them into events with replication/decode's pure Builder, and
// hands the events to the collector one at a time.
//
// The flow control is a pure Queue, tested without actors: batches are
// tagged with a stream epoch (a newer epoch discards the partial
// transaction and every pending batch of the older one; batches of an older
// epoch are dropped), items are decoded lazily one at a time, exactly one
// protocol.Event is in flight until the collector answers EventHandled, and
// a batch's credit (protocol.BatchDone) goes back to its sender once every
// event decoded from it has been handled. The actor only carries out what
// the Queue returns: it sends the event (as a request, so an undeliverable
// one comes back as a dead-letter response), retries after a timer when the
// collector answers NotReady or is not there yet, and fails when the
// collector dies with an event in flight or the stream cannot be decoded;
// conn-manager then restarts the stream from the acknowledged position.
//
// Layer 2 (components, ARCHITECTURE §2): it imports layers 0–1 (actors,
// shapes/protocol, replication/decode, replication/events, replication/lsn,
// replication/pgwire) and protoactor. It never imports another layer-2
// package; supervisor injects its producer into conn-manager. Nothing in
// layers 0–1 or http/* may import it.
package builder
