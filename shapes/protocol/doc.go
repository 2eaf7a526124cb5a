// Package protocol holds every message that actors of the data path send
// one another: the replication side (WAL batches, events, acks), the shape
// side (subscriptions, deliveries, appends, flush reports, snapshots) and
// status conditions. Layer-2 packages never import one another; they talk
// only through these types and PIDs (ARCHITECTURE §2).
//
// Conventions: every request that expects an answer carries a Seq (and an
// Epoch where the sender can be re-spawned) that the reply echoes, so a
// reply to a dead incarnation is recognised and dropped. Messages are
// immutable once sent: slices and pointers they hold are never written
// again by the sender.
//
// Layer 0: it imports only replication/lsn, replication/events and actors
// (for PID).
package protocol
