// Package bench holds end-to-end benchmarks of the real shapesync binary
// against a private Postgres (PERFORMANCE.md). Each benchmark measures
// against a baseline taken in the same run: BenchmarkIdleShapeMemory (W9)
// compares the service's memory with N idle shapes to the same process
// with none.
//
// Run one iteration; the benchmarks take minutes, not nanoseconds:
//
//	go test -run '^$' -bench BenchmarkIdleShapeMemory -benchtime 1x ./chaos/bench/
//
// Layer 4 (ARCHITECTURE §2): test files only; they import chaos/service,
// replication/pgcluster(/pgtest) and pgx. Nothing imports this package.
package bench

import (
	"fmt"
	"os"
	"testing"

	"github.com/shapesync/shapesync/chaos/service"
)

// The binaries built for this test binary; test files may hold such state
// (ARCHITECTURE §2).
var builds service.Builds

func TestMain(m *testing.M) {
	code := m.Run()
	if err := builds.Close(); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	os.Exit(code)
}
