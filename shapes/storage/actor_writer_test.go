package storage

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shapesync/shapesync/actors"
	"github.com/shapesync/shapesync/replication/lsn"
	"github.com/shapesync/shapesync/shapes/protocol"
)

// gatedSync is a SyncFunc that holds every sync until released (I3 tests)
// and can fail the first n syncs (D5 tests).
type gatedSync struct {
	mu      sync.Mutex
	open    chan struct{}
	failN   int
	calls   atomic.Int32
	started atomic.Int32
}

func newGatedSync(open bool) *gatedSync {
	g := &gatedSync{open: make(chan struct{})}
	if open {
		close(g.open)
	}
	return g
}

func (g *gatedSync) release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	select {
	case <-g.open:
	default:
		close(g.open)
	}
}

func (g *gatedSync) sync(ctx context.Context, s *Store, b *Batch) (Result, error) {
	g.started.Add(1)
	g.mu.Lock()
	gate := g.open
	g.mu.Unlock()
	select {
	case <-gate:
	case <-ctx.Done():
		return Result{}, ctx.Err()
	}
	if int(g.calls.Add(1)) <= g.failN {
		return Result{}, errors.New("injected: no space left on device")
	}
	return s.WriteAndSync(b)
}

type writerHarness struct {
	kit       *actors.Kit
	store     *Store
	writer    *actors.PID
	collector *sink
	consumer  *sink
	consumerP *actors.PID
	synced    chan []uint64
}

func newWriterHarness(t *testing.T, g *gatedSync) *writerHarness {
	t.Helper()
	s, _ := newTestStore(t, Options{})
	k := newKit(t)
	h := &writerHarness{kit: k, store: s, synced: make(chan []uint64, 64)}
	var colPID *actors.PID
	h.collector, colPID = spawnSink(t, k, "collector")
	h.consumer, h.consumerP = spawnSink(t, k, "consumer")
	spec := WriterChildSpec(WriterConfig{
		Kit: k, Store: func() *Store { return s }, Collector: colPID, Sync: g.sync,
		SyncRetryMin: time.Millisecond, SyncRetryMax: 4 * time.Millisecond,
		OnSynced: func(ids []uint64) { h.synced <- ids },
	})
	pid, err := k.SpawnRoot(spec)
	if err != nil {
		t.Fatal(err)
	}
	h.writer = pid
	t.Cleanup(g.release)
	return h
}

func (h *writerHarness) appendItems(seq uint64, shape protocol.ShapeID, commit uint64, offs ...uint64) {
	m := appendMsg(seq, shape, 0)
	m.ReplyTo = h.consumerP
	for _, o := range offs {
		m.Items = append(m.Items, protocol.LogItem{Offset: off(commit, o), JSON: item("x", 30)})
	}
	m.Commit = &protocol.CommitMark{LSN: lsn.LSN(commit)}
	h.kit.Root().Send(h.writer, m)
}

func TestWriterActorHoldsReportsUntilSynced(t *testing.T) {
	t.Parallel()
	g := newGatedSync(false)
	h := newWriterHarness(t, g)
	h.appendItems(1, 7, 100, 0, 2)
	h.kit.Root().Send(h.writer, &protocol.PersistAck{LSN: 50})
	eventually(t, "Accepted while the sync is held", func() bool { return len(messagesOf[*protocol.Accepted](h.consumer)) == 1 })
	eventually(t, "the sync to start", func() bool { return g.started.Load() == 1 })
	// More appends fill the next batch meanwhile (group commit).
	h.appendItems(2, 7, 200, 0)
	eventually(t, "the second Accepted", func() bool { return len(messagesOf[*protocol.Accepted](h.consumer)) == 2 })
	time.Sleep(20 * time.Millisecond) // give a wrong report the chance to show up
	if got := h.collector.all(); len(got) != 0 {
		t.Fatalf("reported before the sync returned (I3): %v", got)
	}
	if h.store.Acked() != 0 {
		t.Fatal("S|acked durable before the sync")
	}
	g.release()
	eventually(t, "the second batch's flush report", func() bool {
		return slices.ContainsFunc(messagesOf[*protocol.FlushedBatch](h.collector),
			func(f *protocol.FlushedBatch) bool { return f.Shapes[7] == 200 })
	})
	acks := messagesOf[*protocol.AckPersisted](h.collector)
	if len(acks) != 1 || acks[0].LSN != 50 || h.store.Acked() != 50 {
		t.Fatalf("ack persisted %v, store acked %s", acks, h.store.Acked())
	}
	if g.started.Load() != 2 {
		t.Fatalf("%d syncs for two batches", g.started.Load())
	}
	ids := <-h.synced
	if !slices.Equal(ids, []uint64{7}) {
		t.Fatalf("OnSynced(%v)", ids)
	}
}

func TestWriterActorRetriesFailedSyncs(t *testing.T) {
	t.Parallel()
	g := newGatedSync(true)
	g.failN = 3
	h := newWriterHarness(t, g)
	h.appendItems(1, 7, 100, 0)
	h.kit.Root().Send(h.writer, &protocol.PersistAck{LSN: 60})
	eventually(t, "the ack after the retries", func() bool { return len(messagesOf[*protocol.AckPersisted](h.collector)) == 1 })
	// Three failures and the success of the first batch, then the batch
	// holding the ack, which arrived while the first one was retried.
	if n := g.calls.Load(); n != 5 {
		t.Fatalf("%d sync calls, want 5", n)
	}
	msgs := h.collector.all()
	if _, ok := msgs[0].(*protocol.FlushedBatch); !ok || len(msgs) != 2 {
		t.Fatalf("reports %v: the flush must come first, once the sync succeeded", msgs)
	}
	if h.store.Acked() != 60 {
		t.Fatalf("S|acked %s", h.store.Acked())
	}
}
