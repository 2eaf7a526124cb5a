package manager

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/shapesync/shapesync/replication/pgcluster/pgtest"
)

// pg is this test binary's shared cluster, started by the first test that
// needs it.
var pg pgtest.Shared

// withCluster runs the tests through pg.Run, so goleak checks after the
// shared cluster is gone.
type withCluster struct{ m *testing.M }

func (w withCluster) Run() int { return pg.Run(w.m) }

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(withCluster{m})
}
