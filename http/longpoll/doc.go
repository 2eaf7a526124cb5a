// Package longpoll holds the parking primitives of live Shape API requests
// (SHAPE_API §9.2, ARCHITECTURE §1.4 "HTTP layer"):
//
//   - Notifier: one per shape. A channel that is closed and replaced on every
//     advance, so one close wakes every parked request at once, with no
//     per-waiter registration and nothing to clean up when a waiter leaves.
//     It implements exactly the Changed() contract of http/api.Shape, so the
//     adapter that implements that interface can embed one per shape.
//   - Wheel: a coarse timer wheel (100 ms buckets by default). Requests whose
//     deadlines fall into the same bucket share one channel, so ten thousand
//     parked long-polls cost a handful of timers, not ten thousand.
//
// Layer 3 (http/*). It imports only the standard library and must never
// import protoactor, pgx, pglogrepl, badger, actors, shapes/protocol or any
// layer-2 package. By the layer table (ARCHITECTURE §2) only layer 3 and up
// (http/*, supervisor, cmd) may import it; since it is pure stdlib, moving
// Notifier into a leaf would be the way to let layer 2 share it.
package longpoll
