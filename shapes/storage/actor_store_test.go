package storage

import (
	"context"
	"testing"
	"time"

	"github.com/shapesync/shapesync/actors"
	"github.com/shapesync/shapesync/shapes/protocol"
)

func conditions(s *sink) []*protocol.Condition {
	var out []*protocol.Condition
	for _, c := range messagesOf[*protocol.Condition](s) {
		if c.Name == protocol.CondStoreOpen {
			out = append(out, c)
		}
	}
	return out
}

func lastCondition(s *sink) (*protocol.Condition, bool) {
	c := conditions(s)
	if len(c) == 0 {
		return nil, false
	}
	return c[len(c)-1], true
}

func spawnStore(t *testing.T, k *actors.Kit, view *StoreView, dir string, status *actors.PID) *actors.PID {
	t.Helper()
	pid, err := k.SpawnRoot(StoreChildSpec(StoreConfig{
		Kit: k, View: view, Dir: dir, Status: status,
		OpenRetryMin: 5 * time.Millisecond, OpenRetryMax: 20 * time.Millisecond, GCInterval: 10 * time.Millisecond,
	}))
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

func TestStoreActorOpensPublishesAndCloses(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	view := NewStoreView()
	k := newKit(t)
	status, statusPID := spawnSink(t, k, "status")
	spawnStore(t, k, view, dir, statusPID)
	eventually(t, "the store to open", func() bool { return view.Store() != nil })
	eventually(t, "store_open reported", func() bool { c, ok := lastCondition(status); return ok && c.OK })
	if rep, ok := view.LoadReport(); !ok || rep.Shapes != 0 {
		t.Fatalf("load report %+v, %t", rep, ok)
	}
	s := view.Store()
	b := s.NewWriter().NewBatch()
	must(t, b.EndSnapshot(3, item("end", 30)))
	must(t, b.PersistAck(77))
	mustSync(t, s, b)
	time.Sleep(30 * time.Millisecond) // a few GC ticks run against the open store

	shutdown(t, k)
	if view.Store() != nil {
		t.Fatal("the view still publishes a store after the actor stopped")
	}
	ctx, cancel := context.WithTimeout(context.Background(), actorWait)
	defer cancel()
	if err := view.WaitClosed(ctx); err != nil {
		t.Fatal(err)
	}

	// The same view, a new incarnation: the data is back.
	k2 := newKit(t)
	spawnStore(t, k2, view, dir, nil)
	eventually(t, "the store to reopen", func() bool { return view.Store() != nil })
	if got := view.Store().Acked(); got != 77 {
		t.Fatalf("acked after reopening %s, want 0/4D", got)
	}
	if v, ok := view.Store().View(3); !ok || !v.SnapshotDone() {
		t.Fatal("shape 3's snapshot is gone after reopening")
	}
}

func TestStoreActorRetriesALockedDirectory(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	held := openStore(t, dir, Options{}) // another owner holds badger's directory lock
	view := NewStoreView()
	k := newKit(t)
	status, statusPID := spawnSink(t, k, "status")
	spawnStore(t, k, view, dir, statusPID)
	eventually(t, "the failure to be reported", func() bool {
		for _, c := range conditions(status) {
			if !c.OK && c.Reason != "opening the shape store" {
				return true
			}
		}
		return false
	})
	if view.Store() != nil {
		t.Fatal("published a store it could not open")
	}
	if err := held.Close(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the retry to open the store", func() bool { return view.Store() != nil })
	eventually(t, "store_open reported", func() bool { c, ok := lastCondition(status); return ok && c.OK })
}
