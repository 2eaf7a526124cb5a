// Package pool owns shapesync's two pgx connection pools (ARCHITECTURE §1.4,
// "Connection manager"): the admin pool (publication management, catalog
// reads, the lock breaker; clamp(n/4, 1, 4) connections) and the snapshot
// pool (every other connection; each runs the display settings of
// SHAPE_API §12.6 when it connects, so snapshot values render as the stream
// renders them).
//
// One owner actor per pool connects in a goroutine it owns (never in
// Receive), health-pings the pool, reports a readiness condition
// (protocol.Condition) to the status actor and to its parent, conn-manager,
// and publishes the *pgxpool.Pool through a View. The View is created once
// by the wiring and handed to every incarnation, so readers keep one
// pointer across restarts (ARCHITECTURE §1.1 principle 3); an incarnation
// withdraws its pool from the View and closes it, in a goroutine, when it
// stops. A failed first connection fails the actor with a
// pgwire-classified error, so conn-manager chooses the retry.
//
// Layer 2 (components, ARCHITECTURE §2): it imports layers 0–1 (actors,
// shapes/protocol, replication/pgwire), protoactor and pgx. It never
// imports another layer-2 package; supervisor injects its producers into
// conn-manager and its Views into the packages that read them. Nothing in
// layers 0–1 or http/* may import it.
package pool
