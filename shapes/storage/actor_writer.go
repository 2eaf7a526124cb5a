package storage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"go.uber.org/zap"

	"github.com/shapesync/shapesync/actors"
	"github.com/shapesync/shapesync/shapes/protocol"
)

// WriterLabel is the store-writer's label under the shapes supervisor.
const WriterLabel = "store-writer"

// Defaults of WriterConfig.
const (
	DefaultPendingBytes   = 64 << 20
	DefaultSyncRetryMin   = 50 * time.Millisecond
	DefaultSyncRetryMax   = 5 * time.Second
	smallMessageByteCount = 64
)

// SyncFunc writes and syncs one sealed batch; Store.WriteAndSync by default.
// It runs on the writer's badger-io goroutine; ctx is cancelled when the
// writer stops (WriteAndSync itself cannot be interrupted).
type SyncFunc func(ctx context.Context, s *Store, b *Batch) (Result, error)

// WriterConfig is what the wiring injects into the store-writer.
type WriterConfig struct {
	// Kit owns the writer's badger-io goroutine. Required.
	Kit *actors.Kit
	// Store returns the open store (StoreView.Store); it is read in
	// Started, and a nil store fails the start (the supervisor retries).
	Store func() *Store
	// Collector gets FlushedBatch and AckPersisted. Required.
	Collector *actors.PID
	// Invalidate gets protocol.ShapeInvalid for shapes whose log rejected a
	// write. Optional: otherwise only logged.
	Invalidate *actors.PID
	// OnSynced is called on the writer's goroutine after each sync with the
	// shapes whose durable view changed (the wiring wakes long-polls). It
	// must not block.
	OnSynced func(shapeIDs []uint64)
	// Sync replaces Store.WriteAndSync (tests delay or fail it).
	Sync SyncFunc
	// PendingBytes bounds the item bytes not yet durable: past it, replies
	// wait for the next sync. Default 64 MiB.
	PendingBytes int64
	// SyncRetryMin and SyncRetryMax bound the backoff after a failed sync
	// (disk full, I/O error: D5); nothing is acknowledged meanwhile.
	SyncRetryMin, SyncRetryMax time.Duration
	Log                        *zap.Logger
}

func (c WriterConfig) withDefaults() WriterConfig {
	if c.PendingBytes <= 0 {
		c.PendingBytes = DefaultPendingBytes
	}
	if c.SyncRetryMin <= 0 {
		c.SyncRetryMin = DefaultSyncRetryMin
	}
	if c.SyncRetryMax < c.SyncRetryMin {
		c.SyncRetryMax = max(DefaultSyncRetryMax, c.SyncRetryMin)
	}
	if c.Sync == nil {
		c.Sync = func(_ context.Context, s *Store, b *Batch) (Result, error) { return s.WriteAndSync(b) }
	}
	if c.Log == nil {
		c.Log = zap.NewNop()
	}
	return c
}

// WriterChildSpec is the store-writer's spec: a byte bound of the pending
// bytes (credit: replies wait past it).
func WriterChildSpec(cfg WriterConfig) actors.ChildSpec {
	cfg = cfg.withDefaults()
	return actors.ChildSpec{Label: WriterLabel, Producer: WriterProducer(cfg),
		Bound: actors.Bytes(cfg.PendingBytes, writerMessageBytes), Policy: actors.Credit}
}

// WriterProducer returns the store-writer's producer. Every incarnation
// starts a new storage Writer from the durable state: batches of a dead
// incarnation are stale, and the stream replays from the acked position.
func WriterProducer(cfg WriterConfig) actor.Producer {
	cfg = cfg.withDefaults()
	return func() actor.Actor { return &storeWriter{cfg: cfg} }
}

func writerMessageBytes(msg any) int64 {
	n := int64(0)
	switch m := msg.(type) {
	case *protocol.Append:
		for _, it := range m.Items {
			n += int64(len(it.JSON))
		}
	case *protocol.SnapshotRows:
		for _, r := range m.Rows {
			n += int64(len(r))
		}
	case *protocol.SnapshotEnd:
		n = int64(len(m.JSON))
	}
	return max(n, smallMessageByteCount)
}

// syncDone carries a batch's WriteAndSync result back to the writer.
type syncDone struct {
	epoch actors.Epoch
	res   Result
	err   error
}

// retrySync is the backoff timer of one incarnation firing.
type retrySync struct{ owner *storeWriter }

type storeWriter struct {
	cfg     WriterConfig
	store   *Store
	core    *writerCore
	io      *actors.Goroutines
	epoch   actors.Epoch // of the sync in flight
	delay   time.Duration
	timer   *time.Timer
	waiting bool // a failed sync waits for its retry
}

func (w *storeWriter) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		w.start(ctx)
	case *protocol.Append:
		w.core.Append(m)
	case *protocol.Rollback:
		w.core.Rollback(m)
	case *protocol.ConsumerState:
		w.core.ConsumerState(m)
	case *protocol.SnapshotRows:
		w.core.SnapshotRows(m)
	case *protocol.SnapshotEnd:
		w.core.SnapshotEnd(m)
	case *protocol.StoreReset:
		w.reset(ctx)
	case *protocol.PersistAck:
		if err := w.core.PersistAck(m.LSN); err != nil {
			w.cfg.Log.Error("store-writer: PersistAck ignored", zap.Error(err))
		}
	case *syncDone:
		if !w.io.IsCurrent(m.epoch) {
			return
		}
		w.synced(ctx, m)
	case *retrySync:
		if m.owner == w && w.waiting {
			w.waiting = false
			w.runSync(ctx, w.core.Syncing())
		}
	case *actors.Exited:
		w.io.Reap(m.Epoch)
	case *actors.Failed:
		if w.io.Reap(m.Epoch) {
			panic(fmt.Errorf("store-writer: badger-io goroutine: %w", m.Err))
		}
	case *protocol.Inspect:
		ctx.Respond(&protocol.Inspection{Summary: fmt.Sprintf("pending=%dB syncing=%t retrying=%t",
			w.core.pendingBytes(), w.core.Syncing() != nil, w.waiting)})
	case *actor.Stopping:
		if w.timer != nil {
			w.timer.Stop()
		}
		return
	default:
		return
	}
	w.send(ctx, w.core.take())
	w.kick(ctx)
}

func (w *storeWriter) start(ctx actor.Context) {
	if w.cfg.Kit == nil || w.cfg.Collector == nil || w.cfg.Store == nil {
		panic(errors.New("store-writer: WriterConfig.Kit, Store and Collector are required (the wiring must inject them)"))
	}
	w.store = w.cfg.Store()
	if w.store == nil {
		panic(errors.New("store-writer: the shape store is not open yet; the supervisor retries"))
	}
	w.core = newWriterCore(w.store.NewWriter(), w.cfg.PendingBytes, w.cfg.Collector, w.cfg.Invalidate)
	w.io = w.cfg.Kit.Goroutines(ctx)
	w.delay = w.cfg.SyncRetryMin
}

// reset follows a purge of the store (protocol.StoreReset): the pending
// batches and the storage Writer are stale, so the sync in flight is
// abandoned and a fresh Writer starts from the purged state.
func (w *storeWriter) reset(ctx actor.Context) {
	w.io.Kill("badger-io")
	if w.timer != nil {
		w.timer.Stop()
	}
	w.waiting, w.delay = false, w.cfg.SyncRetryMin
	if s := w.cfg.Store(); s != nil {
		w.store = s
	}
	w.cfg.Log.Info("store-writer: the store was purged; pending batches dropped")
	w.send(ctx, w.core.Reset(w.store.NewWriter()))
}

// kick starts the next group commit when no sync is in flight.
func (w *storeWriter) kick(ctx actor.Context) {
	if w.waiting {
		return
	}
	b, done := w.core.StartSync()
	if done != nil {
		w.report(ctx, done)
		return
	}
	if b != nil {
		w.runSync(ctx, b)
	}
}

func (w *storeWriter) runSync(ctx actor.Context, b *Batch) {
	s, sync := w.store, w.cfg.Sync
	w.epoch = w.io.Go("badger-io", func(t *actors.Task) error {
		res, err := sync(t.Context(), s, b)
		t.Send(&syncDone{epoch: t.Epoch, res: res, err: err})
		return nil
	})
}

func (w *storeWriter) synced(ctx actor.Context, m *syncDone) {
	if m.err != nil {
		if errors.Is(m.err, ErrStaleBatch) || errors.Is(m.err, ErrClosed) || errors.Is(m.err, ErrBatchNotSealed) {
			// The store was reloaded or closed under this incarnation: only
			// a fresh writer (and a replay) can continue.
			panic(fmt.Errorf("store-writer: %w", m.err))
		}
		// D5: keep the batch, acknowledge nothing, retry with backoff.
		w.cfg.Log.Error("store-writer: sync failed; retrying, nothing is acknowledged meanwhile",
			zap.Duration("retry_in", w.delay), zap.Error(m.err))
		w.waiting = true
		self, root, msg := ctx.Self(), ctx.ActorSystem().Root, &retrySync{owner: w}
		w.timer = time.AfterFunc(w.delay, func() { root.Send(self, msg) })
		w.delay = min(2*w.delay, w.cfg.SyncRetryMax)
		return
	}
	w.delay = w.cfg.SyncRetryMin
	w.report(ctx, w.core.Synced(m.res))
}

func (w *storeWriter) report(ctx actor.Context, s *synced) {
	if s == nil {
		return
	}
	w.send(ctx, s.sends)
	if len(s.shapes) > 0 && w.cfg.OnSynced != nil {
		w.cfg.OnSynced(s.shapes)
	}
}

func (w *storeWriter) send(ctx actor.Context, out []outgoing) {
	for _, o := range out {
		if inv, ok := o.msg.(*protocol.ShapeInvalid); ok {
			w.cfg.Log.Warn("store-writer: shape invalidated", zap.Uint64("shape", uint64(inv.Shape)), zap.String("reason", inv.Reason))
		}
		if o.to != nil {
			ctx.Send(o.to, o.msg)
		}
	}
}
