package supervisor

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"go.uber.org/zap"

	"github.com/shapesync/shapesync/actors"
	"github.com/shapesync/shapesync/actors/faults"
	"github.com/shapesync/shapesync/replication/collector"
	"github.com/shapesync/shapesync/replication/decode"
	"github.com/shapesync/shapesync/replication/decode/builder"
	"github.com/shapesync/shapesync/replication/events"
	"github.com/shapesync/shapesync/replication/lock"
	"github.com/shapesync/shapesync/replication/lsn"
	"github.com/shapesync/shapesync/replication/manager"
	"github.com/shapesync/shapesync/replication/pgwire"
	"github.com/shapesync/shapesync/replication/pool"
	"github.com/shapesync/shapesync/replication/publication"
	"github.com/shapesync/shapesync/replication/stream"
	"github.com/shapesync/shapesync/shapes/consumer"
	"github.com/shapesync/shapesync/shapes/protocol"
	"github.com/shapesync/shapesync/shapes/registry"
	"github.com/shapesync/shapesync/shapes/snapshot"
	"github.com/shapesync/shapesync/shapes/storage"
	"github.com/shapesync/shapesync/supervisor/status"
)

// Labels of the supervisors this package assembles.
const (
	StackLabel     = "stack"
	CoreLabel      = "core"
	PipelineLabel  = "pipeline"
	ShapesLabel    = "shapes"
	ConsumersLabel = "consumers"
)

// Database is how the tree reaches Postgres.
type Database struct {
	// DSN is the direct connection URL (replication, lock, admin);
	// PooledDSN the one for snapshots (may be a pooler), defaulting to DSN.
	DSN, PooledDSN string
	Dial           pgwire.DialOptions
	// PoolSize is ELECTRIC_DB_POOL_SIZE, split between the admin and
	// snapshot pools.
	PoolSize int
	// StreamID names the publication and slot (SHAPE_API §22.1).
	StreamID string
	// MaxTxnBytes is ELECTRIC_EXPERIMENTAL_MAX_TXN_SIZE.
	MaxTxnBytes int64
}

// Deps is what the tree needs from the program.
type Deps struct {
	Kit    *actors.Kit
	Log    *zap.Logger
	Status *status.View
	// Database is nil for a tree without a data path (status only).
	Database *Database
	// StorageDir holds the shape store; StorageOptions tune it.
	StorageDir     string
	StorageOptions storage.Options
	// Faults are the test-build fault hooks (nil: none).
	Faults *faults.Set
}

// Tree is the running supervision tree and the views it publishes.
type Tree struct {
	kit   *actors.Kit
	Stack *actors.PID
	// Shapes is the shape backend for the HTTP layer (nil without a
	// database).
	Shapes *ShapesBackend
	store  *storage.StoreView
}

// wiring holds the views and names shared by the specs.
type wiring struct {
	d           Deps
	store       *storage.StoreView
	admin, snap *pool.View
	registry    *registry.View
	backend     *ShapesBackend
	ids         pids
}

// pids names every actor a spec needs to address before it is spawned; a
// PID by id finds whichever incarnation is alive.
type pids struct {
	status, store, pipeline, connManager, replication, txnBuilder,
	shapes, writer, collector, consumers, registry *actors.PID
}

func newPIDs(kit *actors.Kit) pids {
	at := func(path string) *actors.PID { return actor.NewPID(kit.System().Address(), path) }
	core := StackLabel + "/" + CoreLabel
	pipe := core + "/" + PipelineLabel
	cm := pipe + "/" + manager.Label
	sh := pipe + "/" + ShapesLabel
	return pids{
		status: at(core + "/" + status.Label), store: at(core + "/" + storage.StoreLabel),
		pipeline: at(pipe), connManager: at(cm), replication: at(cm + "/" + stream.Label), txnBuilder: at(cm + "/" + builder.Label),
		shapes: at(sh), writer: at(sh + "/" + storage.WriterLabel), collector: at(sh + "/" + collector.Label),
		consumers: at(sh + "/" + ConsumersLabel), registry: at(sh + "/" + registry.Label),
	}
}

// Start spawns the root of the tree; its children start asynchronously and
// report to status as they come up.
func Start(d Deps) (*Tree, error) {
	if d.Kit == nil || d.Status == nil {
		return nil, errors.New("supervisor: Deps.Kit and Deps.Status are required")
	}
	if d.Log == nil {
		d.Log = zap.NewNop()
	}
	w := &wiring{d: d, ids: newPIDs(d.Kit)}
	if d.Database != nil {
		w.store = storage.NewStoreView()
		w.admin, w.snap = pool.NewView(), pool.NewView()
		w.backend = newShapesBackend(d.Kit, w.ids.registry, w.store, w.admin, d.Status, d.Log.Named("http.shapes"))
		w.registry = registry.NewView(w.backend.entryChanged)
		w.backend.view = w.registry
	}
	pid, err := d.Kit.SpawnRoot(w.stackSpec())
	if err != nil {
		return nil, err
	}
	return &Tree{kit: d.Kit, Stack: pid, Shapes: w.backend, store: w.store}, nil
}

// WaitStoreClosed returns once the shape store is closed (the store actor
// closes it in a goroutine when it stops), or when ctx ends.
func (t *Tree) WaitStoreClosed(ctx context.Context) error {
	if t.store == nil {
		return nil
	}
	return t.store.WaitClosed(ctx)
}

func (w *wiring) stackSpec() actors.ChildSpec {
	return actors.ChildSpec{
		Label: StackLabel,
		Producer: actors.Supervisor(actors.SupervisorSpec{
			Strategy: actors.OneForOne,
			// The guardian never gives up (I7): it re-spawns core with a
			// backoff capped at 30 s and never escalates.
			Backoff:  actors.Backoff(time.Second, 30*time.Second, 0.2, time.Minute),
			Children: []actors.ChildSpec{w.coreSpec()},
		}),
		Bound:  actors.Count(64),
		Policy: actors.Credit,
	}
}

func (w *wiring) coreSpec() actors.ChildSpec {
	d := w.d
	// status comes first: if it dies, everything that reported to it
	// restarts and reports again (upstream's reason).
	children := []actors.ChildSpec{
		{Label: status.Label, Producer: status.Producer(d.Status, d.Log.Named("status")), Bound: status.Bound(), Policy: status.Policy},
	}
	if d.Database != nil {
		children = append(children,
			storage.StoreChildSpec(storage.StoreConfig{
				Kit: d.Kit, View: w.store, Dir: d.StorageDir, Options: d.StorageOptions,
				Status: w.ids.status, Log: d.Log.Named("store"),
			}),
			w.pipelineSpec(),
		)
	}
	return actors.ChildSpec{
		Label: CoreLabel,
		Producer: actors.Supervisor(actors.SupervisorSpec{
			Strategy: actors.RestForOne,
			Backoff:  actors.Backoff(100*time.Millisecond, 30*time.Second, 0.2, time.Minute),
			Escalate: actors.EscalateAfter(5, time.Minute),
			Children: children,
		}),
		Bound:  actors.Count(64),
		Policy: actors.Credit,
	}
}

func (w *wiring) pipelineSpec() actors.ChildSpec {
	return actors.ChildSpec{
		Label: PipelineLabel,
		Producer: actors.Supervisor(actors.SupervisorSpec{
			// Losing Postgres never restarts the shape subsystem: shapes is
			// a sibling of conn-manager, added by it (ARCHITECTURE §1.2).
			Strategy: actors.OneForOne,
			Backoff:  actors.Backoff(time.Second, 30*time.Second, 0.2, time.Minute),
			Escalate: actors.EscalateAfter(5, time.Minute),
			Children: []actors.ChildSpec{w.connManagerSpec()},
		}),
		Bound:  actors.Count(64),
		Policy: actors.Credit,
	}
}

func (w *wiring) connManagerSpec() actors.ChildSpec {
	d, db := w.d, w.d.Database
	slot, _ := pgwire.SlotName(db.StreamID)
	pub, _ := pgwire.PublicationName(db.StreamID)
	adminSize, snapSize := pool.Sizes(db.PoolSize)
	pooled := db.PooledDSN
	if pooled == "" {
		pooled = db.DSN
	}
	log := d.Log.Named("replication")
	return manager.ChildSpec(manager.Config{
		Kit:    d.Kit,
		Status: w.ids.status,
		AdminPool: pool.ChildSpec(pool.Config{Kit: d.Kit, Role: pgwire.RoleAdmin, DSN: db.DSN, Dial: db.Dial, MaxConns: adminSize,
			View: w.admin, Status: w.ids.status, Log: log.Named("admin-pool")}),
		SnapshotPool: pool.ChildSpec(pool.Config{Kit: d.Kit, Role: pgwire.RoleSnapshot, DSN: pooled, Dial: db.Dial, MaxConns: snapSize,
			View: w.snap, Status: w.ids.status, Log: log.Named("snapshot-pool")}),
		Lock: lock.ChildSpec(lock.Config{Kit: d.Kit, DSN: db.DSN, Dial: db.Dial, Slot: slot, Status: w.ids.status, Log: log.Named("lock")}),
		TxnBuilder: builder.ChildSpec(builder.Config{Collector: w.ids.collector, Replication: w.ids.replication,
			Options: decode.Options{MaxTxnBytes: db.MaxTxnBytes}, Log: log.Named("txn-builder")}),
		Replication: func(s manager.SetupResult) actors.ChildSpec {
			return stream.ChildSpec(stream.ActorConfig{Kit: d.Kit, DSN: db.DSN, Dial: db.Dial, Slot: s.Slot, Publication: s.Publication,
				StartLSN: s.StartLSN, WalSenderTimeout: s.WalSenderTimeout, Builder: w.ids.txnBuilder, Status: w.ids.status,
				Positions: d.Status, Log: log.Named("stream")})
		},
		Setup: func(ctx context.Context, req manager.SetupRequest) (manager.SetupResult, error) {
			info, err := stream.Setup(ctx, stream.SetupConfig{DSN: db.DSN, Dial: db.Dial, Slot: slot, Publication: pub, RecreateSlot: req.RecreateSlot, Reason: req.Reason})
			if err != nil {
				return manager.SetupResult{}, err
			}
			w.backend.serverVersion.Store(int64(info.ServerVersion))
			return manager.SetupResult{SystemID: info.SystemID, Timeline: info.Timeline, XLogPos: info.XLogPos, DBName: info.DBName,
				ServerVersion: info.ServerVersion, WalSenderTimeout: info.WalSenderTimeout, Publication: info.Publication, Slot: info.Slot,
				StartLSN: info.StartLSN, SlotCreated: info.SlotCreated, SlotReason: info.SlotReason, PublicationCreated: info.PublicationCreated}, nil
		},
		Shapes:       func(start manager.ShapesStart) actors.ChildSpec { return w.shapesSpec(start, pub) },
		ShapesParent: w.ids.pipeline,
		Log:          log.Named("conn-manager"),
	})
}

// shapesSpec is the shape subsystem: writer, collector, consumers and the
// registry, restarted together (their state is only valid together).
func (w *wiring) shapesSpec(start manager.ShapesStart, publicationName string) actors.ChildSpec {
	d := w.d
	log := d.Log.Named("shapes")
	var purge func(ctx context.Context) error
	if start.Purge {
		reason, from := start.Reason, start.Setup.StartLSN
		purge = func(context.Context) error {
			s := w.store.Store()
			if s == nil {
				return errors.New("the shape store is not open")
			}
			log.Warn("purging every stored shape", zap.String("reason", reason))
			if err := s.PurgeAll(); err != nil {
				return err
			}
			// The new slot starts at a position nothing before which will
			// be streamed: it is durable by definition. Persisting it keeps
			// confirmed_flush_lsn ≤ durable_lsn true from the first moment
			// (I3), before any shape exists to advance it.
			if from == 0 {
				return nil
			}
			b := s.NewWriter().NewBatch()
			if err := b.PersistAck(from); err != nil {
				return err
			}
			b.Seal()
			if _, err := s.WriteAndSync(b); err != nil {
				return fmt.Errorf("persist the new slot's start %s: %w", from, err)
			}
			d.Status.SetDurable(from)
			return nil
		}
	}
	records := shapeRecords{store: w.store}
	ensurePublished := func(ctx context.Context, t *events.Table) (uint64, error) {
		p := w.admin.Pool()
		if p == nil {
			return 0, errors.New("no admin connection to publish the table with")
		}
		added, err := publication.AddTable(ctx, p, publicationName, t)
		if err != nil || !added {
			return 0, err
		}
		return publication.Horizon(ctx, p)
	}
	children := func(e *registry.Entry, restored bool) []actors.ChildSpec {
		consumerPID := actor.NewPID(d.Kit.System().Address(), w.ids.consumers.Id+"/"+consumer.Label(e.Handle))
		table, id := e.Table, e.ID
		columns := columnIndexes(table, e.Definition.Columns)
		// The clause was checked at creation; re-checking the stored one
		// only fails for a corrupted record, and then the column index -1
		// makes the consumer and the snapshot refuse to start, so the shape
		// is invalidated instead of served unfiltered.
		cond, err := checkedWhere(table, &e.Definition)
		if err != nil {
			log.Error("a stored shape's where clause no longer checks", zap.String("handle", e.Handle), zap.Error(err))
			columns = append(slices.Clone(columns), -1)
		}
		whereSQL, whereArgs := cond.SQLFrom(1)
		route := routeCondition(cond)
		cspec := consumer.ChildSpec(consumer.Config{
			Shape: e.ID, Handle: e.Handle, Table: e.Table, Columns: columns, Replica: consumerReplica(e.Definition.Replica),
			Match:  rowMatcher(cond),
			Writer: w.ids.writer, Collector: w.ids.collector, Invalidate: w.ids.registry,
			Resume: func() (consumer.StoredLog, bool) {
				s := w.store.Store()
				if s == nil {
					return nil, false
				}
				v, ok := s.View(uint64(id))
				if !ok {
					return nil, false
				}
				return v, true
			},
			Log: log.Named("consumer"),
		})
		cspec.Watcher = w.ids.registry
		specs := []actors.ChildSpec{cspec}
		if !restored {
			specs = append(specs, actors.ChildSpec{
				Label: registry.SnapshotLabel(e.Handle),
				Producer: snapshot.ActorProducer(snapshot.ActorConfig{
					Kit: d.Kit, Shape: e.ID, Handle: e.Handle, Table: table, Columns: columns, ServerVersion: int(w.backend.serverVersion.Load()),
					Where: whereSQL, Args: whereArgs, Route: route,
					Pool: w.snap.Pool, EnsurePublished: ensurePublished,
					Collector: w.ids.collector, Consumer: consumerPID, Writer: w.ids.writer, Registry: w.ids.registry,
					Log: log.Named("snapshot"),
				}),
				Bound: snapshot.ActorBound(), Policy: actors.Credit, Restart: actors.Temporary,
			})
		}
		return specs
	}
	connManager := w.ids.connManager
	return actors.ChildSpec{
		Label: ShapesLabel,
		Producer: actors.Supervisor(actors.SupervisorSpec{
			Strategy: actors.OneForAll,
			Backoff:  actors.Backoff(time.Second, 30*time.Second, 0.2, time.Minute),
			Escalate: actors.EscalateAfter(3, time.Minute),
			Children: []actors.ChildSpec{
				storage.WriterChildSpec(storage.WriterConfig{Kit: d.Kit, Store: w.store.Store, Collector: w.ids.collector,
					Invalidate: w.ids.registry, OnSynced: w.backend.synced, Log: log.Named("store-writer"),
					Sync: func(_ context.Context, s *storage.Store, b *storage.Batch) (storage.Result, error) {
						// Fault point for RELIABILITY B5: the batch holds
						// received commits that are not yet durable.
						if err := d.Faults.Hit("store.before_sync"); err != nil {
							return storage.Result{}, err
						}
						return s.WriteAndSync(b)
					}}),
				collector.ChildSpec(collector.Config{Kit: d.Kit, Writer: w.ids.writer, Replication: w.ids.replication,
					Acked: func() lsn.LSN {
						if s := w.store.Store(); s != nil {
							return s.Acked()
						}
						return 0
					},
					Positions: positions{view: d.Status, lastSeen: &w.backend.lastSeen}, Status: w.ids.status,
					Invalidate: w.ids.registry, Log: log.Named("collector")}),
				{Label: ConsumersLabel, Producer: actors.Supervisor(actors.SupervisorSpec{
					Strategy: actors.OneForOne, Backoff: actors.Backoff(time.Second, 30*time.Second, 0.2, time.Minute),
				}), Bound: actors.Count(4096), Policy: actors.Credit},
				{Label: registry.Label, Producer: registry.Producer(registry.Config{
					View: w.registry, Records: records, Children: children, Route: storedRoute, Consumers: w.ids.consumers, Collector: w.ids.collector,
					Status: w.ids.status, Kit: d.Kit, Log: log.Named("registry"), Purge: purge, Writer: w.ids.writer,
				}), Bound: registry.Bound(), Policy: registry.Policy},
			},
			// After a restart the stream must resume from the acknowledged
			// position: the restarted collector and consumers lost whatever
			// was in flight.
			AfterRestart: func(ctx actor.Context, _ []string) {
				ctx.Send(connManager, &protocol.PipelineReset{Reason: "the shape subsystem restarted"})
			},
		}),
		Bound:  actors.Count(64),
		Policy: actors.Credit,
	}
}

// positions records the durable position for /v1/status and as the HTTP
// layer's last-seen LSN.
type positions struct {
	view     *status.View
	lastSeen *atomic.Uint64
}

func (p positions) SetDurable(l lsn.LSN) {
	p.view.SetDurable(l)
	p.lastSeen.Store(uint64(l))
}
