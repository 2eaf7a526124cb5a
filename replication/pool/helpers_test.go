package pool

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/shapesync/shapesync/actors"
	"github.com/shapesync/shapesync/actors/actortest"
	"github.com/shapesync/shapesync/replication/pgcluster/pgtest"
)

// pg is this test binary's shared cluster.
var pg pgtest.Shared

// withCluster runs the tests through pg.Run, so goleak checks after the
// shared cluster is gone.
type withCluster struct{ m *testing.M }

func (w withCluster) Run() int { return pg.Run(w.m) }

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(withCluster{m})
}

func eventually(t *testing.T, what string, fn func() bool) {
	t.Helper()
	actortest.Eventually(t, what, fn)
}

func newKit(t *testing.T) *actors.Kit { return actortest.NewKit(t) }

type (
	parent         = actortest.Parent
	statusRecorder = actortest.StatusRecorder
	stopChild      = actortest.StopChild
)

func spawnParent(t *testing.T, k *actors.Kit, spec actors.ChildSpec) *parent {
	t.Helper()
	return actortest.SpawnParent(t, k, spec)
}
