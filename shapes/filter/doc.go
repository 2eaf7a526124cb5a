// Package filter owns the routing index of the collector (ARCHITECTURE §1.4,
// after upstream shapes/filter.ex): for a change on a table it returns the
// shapes whose condition matches the old or the new row, without evaluating
// every shape of the table.
//
// A shape's condition is described by a small tree (Condition) that the
// wiring derives from the where-clause AST: All (no where clause), Eq
// (col = const), In (col IN (…), col = ANY(const array)), Contains
// (array col @> const array), And, Or, and Residual (anything else, carried
// as a compiled predicate). The index stores, per table, a tree of nodes:
//
//   - Eq and In terms go into a hash index column → canonical text → child
//     node; the remaining terms of an And are placed into that child, so
//     conjunctions of equalities nest (tenant = 1 AND id = 7 costs two map
//     look-ups however many shapes share tenant = 1).
//   - Contains terms go into an inclusion index column → element → child;
//     the row's array is parsed once and each distinct element is looked up.
//   - Or is split into branches, each placed on its own; a shape reached by
//     several branches is reported once.
//   - Residual terms are kept in a per-node list and evaluated only for rows
//     that reached the node, after every indexable term above them held.
//
// Routing cost therefore grows with the number of matching shapes, the
// number of distinct indexed columns and the residual list, not with the
// number of equality shapes. Updates match old ∪ new row; a TRUNCATE (and a
// relation message, which the caller routes through AllOf) reaches every
// shape of the table.
//
// Exactness: Affected returns exactly the shapes s for which
// Matches(cond(s), old) or Matches(cond(s), new) holds, Matches being the
// reference semantics in condition.go (a NULL never equals anything). Eq, In
// and Contains compare canonical text byte for byte, so the wiring may only
// emit them for types whose text form is canonical (integers, text, uuid,
// bool, …) and must fall back to Residual otherwise. A Residual predicate
// should answer true when it cannot decide (an evaluation error): the
// consumer evaluates the full where clause again, so a superset only costs
// work, while a false negative loses a change.
//
// An Index is not safe for concurrent use: the collector actor owns it and
// calls it from its Receive. It starts no goroutines and does no I/O.
//
// Layer 1 (pure logic): it imports only the standard library and
// replication/events. It must never import protoactor, badger, fasthttp,
// actors, shapes/protocol or shapes/where (the wiring translates where ASTs
// into Conditions). The collector imports it; no layer-0 package may.
package filter
