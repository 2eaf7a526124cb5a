// Package status owns the service's readiness: the conditions reported by
// the rest of the tree (store open, metadata loaded, database reachable,
// advisory lock held, replication streaming, …), the state derived from them
// (starting, waiting, live, fallback; SHAPE_API §19) and the View through
// which HTTP reads that state without sending a message.
//
// The derivation is a pure function (Derive); the status actor only records
// Condition messages and publishes the result. The View is created once by
// the wiring and handed to every incarnation of the actor, so a restart of
// `status` never leaves readers with a stale pointer (ARCHITECTURE §1.1.3).
//
// Layer 2: it may import layer 0–1 packages (lsn, actors, shapes/protocol)
// and protoactor; it must never import other layer-2 packages, http/*,
// supervisor or chaos.
package status
