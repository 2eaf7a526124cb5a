// Package manager is conn-manager (ARCHITECTURE §1.4, "Connection
// manager"): it brings the replication side up step by step, supervises the
// connection children itself and decides what every failure means.
//
// The decisions are a pure state machine, Machine (events in, actions out,
// like raft's Step), tested as scripts without actors. The actor only
// carries the actions out: it spawns and stops its children with the kit,
// runs the injected replication setup in a goroutine it owns, arms retry
// timers, starts the shapes subsystem and reports conditions to status.
//
// Steps: admin-pool ready → lock held → replication setup (IDENTIFY_SYSTEM,
// server settings, publication, slot create-or-read; an injected
// ReplicationSetup) → snapshot-pool ready → shapes subsystem started, or
// reused (purged first when the slot is new) → txn-builder and replication
// spawned from the slot's acknowledged position → live once replication
// reports streaming. Failures are classified once, with pgwire.Diagnose:
// retryable ones back off 1 s → 10 s ±20 %, operator-needed and
// replication-impossible ones retry every 30–60 s and are reported with
// their remedy (A9, never exiting), slot-lost ones recreate the slot and
// purge. Losing the lock fences first: the stream stops before anything
// else happens (A4). A protocol.PipelineReset from the shapes side restarts
// the stream from the acknowledged position.
//
// The shapes subsystem is a sibling under pipeline (so losing Postgres
// never restarts it, ARCHITECTURE §1.2): conn-manager asks pipeline, a kit
// supervisor, to add it with actors.AddChild, and to remove it first with
// actors.RemoveChild when it must purge.
//
// Children report to conn-manager with protocol.Condition sent as a
// request (the sender tells which child, and which incarnation, spoke);
// conn-manager is its children's protoactor supervisor strategy, so it
// learns the typed failure reason before their Terminated.
//
// Layer 2 (components, ARCHITECTURE §2): it imports layers 0–1 (actors,
// shapes/protocol, replication/pgwire, replication/lsn) and protoactor. It
// never imports another layer-2 package: supervisor injects every child's
// spec and the replication setup function. Nothing in layers 0–1 or http/*
// may import it.
package manager
