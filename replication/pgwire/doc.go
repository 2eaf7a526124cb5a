// Package pgwire holds what every Postgres connection of shapesync shares and
// that needs no I/O of its own: the one error classification (Classify,
// Diagnose: retryable, replication-impossible, operator-needed, slot-lost,
// each with a remedy an operator can act on), the names of the publication
// and the slot (SHAPE_API §22.1) with their validation and quoting, the
// display settings every value-producing connection runs (SHAPE_API §12.6),
// and the connection configuration per role: application_name,
// replication=database for the replication connection, per-address connect
// timeouts, address-family ordering, TCP keepalive and TCP_USER_TIMEOUT
// (ARCHITECTURE §1.4, "Connection manager").
//
// Layer 1 (pure logic, ARCHITECTURE §2). It may import layer 0 packages
// except actors and shapes/protocol, and pgx's pgconn/pgproto3 types; it
// never imports protoactor, badger or fasthttp and starts no goroutines (the
// dial function runs on the caller's goroutine). Nothing in http/* may import
// it (it reaches pgx).
package pgwire
