// Package pgtest wraps pgcluster for tests: a cluster per test, or one
// cluster per test binary shared by its tests, and a fresh database per
// test so tests can share a cluster cheaply.
//
// Per test (the cluster is destroyed by t.Cleanup, which also runs when the
// test fails or panics; a failed test logs the server's recent output):
//
//	c := pgtest.Start(t, pgcluster.Options{})
//
// Per test binary: the shared cluster lives in a value the test file owns,
// started on first use and destroyed when m.Run returns, so the helper
// package itself holds no state and packages whose selected tests need no
// Postgres start none:
//
//	var pg pgtest.Shared // in a _test.go file
//
//	func TestMain(m *testing.M) { os.Exit(pg.Run(m)) }
//
//	func TestX(t *testing.T) {
//		dsn := pg.CreateDatabase(t) // fresh database, dropped at cleanup
//	}
//
// If the test binary dies without returning from m.Run, Pdeathsig stops the
// shared server and the next pgcluster.Start removes its directory.
//
// Layer 4 test helper (ARCHITECTURE §2): it imports testing, pgcluster and
// pgx. Only _test.go files may import it; no non-test package may.
package pgtest
