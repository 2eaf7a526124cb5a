// Package actors is the actor kit every shapesync actor is built with: a
// thin layer over github.com/asynkron/protoactor-go/actor that adds what
// protoactor lacks or gets wrong for this design (ARCHITECTURE §4):
// declared mailbox bounds with overflow policies, owned goroutines with
// epochs and kill-without-waiting, our own supervisors (one-for-one,
// one-for-all, rest-for-one, exponential backoff that never gives up,
// escalation), ordered shutdown with a deadline, an inspection registry
// for the dashboard, and protoactor's logs routed into zap.
//
// # Layer and imports
//
// Layer 0 (ARCHITECTURE §2). It imports only the standard library,
// protoactor-go and zap (with zap/exp/zapslog); it must never import
// another shapesync package. It may be imported by every package that
// hosts actors (the layer-2 components, supervisor/status,
// telemetry/sampler), by supervisor (the wiring), by shapes/protocol (for
// the PID type only), and by cmd and chaos. Layer-1 pure logic and http/*
// must never import it: it reaches protoactor.
//
// # The kit
//
// One Kit per process owns the actor system; all state hangs off it:
//
//	kit := actors.NewKit(log)                         // protoactor logs as "protoactor"
//	stack, err := kit.SpawnRoot(actors.ChildSpec{
//		Label: "stack", Producer: actors.Supervisor(stackSpec),
//		Bound: actors.Count(64), Policy: actors.Credit,
//	})
//	…
//	if stuck := kit.Shutdown(ctx); stuck != nil { /* logged; exit anyway */ }
//
// # Spawning
//
// Every actor is spawned through the kit with a label, a producer, a
// bound and a policy: Kit.Spawn(label, producer, bound, policy) or
// Kit.SpawnRoot(spec) for top-level actors, a Supervisor's ChildSpec list
// or AddChild for supervised children, Kit.SpawnChild(ctx, spec) for an
// actor that manages children itself. The PID id is "<parent>/<label>",
// so a re-spawn keeps the id peers address.
//
// Each spawn builds fresh Props: an actor.Unbounded mailbox whose
// middleware (a depth gauge) is new for this incarnation — Unbounded shares
// its middleware slice with every mailbox its Props produce (GO_STACK
// P14) — the kit's receiver middleware, and the kit's protoactor strategy,
// whose decider is Stop: a failing actor is never restarted in place with
// its old mailbox; it stops, its parent receives *actor.Terminated, and a
// kit supervisor re-spawns it. Roots get the same strategy as their
// guardian, so protoactor's default "10 failures in 10 s, then stop for
// good" never applies (GO_STACK P15); a failing root is logged, reported
// through WithRootFailure and not restarted (roots are supervisors that
// never escalate, so their failure is a bug).
//
// # Bounds and policies
//
// A Bound is a message count (Count), bytes with a size function (Bytes)
// or a function of the actor's state (Dynamic, e.g. "#shapes + 64"; it runs
// on sender goroutines, so read an atomic). protoactor's Bounded (senders
// spin) and BoundedDropping (loses messages) mailboxes are never used.
// The gauge counts user messages only, including the one being handled.
//
//   - Credit: a protocol window between the stages keeps the mailbox
//     within its bound. Rising above it is a bug: one error log per
//     episode and ActorInfo.Overflows; the message is still delivered.
//   - Shed: senders call Kit.TrySend (or TryRequest), which returns false
//     once the bound is reached; the HTTP caller answers 503 with
//     Retry-After. TrySend reserves capacity with its own atomic counter
//     before it looks at the mailbox (protoactor's MessagePosted runs before
//     the push, P10), so concurrent senders are never admitted past the
//     bound; near the bound they may be refused slightly early. An actor
//     between incarnations keeps shedding until it is re-spawned.
//   - Coalesce: senders call Kit.Coalesce with a message implementing
//     Coalescable (CoalesceKey() string). At most one message per key is
//     pending: a newer value replaces the pending one, which is handled at
//     the first one's position. The actor receives plain values; the kit
//     swaps its token for the latest value in the receiver middleware.
//     Above the bound is a bug, as for Credit.
//
// # Owned goroutines and Kill
//
// A Receive never blocks (GO_STACK P1): no pgx, no badger Sync, no
// network. An actor that needs blocking I/O keeps a *Goroutines in its
// state (kit.Goroutines(ctx) in Started) and starts each goroutine with
// Go(name, fn). fn gets a *Task: a context, its Epoch, SetCloser to
// register the socket Kill must close, and Send to post results to the
// owner — the goroutine never touches the actor.Context. A return arrives
// as *Exited, a panic (recovered, stack logged) as *Failed, both tagged with
// the epoch; handle them with Reap(epoch), which reports false for stale
// ones. Tag your own result messages with the epoch and drop them unless
// IsCurrent(epoch). Epochs are unique across incarnations (a kit-wide
// counter), so results of a dead incarnation's goroutine that re-resolve
// to its successor are stale there too.
//
// Kill(name) cancels the context, closes the registered closer, forgets
// the goroutine and returns without waiting; the goroutine's blocking call
// fails and it exits on its own, reporting nothing. The kit kills every
// goroutine of an incarnation when it stops. Calls that cannot be
// interrupted (badger Sync) must be bounded by a timeout inside fn.
//
// # Supervisors
//
// Supervisor(spec) produces a supervisor over an ordered list of
// ChildSpecs. Its Strategy decides which children a permanent child's
// termination affects: OneForOne (itself), OneForAll (everyone),
// RestForOne (itself and the later ones). The affected children still
// running are stopped; once all of them have terminated and the backoff
// of the failed child elapsed (a timer that messages the supervisor; it
// never sleeps), they are re-spawned in spec order, each after the
// previous one's Started handler returned. The initial start is
// sequential in the same way, as OTP's is.
//
// Backoff(min, max, jitter, resetAfter) doubles per consecutive failure
// from min, caps at max, takes up to jitter of the delay off at random and
// resets after the child ran resetAfter without failing; it never gives
// up. EscalateAfter(n, window) makes the supervisor fail (panic with an
// *EscalationError) when more than n terminations fall within window, so
// its own parent handles it; protoactor never escalates on its own (P3).
// The zero Escalation never escalates (stack).
//
// A supervisor learns of its children's deaths through protoactor's
// parent notification, which delivers *actor.Terminated for every child
// without an explicit Watch (a Watch would deliver it twice); it learns why
// a child failed by being the protoactor strategy of its children
// (it implements actor.SupervisorStrategy). Stale notifications about an
// earlier incarnation are rejected by PID identity.
//
// Beyond the static list: AddChild{Spec} adds a dynamic child (answered
// with *ChildAdded when sent as a request); RemoveChild{Label} stops one
// for good (answered with *ChildRemoved after it terminated). A child with
// Restart: Temporary is never re-spawned and its termination is reported
// to spec.Watcher as *ChildExited{Reason} (nil after a clean stop); it is
// stopped, not re-spawned, when a sibling's group restarts.
// SupervisorSpec.AfterRestart runs in the supervisor once a restart group
// is running again (shapes → PipelineReset). An actor that supervises its
// children itself (conn-manager) spawns them with Kit.SpawnChild and
// implements actor.SupervisorStrategy; it receives their Terminated.
//
// # Re-spawn semantics
//
// A re-spawn is a new incarnation under the same PID id: fresh actor
// state from the producer, fresh mailbox and gauge, fresh coalesce slots.
// User messages still queued in the dead incarnation's mailbox are never
// delivered (protoactor suspends the mailbox at the panic and drops it at
// stop); messages sent while no incarnation exists go to dead letters
// (Watch peers you wait on); a PID value held by a peer re-resolves by id,
// so later sends reach the successor. Views handed to the producer by the
// wiring outlive incarnations (§4 (a)); an incarnation updates them.
//
// # Shutdown
//
// Kit.Shutdown(ctx) stops the roots in reverse spawn order, each waited
// for through *actor.Terminated. A supervisor stops its children one at a
// time — SupervisorSpec.StopOrder first, then reverse start order — waits
// for each, recursing into child supervisors, and then stops itself. The
// wait is bounded by ctx (or WithShutdownTimeout, 10 s by default) rather
// than protoactor's hard-coded 10 s futures; on the deadline Shutdown logs
// and returns the ids of the actors that did not stop.
//
// # Inspection
//
// Kit.Snapshot() lists every kit actor (ActorInfo: label, parent, kind,
// state starting/running/restarting/stopped, mailbox depth, load,
// high-water, bound and policy, overflows, restarts with the last reason
// and time, uptime), fed by spawns, the mailbox gauge and the kit's
// middleware; reads take a read lock and atomics. Restart statistics
// survive re-spawns; actors that are neither roots nor supervised are
// forgotten when they stop.
//
// # Logging and middleware
//
// protoactor's slog output goes to the kit's zap core under the name
// "protoactor" (zapslog.WithName). Every actor gets a receiver middleware
// that logs a panic's stack and re-panics (protoactor logs no stack) and
// warns when a Receive takes longer than 100 ms (WithSlowReceive changes the
// threshold and adds a hook; tests make it fail the test).
//
// # Testing
//
// ForTesting() shortens protoactor's dead-letter throttle to 1 ms, whose
// goroutine otherwise outlives goleak's patience (P16); use it with
// goleak.VerifyTestMain in packages that host actors.
package actors
