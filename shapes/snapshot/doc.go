// Package snapshot owns the initial snapshot of a shape (SHAPE_API §22.4,
// ARCHITECTURE §1.4 "Snapshotter"):
//
//   - LookupTable reads what a shape needs to know about its table from the
//     catalog; CheckGeneratedColumns rejects columns the stream cannot carry.
//   - SelectSQL / SelectWhereSQL build the query that reads rows as text,
//     the form pgoutput sends (SHAPE_API §12.6).
//   - ConfigurePool prepares the snapshot pool: display settings on every
//     connection, cancel requests for abandoned queries.
//   - Run is the procedure: publication membership and the straddle guard,
//     a REPEATABLE READ READ ONLY transaction whose first statement takes
//     the pg_current_snapshot() that decides which stream transactions the
//     shape skips, rows streamed in batches under credit, snapshot-end.
//     It is a plain function with its collaborators passed in Deps; the
//     snapshot actor runs it on a goroutine it owns and turns the calls
//     into messages.
//   - ParsePgSnapshot reads pg_snapshot's text form.
//   - Error and Kind say how a failed snapshot is answered (400, 409, 503).
//
// Layer 2: it may import layers 0–1, pgx and protoactor; it never imports
// other layer-2 packages (replication/publication is reached through
// Deps.EnsurePublished and classified by SQLSTATE), http/*, supervisor or
// chaos. SQL text is built only from identifiers quoted by shapes/where;
// values are bound.
package snapshot
