// Package service runs the real shapesync binary as a child process, so
// integration and chaos tests (RELIABILITY B5, D1, D2, D4, I3, the
// end-to-end test with the official client) can SIGKILL, SIGTERM, SIGSTOP
// and restart it the way an operator or a crash would, and read its health
// and status over HTTP.
//
// # Building
//
// A test binary builds each (package, tags, race) combination once and
// reuses the result. The cache lives in a [Builds] value that the test
// package owns, so this package has no mutable package-level state:
//
//	var builds service.Builds // in a _test.go file
//
//	func TestMain(m *testing.M) {
//		code := m.Run()
//		builds.Close() // removes the binaries
//		os.Exit(code)
//	}
//
//	bin := builds.Build(t, service.BuildOptions{Tags: []string{"faults"}})
//
// The package defaults to ./cmd/shapesync, resolved against the module
// root (the nearest go.mod above the working directory). A test binary that
// dies before Close leaves its build directory behind; the next Build in any
// test binary removes directories whose owning process is gone.
//
// # Running
//
// [Start] launches the binary with its output captured, waits until
// GET /v1/health answers at all (any status: "the listener is up", not
// "ready"), and registers a cleanup that stops it. Use
// [Process.WaitHealthy] to wait for a particular health status, and
// Options.NoReadyWait with [Process.Wait] for a service meant to exit by
// itself (a misconfiguration, a fault hook's "exit" action).
//
// The child's environment is the test's environment minus every variable
// the service reads (ELECTRIC_*, SHAPESYNC_*, DATABASE_URL, LOG_LEVEL, …),
// so a developer's shell cannot change a test, plus:
//
//	ELECTRIC_PORT         Options.Port, or a free port
//	ELECTRIC_ADMIN_PORT   Options.AdminPort, or a free port (Process.AdminURL)
//	ELECTRIC_STORAGE_DIR  Options.StorageDir, or a fresh temporary directory
//	ELECTRIC_INSECURE     true, unless Options.Env sets ELECTRIC_SECRET
//
// and finally Options.Env, which overrides all of the above. Fault hooks of
// a binary built with tag "faults" are set through Options.Env too:
// SHAPESYNC_FAULTS=<point>:<action>[,…] (ARCHITECTURE §4 (i)).
//
// Free ports are found by binding 127.0.0.1:0 and releasing the port
// ([FreePort]); another process may take it before the child binds it. When
// the child exits during start-up reporting "address already in use" and
// at least one of its ports was chosen by the harness, Start picks those
// again and tries once more. [Process.Restart] keeps the ports, so it fails
// instead.
//
// The child runs in its own process group with Pdeathsig SIGKILL, so a test
// binary that crashes does not leave the service running. (Pdeathsig follows
// the thread that forked the child; the harness forks from a goroutine that
// keeps its OS thread locked until the child has exited.) The cleanup sends
// SIGTERM and SIGCONT, escalates to SIGKILL after Options.StopTimeout,
// kills whatever is left in the child's process group, and fails the test
// if the service ignored SIGTERM or left processes behind after a graceful
// exit. When the test has failed, the captured output is written to the
// test log.
//
// # Polling
//
// [Eventually] polls a condition until it holds or a deadline passes and
// fails with the last error, in place of sleeps.
//
// # Layering
//
// Layer 4 (ARCHITECTURE §2, programs and helpers): it may import anything;
// it uses only the standard library and replication/lsn. Layers 0–3 must
// never import it; only tests, chaos/* and cmd/chaos do.
package service
