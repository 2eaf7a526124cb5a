// Package publication owns shapesync's edits of its Postgres publication
// (SHAPE_API §22.3, RELIABILITY C4, C6, C7): adding a shaped table together
// with REPLICA IDENTITY FULL in one short-lock transaction, dropping a table
// no shape uses any more, listing the members for reconciliation, the
// manual-mode check that alters nothing, and Refs, the per-table reference
// count the publication actor keeps to decide when SQL is needed.
//
// The procedures are plain functions run by the goroutine an actor owns
// (ARCHITECTURE §1.1): they block on Postgres and hold no state between
// calls. Every user object is named through shapes/where's quoting; values
// are bound parameters. Errors are typed (LockTimeoutError,
// PermissionError, ManualSetupError, TableChangedError,
// PublicationMissingError) and each has SQLState(), so callers that may not
// import this package classify them by SQLSTATE alone.
//
// Layer 2 (ARCHITECTURE §2): it may import layers 0–1 (replication/events,
// replication/pgwire, shapes/where), pgx and protoactor; it never imports
// another layer-2 package, http/*, supervisor or chaos, and no layer 0–1
// package may import it.
package publication
