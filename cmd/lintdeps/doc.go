// Command lintdeps enforces the import layers of ARCHITECTURE §2; `make
// lint-deps` runs it as `go run ./cmd/lintdeps`.
//
// It loads the non-test import graph with `go list -e -deps -json ./...`
// (once for the default build and once with -tags faults, where the fault
// hooks live), checks it against the layer table in table.go, prints one line
// per violation, naming the importer, the forbidden package, the rule and
// the import chain that reaches it:
//
//	http/api: must not import github.com/jackc/pgx/v5/pgconn (http/... must never reach pgx, even transitively): http/api -> replication/pgwire -> github.com/jackc/pgx/v5/pgconn
//
// and exits 1; it exits 0 silently when the graph is clean, and 2 when it
// cannot load the graph (a package that does not parse, an unresolvable
// import). Packages of the table that do not exist yet are simply absent; a
// project package the table does not know is a violation ("add it to the
// layer table").
//
// The rules, precisely (Check):
//
//   - Project packages: every import of a project package must be one its
//     row allows. As every package is checked, whatever a package reaches is
//     then within the transitive closure of its row (a leaf that may import
//     actors reaches actors/faults through it); the bans that the closure
//     does not imply are checked over every path (below).
//   - Restricted modules (protoactor, pgx, pglogrepl, badger, fasthttp,
//     pg_query_go, the Prometheus client_golang; any /vN): the third-party
//     column is an allow-list for a package's direct imports. A restricted
//     module reached through an unrestricted third-party module counts as
//     direct (no laundering through a wrapper); one reached through another
//     project package is that package's import, judged there; one reached
//     through a restricted module the package may import does not count
//     (protoactor itself imports the Prometheus client, so actors and every
//     actor-hosting package reach it; only telemetry/metrics may import it).
//   - Never-reach bans, over every path: layer 1 never reaches protoactor,
//     badger or fasthttp; http/* never reaches protoactor, pgx, pglogrepl or
//     badger.
//   - Layers 0–3 never import chaos/* or replication/pgcluster(/pgtest);
//     layer-2 packages never import one another; only cmd/* imports the
//     package supervisor (exactly: supervisor/status is layer 2), and
//     chaos/* and pgcluster never reach it, not even through a cmd/*
//     package.
//   - A transitive violation is reported once, at the package whose own
//     import causes it, not again for every package above it.
//
// The structure: Check is a pure function over a Graph (table tests on
// synthetic graphs); run and loadGraph are the thin shell around go list.
//
// Layer 4 (cmd/*): it imports only the standard library and must not be
// imported.
package main
