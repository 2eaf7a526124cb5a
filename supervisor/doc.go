// Package supervisor is the wiring of shapesync's supervision tree
// (ARCHITECTURE §1.2): it names every supervisor and child, their order,
// strategies, backoffs, bounds and policies, and injects into each child the
// views, PIDs and producers it needs. It holds no logic of its own beyond
// that assembly; the supervision mechanics live in actors/.
//
//	stack   one-for-one, re-spawn backoff 1 s→30 s, never escalates (I7)
//	└─ core rest-for-one, 5 restarts in 60 s ⇒ escalate
//	   └─ status
//
// Layer 3: it may import layers 0–2 and protoactor. Nothing imports this
// package but cmd/.
package supervisor
