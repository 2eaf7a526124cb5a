// Package pgcluster starts private PostgreSQL clusters from the server
// binaries on the machine: for tests (through pgtest), the chaos harness and
// embedded mode. It is the one way shapesync starts a Postgres server.
//
//	c, err := pgcluster.Start(ctx, pgcluster.Options{})
//	defer c.Destroy(ctx)
//	conn, err := pgx.Connect(ctx, c.DSN("postgres"))
//
// What a cluster is:
//
//   - initdb -E UTF8 --locale=C -U postgres --auth=trust (with LANG unset
//     initdb would pick SQL_ASCII), only when the data directory is new; an
//     initialised directory is reused as is, so embedded mode keeps its data.
//   - The server listens on 127.0.0.1 and on a private unix socket
//     directory; trust auth for the superuser postgres; wal_level=logical,
//     max_wal_senders=10 and max_replication_slots=10 unless Options.Settings
//     says otherwise. Settings are passed as -c on every start, so the data
//     directory's configuration files are never edited.
//   - The postmaster is started directly (not through pg_ctl) as a child with
//     Pdeathsig SIGKILL, from a goroutine locked to its OS thread for the
//     server's lifetime (Pdeathsig follows the forking thread): a test binary
//     that crashes leaves no server behind.
//   - The port is free when chosen; when the server still reports EADDRINUSE
//     the start is retried on another port (Options.Port 0 only).
//   - Stop is SIGINT (fast) or SIGQUIT (immediate) and a wait; Kill is
//     SIGKILL to the postmaster, then to any process of the cluster still
//     alive, and a wait until none is (ServerPIDs).
//
// Running as root: Postgres refuses root, so the directories are chowned to
// the user postgres and initdb, pg_resetwal and postgres run as that user
// (SysProcAttr.Credential). Every existing parent of the data and socket
// directories must be searchable by it; otherwise Start fails with an
// *AccessError naming the directory (t.TempDir() and /root are 0700). That
// is why, without Options.Dir, the cluster lives in its own 0755 directory
// os.TempDir()/pgcluster-*. Run directories left by a process that died
// without cleaning up are removed by a later Start.
//
// Missing binaries: Start and FindBinaries fail with an error wrapping
// ErrNoBinaries that names the Debian package (apt-get install -y
// postgresql). SHAPESYNC_PG_BINDIR or Options.BinDir point elsewhere.
//
// The API takes no *testing.T; pgtest wraps it for tests.
//
// Layer 4 (ARCHITECTURE §2): it may import anything; it imports pgx and
// replication/lsn. Layers 0–3 must never import it (only their _test.go
// files may); cmd/*, chaos/* and test helpers do.
package pgcluster
