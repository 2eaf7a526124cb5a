// Package collector hosts the shape log collector (ARCHITECTURE §1.4
// "Collector / event router", after upstream's shape_log_collector.ex): the
// single serialization point of the replication stream on its way to the
// shapes.
//
// # What it owns
//
// The routes (subscribed shapes and their consumer PIDs), the filter index
// of their routing conditions (shapes/filter; each Subscribe carries one
// in Route, built by the wiring from the where clause), the transaction
// being routed, the commit-granularity de-duplication watermark and the
// flush tracker (replication/flush). Per event from the txn-builder: drop a
// fragment of a transaction already handled (commit LSN ≤ the last one, or
// before a position the tracker has seen); send Deliver{Seq, Fragment} to
// every shape whose condition the old or new row of one of the fragment's
// changes may satisfy (every shape of the table for a TRUNCATE, for the
// first change under a new relation so each consumer can compare it with
// its table, and for a newly subscribed shape the table's next change),
// plus, for the commit, every shape that got an earlier fragment of the
// transaction; wait for every Delivered — a consumer's Terminated counts as
// undeliverable: its shape is unsubscribed, unpinned and reported as
// protocol.ShapeInvalid — then tell the tracker about the commit and answer
// EventHandled. A shape that gets nothing of a transaction is neither
// waited for nor pinned by it: the tracker is told only about the shapes
// that received it, and a transaction that reached none is durable as soon
// as everything before it is; its consumer needs nothing, since its log
// and offsets do not change. A shape's first fragment of a transaction is delivered with
// HasBegin set (a shallow copy; changes stay shared) when the shape was
// subscribed before the transaction began, even if the earlier fragments
// had nothing for it: for the consumer, HasBegin means "you see this
// transaction from its start", and only a shape subscribed mid-transaction
// gets the rest without it. A transaction left open by a stream restart is aborted first
// (AbortTxn to the shapes that received part of it). WalEnd markers advance
// the tracker between transactions (B11).
//
// Acknowledgement (I3): when the tracker's position advances, the collector
// asks the store-writer to persist it (PersistAck, at most one outstanding);
// only AckPersisted — S|acked synced — makes it send AckLSN to the
// replication actor and record the durable position for /v1/status.
//
// Until the registry sends CollectorReady (after re-subscribing every stored
// shape's consumer), events are answered NotReady, so no transaction can
// slip past a shape that has not been subscribed again (I1).
//
// The decisions live in the pure router type, tested without actors; the
// actor only carries out its steps.
//
// # Imports
//
// Layer 2: it imports layers 0–1 (actors, shapes/protocol,
// replication/events, replication/lsn, replication/flush, shapes/filter),
// protoactor and zap. It never imports other layer-2 packages (the consumers and the
// writer are reached through PIDs), http, supervisor or chaos; only the
// wiring (supervisor) imports it.
package collector
