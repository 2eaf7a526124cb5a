// Package consumer hosts the per-shape consumer actor (label
// consumer-<handle>, ARCHITECTURE §1.4 "Consumers", after upstream's
// shapes/consumer.ex): it turns the transaction fragments the collector
// delivers into the shape's log items and appends them through the
// store-writer.
//
// # What it owns
//
// The shape's snapshot visibility (SHAPE_API §22.4), the fragments buffered
// while that visibility is unknown (bounded, 64 MiB by default, beyond which
// the shape is invalidated), the log item held back until it is known to be
// its transaction's last for this shape (so `last: true` can be set with
// logitems.MarkLast), and the replay floor: transactions whose commit LSN is
// at or below the durable committed offset are replays after a restart and
// emit nothing (I2).
//
// Per Deliver, once the visibility is known: a transaction visible in the
// snapshot (while filtering lasts) emits nothing; the first one whose xid is
// at or after xmax ends filtering for good; the others are encoded change by
// change with offsets (commit LSN, op). A transaction whose first fragment
// reaches this consumer without HasBegin is one the shape joined mid-way
// (the collector marks a shape's first fragment of a transaction as its
// begin whenever the shape was subscribed before the transaction began).
// It must be visible in the snapshot — pgoutput v1 sends a transaction only
// after it committed, so it committed before the subscription and hence
// before the snapshot — otherwise the shape is invalidated. Every commit fragment gives
// an Append with a CommitMark, with or without items, so the writer reports
// flushes in commit order and the flush tracker never waits forever. Delivered
// is answered once the writer Accepted the append (I1); while the snapshot
// is unknown it is answered at once, and the flush tracker keeps the
// acknowledged position behind the buffered transactions (I3).
//
// A TRUNCATE, a relation whose columns differ from the shape's table, a
// buffer overflow or a failed snapshot invalidates the shape: the consumer
// reports protocol.ShapeInvalid and stops; the collector then unsubscribes
// it.
//
// The conversion is a pure type (converter) tested without actors; the
// actor only queues, sends and answers.
//
// # Imports
//
// Layer 2: it imports layers 0–1 (actors, shapes/protocol, shapes/logitems,
// replication/events, replication/lsn), protoactor and zap. It never imports
// other layer-2 packages (the collector, the writer and the registry are
// PIDs), http, supervisor or chaos; only the wiring imports it.
package consumer
