// Package where owns the where-clause language of shapes (SHAPE_API §20)
// and the one place that turns shape definitions into SQL text: identifiers
// are quoted here, values are always bound parameters, never concatenated.
//
// Today it holds the identifier quoting used by every SQL statement that
// names a user table; the parser, type checker and evaluator come with the
// where-clause issue.
//
// Layer 1 (pure): it may import layer-0 leaves (not actors or
// shapes/protocol), pg_query_go and apd; never pgx, protoactor, badger or
// fasthttp.
package where
