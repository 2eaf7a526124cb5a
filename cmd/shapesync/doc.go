// Command shapesync runs the sync service: it loads the configuration from
// environment variables and flags (SHAPE_API §23; --help lists them),
// starts the supervision tree and the HTTP listener, and stops everything
// in order on SIGTERM or SIGINT.
//
// Without DATABASE_URL it runs in embedded mode: a private Postgres cluster
// under ./.shapesync/pg (started from the system's server binaries through
// replication/pgcluster), with a demo table `items`.
//
// Layer 4: it may import anything; nothing imports it.
package main
