package supervisor

import (
	"context"
	"testing"
	"time"

	"go.uber.org/goleak"
	"go.uber.org/zap/zaptest"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/shapesync/shapesync/actors"
	"github.com/shapesync/shapesync/shapes/protocol"
	"github.com/shapesync/shapesync/supervisor/status"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestTreeRunsStatusAndStopsInOrder starts stack → core → status, drives
// the status actor with conditions through its label path, and stops the
// tree within the deadline.
func TestTreeRunsStatusAndStopsInOrder(t *testing.T) {
	kit := actors.NewKit(zaptest.NewLogger(t), actors.ForTesting())
	view := status.NewView()
	tree, err := Start(Deps{Kit: kit, Log: zaptest.NewLogger(t), Status: view})
	if err != nil {
		t.Fatal(err)
	}
	// Children start asynchronously: wait for status to publish its first
	// derived state before reporting to it.
	eventually(t, 5*time.Second, func() bool {
		r := view.Current().Reasons
		return len(r) > 0 && r[0] != "service: starting up"
	})
	statusPID := actor.NewPID(kit.System().Address(), StackLabel+"/"+CoreLabel+"/"+status.Label)
	for _, name := range []string{status.CondStoreOpen, status.CondMetadataLoaded, status.CondDatabase, status.CondLock, status.CondReplication, status.CondShapes} {
		kit.Coalesce(statusPID, &protocol.Condition{Name: name, OK: true})
	}
	eventually(t, 5*time.Second, func() bool { return view.Current().State == status.Live })

	kit.Coalesce(statusPID, &protocol.Condition{Name: status.CondLock, OK: false, Reason: "held by another instance (pid 7)"})
	eventually(t, 5*time.Second, func() bool { return view.Current().State == status.Waiting })

	if tree.Stack == nil {
		t.Fatal("no stack PID")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if stuck := kit.Shutdown(ctx); len(stuck) != 0 {
		t.Fatalf("actors did not stop: %v", stuck)
	}
}

func eventually(t *testing.T, timeout time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in time")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
