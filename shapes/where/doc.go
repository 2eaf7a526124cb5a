// Package where owns the where-clause language of shapes (SHAPE_API §20)
// and the one place that turns shape definitions into SQL text: identifiers
// are quoted here, values are always bound parameters, never concatenated.
//
// Parse reads a clause with libpg_query's grammar (as the predicate of
// "SELECT 1 WHERE …", after our own size, depth, comment and
// statement-separator checks) into a typed AST of a deny-by-default
// subset; Check types it against the root table's columns with Postgres's
// implicit casts and literal/parameter inference; Eval evaluates it on a
// row of text values with Postgres semantics (three-valued logic, strict
// NULLs, overflow and division-by-zero errors, exact numeric, floats and
// their output as float8out prints them, byte-wise text ordering (CheckWith
// rejects ordering under other collations and folds case by the
// database's ctype), date/time types as Postgres 15 computes them under
// the display settings of SHAPE_API §12.6, arrays as array_in reads them,
// enums by label equality, and the planner's constant folding, which
// decides which rows raise errors); SQL renders the same AST for snapshot
// queries. Eval and Postgres agree by differential tests on random rows and
// expressions.
//
// Two analyses serve the rest of the service: Normalize gives a clause's
// identity for shape definitions (parse-tree equality), and IndexTerms its
// indexable structure for the collector's routing index.
//
// Layer 1 (pure): it may import layer-0 leaves (not actors or
// shapes/protocol), pg_query_go and apd; never pgx, protoactor, badger or
// fasthttp. Its tests use pgx and replication/pgcluster/pgtest.
package where
