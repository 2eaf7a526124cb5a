package storage

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"go.uber.org/zap"

	"github.com/shapesync/shapesync/actors"
	"github.com/shapesync/shapesync/shapes/protocol"
)

// StoreLabel is the store actor's label under core.
const StoreLabel = "store"

// Defaults of StoreConfig.
const (
	DefaultGCInterval     = 5 * time.Minute
	DefaultGCDiscardRatio = 0.5
	DefaultOpenRetryMin   = time.Second
	DefaultOpenRetryMax   = time.Minute
	// gcRoundsPerTick bounds the value-log GC rounds run back to back.
	gcRoundsPerTick = 8
)

// StoreView publishes the open store to everyone who reads or writes it
// (registry, writer, HTTP readers through their own interfaces). The wiring
// creates it once; store actor incarnations install and remove the store in
// it, so readers never hold a pointer to a view that a restart replaced.
type StoreView struct {
	mu      sync.Mutex
	owner   *storeOwner // incarnation allowed to install a store (nil: none)
	store   *Store
	report  LoadReport
	loaded  bool
	closing chan struct{} // closed once the last Close returned; nil if none pending
}

// NewStoreView returns an empty view: Store is nil until the store actor
// opened the DB.
func NewStoreView() *StoreView { return &StoreView{} }

// Store returns the open store, or nil while it is not open.
func (v *StoreView) Store() *Store {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.store
}

// LoadReport is what LoadAll found when the current store was opened (the
// registry resumes tombstones and drops damaged shapes from it).
func (v *StoreView) LoadReport() (LoadReport, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.report, v.loaded
}

// WaitClosed waits until the last store taken out of the view has closed:
// cmd calls it before exiting, and a new store incarnation before opening
// the directory again (badger holds an exclusive lock on it).
func (v *StoreView) WaitClosed(ctx context.Context) error {
	v.mu.Lock()
	ch := v.closing
	v.mu.Unlock()
	if ch == nil {
		return nil
	}
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (v *StoreView) claim(owner *storeOwner) {
	v.mu.Lock()
	v.owner = owner
	v.mu.Unlock()
}

// install publishes s unless its incarnation stopped meanwhile (then the
// caller must close s itself).
func (v *StoreView) install(owner *storeOwner, s *Store, rep LoadReport) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.owner != owner {
		return false
	}
	v.store, v.report, v.loaded = s, rep, true
	return true
}

// release ends owner's claim and takes its store out of the view for
// closing; done must be closed once the store is closed.
func (v *StoreView) release(owner *storeOwner) (s *Store, done chan struct{}) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.owner != owner {
		return nil, nil
	}
	v.owner = nil
	s, v.store, v.loaded = v.store, nil, false
	if s == nil {
		return nil, nil
	}
	done = make(chan struct{})
	v.closing = done
	return s, done
}

// StoreConfig is what the wiring injects into the store actor.
type StoreConfig struct {
	// Kit owns the actor's goroutines. Required.
	Kit *actors.Kit
	// View is where the open store is published. Required.
	View *StoreView
	// Dir and Options are passed to Open.
	Dir     string
	Options Options
	// Status gets protocol.CondStoreOpen. Optional.
	Status *actors.PID
	// GCInterval is the value-log GC period (default 5 min; negative: no
	// GC); GCDiscardRatio is badger's discard ratio (default 0.5).
	GCInterval     time.Duration
	GCDiscardRatio float64
	// OpenRetryMin and OpenRetryMax bound the backoff after a failed open
	// (defaults 1 s and 1 min).
	OpenRetryMin, OpenRetryMax time.Duration
	Log                        *zap.Logger
}

func (c StoreConfig) withDefaults() StoreConfig {
	if c.GCInterval == 0 {
		c.GCInterval = DefaultGCInterval
	}
	if c.GCDiscardRatio <= 0 || c.GCDiscardRatio >= 1 {
		c.GCDiscardRatio = DefaultGCDiscardRatio
	}
	if c.OpenRetryMin <= 0 {
		c.OpenRetryMin = DefaultOpenRetryMin
	}
	if c.OpenRetryMax < c.OpenRetryMin {
		c.OpenRetryMax = max(DefaultOpenRetryMax, c.OpenRetryMin)
	}
	if c.Log == nil {
		c.Log = zap.NewNop()
	}
	return c
}

// StoreChildSpec is the store actor's spec for core: bound 16, credit.
func StoreChildSpec(cfg StoreConfig) actors.ChildSpec {
	return actors.ChildSpec{Label: StoreLabel, Producer: StoreProducer(cfg), Bound: actors.Count(16), Policy: actors.Credit}
}

// StoreProducer returns the store actor's producer. Each incarnation opens
// the DB in its own goroutine (after the previous incarnation's Close
// returned), publishes it in the view, runs value-log GC on a ticker and
// closes the DB when it stops.
func StoreProducer(cfg StoreConfig) actor.Producer {
	cfg = cfg.withDefaults()
	return func() actor.Actor { return &storeOwner{cfg: cfg} }
}

type storeOpened struct {
	epoch actors.Epoch
	store *Store
	err   error
}

type retryOpen struct{ owner *storeOwner }

type storeOwner struct {
	cfg   StoreConfig
	io    *actors.Goroutines
	store *Store
	delay time.Duration
	timer *time.Timer
}

func (s *storeOwner) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		if s.cfg.Kit == nil || s.cfg.View == nil {
			panic(errors.New("store: StoreConfig.Kit and View are required (the wiring must inject them)"))
		}
		s.io = s.cfg.Kit.Goroutines(ctx)
		s.delay = s.cfg.OpenRetryMin
		s.cfg.View.claim(s)
		s.condition(false, "opening the shape store")
		s.open()
	case *storeOpened:
		if !s.io.IsCurrent(m.epoch) {
			return
		}
		s.opened(ctx, m)
	case *retryOpen:
		if m.owner == s && s.store == nil {
			s.open()
		}
	case *actors.Exited:
		s.io.Reap(m.Epoch)
	case *actors.Failed:
		if s.io.Reap(m.Epoch) {
			panic(fmt.Errorf("store: %s goroutine: %w", m.Name, m.Err))
		}
	case *protocol.Inspect:
		ctx.Respond(&protocol.Inspection{Summary: fmt.Sprintf("open=%t dir=%s", s.store != nil, s.cfg.Dir)})
	case *actor.Stopping:
		s.stop()
	}
}

// open starts the opening goroutine. An open that finishes after this
// incarnation stopped finds its claim on the view gone and closes what it
// opened; one that installed its store first leaves the closing to stop.
func (s *storeOwner) open() {
	cfg, view, owner := s.cfg, s.cfg.View, s
	s.io.Go("badger-open", func(t *actors.Task) error {
		if err := view.WaitClosed(t.Context()); err != nil {
			return err
		}
		st, err := Open(cfg.Dir, cfg.Options)
		if err != nil {
			t.Send(&storeOpened{epoch: t.Epoch, err: err})
			return nil
		}
		rep, err := st.LoadAll()
		if err != nil {
			_ = st.Close()
			t.Send(&storeOpened{epoch: t.Epoch, err: err})
			return nil
		}
		if !view.install(owner, st, rep) {
			_ = st.Close()
			return nil
		}
		t.Send(&storeOpened{epoch: t.Epoch, store: st})
		return nil
	})
}

func (s *storeOwner) opened(ctx actor.Context, m *storeOpened) {
	if m.err != nil {
		s.cfg.Log.Error("store: cannot open the shape store; retrying", zap.String("dir", s.cfg.Dir),
			zap.Duration("retry_in", s.delay), zap.Error(m.err))
		s.condition(false, m.err.Error())
		self, root, msg := ctx.Self(), ctx.ActorSystem().Root, &retryOpen{owner: s}
		s.timer = time.AfterFunc(s.delay, func() { root.Send(self, msg) })
		s.delay = min(2*s.delay, s.cfg.OpenRetryMax)
		return
	}
	s.store = m.store
	s.delay = s.cfg.OpenRetryMin
	rep, _ := s.cfg.View.LoadReport()
	s.cfg.Log.Info("store: shape store open", zap.String("dir", s.cfg.Dir), zap.Int("shapes", rep.Shapes),
		zap.Int("records", rep.Records), zap.Int("tombstones", len(rep.Tombstones)), zap.Int("damaged", len(rep.Damaged)))
	s.condition(true, "")
	if s.cfg.GCInterval > 0 {
		st, every, ratio, log := m.store, s.cfg.GCInterval, s.cfg.GCDiscardRatio, s.cfg.Log
		s.io.Go("value-log-gc", func(t *actors.Task) error {
			tick := time.NewTicker(every)
			defer tick.Stop()
			for {
				select {
				case <-t.Context().Done():
					return nil
				case <-tick.C:
				}
				for range gcRoundsPerTick {
					rewrote, err := st.GCValueLog(ratio)
					if errors.Is(err, ErrClosed) {
						return nil
					}
					if err != nil {
						log.Warn("store: value-log GC failed", zap.Error(err))
					}
					if err != nil || !rewrote {
						break
					}
				}
			}
		})
	}
}

// stop takes the store out of the view and closes it on a goroutine: Close
// waits for reads in progress and flushes memtables, which must not block
// Receive; WaitClosed lets cmd and the next incarnation wait for it.
func (s *storeOwner) stop() {
	if s.timer != nil {
		s.timer.Stop()
	}
	s.io.Kill("value-log-gc")
	st, done := s.cfg.View.release(s)
	s.store = nil
	s.condition(false, "the shape store is closed")
	if st == nil {
		return
	}
	log := s.cfg.Log
	s.io.Go("badger-close", func(*actors.Task) error {
		defer close(done)
		if err := st.Close(); err != nil {
			log.Error("store: closing the shape store failed", zap.Error(err))
		}
		return nil
	})
}

func (s *storeOwner) condition(ok bool, reason string) {
	if s.cfg.Status == nil {
		return
	}
	s.cfg.Kit.Coalesce(s.cfg.Status, &protocol.Condition{Name: protocol.CondStoreOpen, OK: ok, Reason: reason})
}
