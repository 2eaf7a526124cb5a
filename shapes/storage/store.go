package storage

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
	"go.uber.org/zap"

	"github.com/shapesync/shapesync/replication/lsn"
)

// Defaults of Options.
const (
	DefaultMaxValueBytes   = 16 << 20
	DefaultDeleteBatchKeys = 1024
	DefaultDeletePause     = 5 * time.Millisecond
)

// inMemoryMaxValueBytes keeps every value of an in-memory store strictly
// below badger's 1 MiB value threshold and its per-transaction size (15 % of
// the 16 MiB memtable): an in-memory badger has no value log, and a value at
// or above the threshold makes its write path panic (verified, v4.9.6).
const inMemoryMaxValueBytes = 256 << 10

// maxValueBytesLimit keeps a value well inside one 64 MiB value-log file.
const maxValueBytesLimit = 32 << 20

// ErrClosed is returned by every method called after Close.
var ErrClosed = errors.New("storage: store is closed")

// Options configure a Store. The zero value is valid.
type Options struct {
	// Logger receives badger's log lines (named "badger"); nil silences them.
	Logger *zap.Logger
	// InMemory keeps everything in memory (tests only): nothing is durable
	// and Sync is a no-op.
	InMemory bool
	// ChunkBytesThreshold is the §8 chunk size, default 10 MiB.
	ChunkBytesThreshold uint64
	// MaxValueBytes is the largest value stored under one key; longer items
	// are split into continuation keys. Default 16 MiB, at most 32 MiB
	// (256 KiB in memory).
	MaxValueBytes int
	// DeleteBatchKeys and DeletePause rate-limit DeleteShape: at most that
	// many keys per write batch, and a pause between batches.
	DeleteBatchKeys int
	DeletePause     time.Duration
}

func (o Options) withDefaults() Options {
	if o.ChunkBytesThreshold == 0 {
		o.ChunkBytesThreshold = DefaultChunkBytesThreshold
	}
	if o.MaxValueBytes <= 0 {
		o.MaxValueBytes = DefaultMaxValueBytes
	}
	if o.MaxValueBytes > maxValueBytesLimit {
		o.MaxValueBytes = maxValueBytesLimit
	}
	if o.InMemory && o.MaxValueBytes > inMemoryMaxValueBytes {
		o.MaxValueBytes = inMemoryMaxValueBytes
	}
	if o.DeleteBatchKeys <= 0 {
		o.DeleteBatchKeys = DefaultDeleteBatchKeys
	}
	if o.DeletePause < 0 {
		o.DeletePause = 0
	} else if o.DeletePause == 0 {
		o.DeletePause = DefaultDeletePause
	}
	return o
}

// Store is the durable shape log: one badger DB for every shape of a stack.
// Its methods do the I/O; the decisions they apply (keys, chunking, offsets)
// are pure functions of this package. Writes go through a Writer and
// WriteAndSync; reads (View, Read, Acked) are safe from any goroutine and
// never take a lock that a write holds across I/O.
type Store struct {
	db   *badger.DB
	opts Options
	log  *zap.Logger

	// life is held shared by every operation on db and exclusively by Close,
	// so badger is never used after it is closed.
	life   sync.RWMutex
	closed bool

	// writeMu serialises whole write operations (WriteAndSync, LoadAll,
	// PurgeAll, the fencing step of DeleteShape).
	writeMu sync.Mutex

	// state guards the fields below. It is taken only for short, I/O-free
	// sections, so Writer methods can consult it from an actor.
	state     sync.RWMutex
	gen       uint64            // bumped by LoadAll and PurgeAll: older writers are stale
	syncedSeq uint64            // batches synced in this generation
	blocked   map[uint64]string // shape id → why its writes are dropped (deleted, damaged)
	records   map[uint64]recordRef

	views  sync.Map // uint64 → *viewSlot
	acked  atomic.Uint64
	nextID atomic.Uint64
}

type recordRef struct{ handle, hash string }

type viewSlot struct{ v atomic.Pointer[ShapeView] }

// Open opens (creating if needed) the store in dir with badger tuned as in
// GO_STACK §1.6. SyncWrites stays off: WriteAndSync's db.Sync() is the
// durability point. Call LoadAll before using the store.
func Open(dir string, opts Options) (*Store, error) {
	opts = opts.withDefaults()
	log := opts.Logger
	if log == nil {
		log = zap.NewNop()
	}
	bo := badger.DefaultOptions(dir)
	if opts.InMemory {
		bo = badger.DefaultOptions("").WithInMemory(true)
	}
	bo = bo.WithLogger(badgerLogger{log.Named("badger").WithOptions(zap.AddCallerSkip(1)).Sugar()}).
		WithSyncWrites(false).
		WithMemTableSize(16 << 20).WithNumMemtables(2).
		WithBlockCacheSize(32 << 20).WithIndexCacheSize(16 << 20).
		WithValueLogFileSize(64 << 20).
		WithNumCompactors(2).WithNumGoroutines(2).
		WithCompression(options.None).WithMetricsEnabled(false).WithDetectConflicts(false)
	db, err := badger.Open(bo)
	if err != nil {
		return nil, fmt.Errorf("open shape store in %q: %w (another shapesync process may hold "+
			"the directory lock; stop it or point the stack at another directory)", dir, err)
	}
	s := &Store{db: db, opts: opts, log: log, blocked: map[uint64]string{}, records: map[uint64]recordRef{}}
	s.nextID.Store(1)
	return s, nil
}

// Close closes the DB. It waits for operations in progress (a Read waits
// for its emit calls), so HTTP serving must stop first.
func (s *Store) Close() error {
	s.life.Lock()
	defer s.life.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close shape store: %w", err)
	}
	return nil
}

// enter takes the shared life lock; the caller must call s.life.RUnlock.
func (s *Store) enter() error {
	s.life.RLock()
	if s.closed {
		s.life.RUnlock()
		return ErrClosed
	}
	return nil
}

// Acked is the synced S|acked value: the durable position, never ahead of
// what WriteAndSync has made durable.
func (s *Store) Acked() lsn.LSN { return lsn.LSN(s.acked.Load()) }

// View returns the shape's latest durable view; false when the shape has
// no durable log data yet, or is deleted or damaged.
func (s *Store) View(id uint64) (*ShapeView, bool) {
	slot, ok := s.views.Load(id)
	if !ok {
		return nil, false
	}
	v := slot.(*viewSlot).v.Load()
	return v, v != nil
}

// ShapeIDs lists the shapes that have a view.
func (s *Store) ShapeIDs() []uint64 {
	var ids []uint64
	s.views.Range(func(k, _ any) bool {
		ids = append(ids, k.(uint64))
		return true
	})
	return ids
}

func (s *Store) publish(v *ShapeView) {
	slot, _ := s.views.LoadOrStore(v.id, &viewSlot{})
	slot.(*viewSlot).v.Store(v)
}

// AllocateShapeID returns a fresh shape id. Ids are never reused within a
// run, and LoadAll starts the counter above every id with a key on disk;
// the id becomes durable with the first key written for it (PutShape).
func (s *Store) AllocateShapeID() uint64 { return s.nextID.Add(1) - 1 }

func (s *Store) seeID(id uint64) {
	for {
		cur := s.nextID.Load()
		if id < cur || s.nextID.CompareAndSwap(cur, id+1) {
			return
		}
	}
}

// GCValueLog runs one round of badger's value-log GC (for the store actor's
// ticker). It reports false when there was nothing to rewrite.
func (s *Store) GCValueLog(discardRatio float64) (bool, error) {
	if err := s.enter(); err != nil {
		return false, err
	}
	defer s.life.RUnlock()
	err := s.db.RunValueLogGC(discardRatio)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, badger.ErrNoRewrite), errors.Is(err, badger.ErrRejected),
		errors.Is(err, badger.ErrGCInMemoryMode):
		return false, nil
	}
	return false, fmt.Errorf("value log GC: %w", err)
}

// badgerLogger routes badger's printf-style logging into zap.
type badgerLogger struct{ s *zap.SugaredLogger }

func trimNL(f string) string { return strings.TrimRight(f, "\n") }

func (l badgerLogger) Errorf(f string, a ...any)   { l.s.Errorf(trimNL(f), a...) }
func (l badgerLogger) Warningf(f string, a ...any) { l.s.Warnf(trimNL(f), a...) }
func (l badgerLogger) Infof(f string, a ...any)    { l.s.Infof(trimNL(f), a...) }
func (l badgerLogger) Debugf(f string, a ...any)   { l.s.Debugf(trimNL(f), a...) }
