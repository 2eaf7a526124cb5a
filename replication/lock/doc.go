// Package lock holds the advisory lock that makes one shapesync instance the
// only streamer of a replication slot (ARCHITECTURE §1.4, "Advisory-lock
// holder"; RELIABILITY A4–A6, invariant "one streamer per slot").
//
// The lock is pg_try_advisory_lock(hashtext('<slot>')), the key Electric
// uses, so the two never share a slot. It is held on a dedicated
// connection opened with replication=database: poolers pass such a
// connection straight through, so the session lock is real, and
// IDENTIFY_SYSTEM proves it is a walsender. When the server refuses
// replication connections (no REPLICATION attribute, max_wal_senders = 0,
// no pg_hba replication line) the lock is held on a plain session from the
// same URL instead, so fallback mode can still create shapes (G1).
//
// Everything that touches the connection runs in one goroutine the actor
// owns: it polls every 1–2 s until the lock is granted (reporting the
// holder's pid from pg_locks meanwhile, so the service shows waiting), then
// runs SELECT 1 every 5 s. A heartbeat answered later than 5 s is a miss;
// two misses in a row, a missing answer after two timeouts, or any error
// end the goroutine, and the actor reports the lock lost and fails:
// conn-manager fences (stops the stream) before it re-spawns the holder. The
// actor also kills a goroutine that has gone quiet. Stopping the actor
// closes the socket, which frees the lock (A5). D2 wants the lock freed
// last, after the final acknowledgement; that order is up to whoever stops
// conn-manager's children.
//
// The actor reports protocol.CondLock ("lock_held") to the status actor and
// to its parent (as a request, so conn-manager knows which child spoke).
//
// Layer 2 (components, ARCHITECTURE §2): it imports layers 0–1 (actors,
// shapes/protocol, replication/pgwire), protoactor, pgx and pglogrepl. It
// never imports another layer-2 package; supervisor injects its producer
// into conn-manager. Nothing in layers 0–1 or http/* may import it.
package lock
