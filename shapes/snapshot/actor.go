package snapshot

import (
	"context"
	"errors"
	"fmt"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.uber.org/zap"

	"github.com/shapesync/shapesync/actors"
	"github.com/shapesync/shapesync/replication/events"
	"github.com/shapesync/shapesync/replication/lsn"
	"github.com/shapesync/shapesync/shapes/logitems"
	"github.com/shapesync/shapesync/shapes/protocol"
)

// ActorConfig is what a shape's snapshot actor needs from the wiring.
type ActorConfig struct {
	Kit    *actors.Kit
	Shape  protocol.ShapeID
	Handle string
	Table  *events.Table
	// Columns are the shape's columns as indexes into Table.Columns, in the
	// order the rows carry them; nil selects every column.
	Columns []int
	// Where is the shape's condition rendered by shapes/where, with $1, $2,
	// … bound to Args (Request.Where); "" selects every row.
	Where string
	Args  []any
	// Route is the routing condition sent with the Subscribe
	// (protocol.Subscribe.Route, built by the wiring); nil: every change.
	Route any
	// ChangesOnly is log=changes_only: only snapshot-end is stored.
	ChangesOnly   bool
	ServerVersion int
	// Pool returns the snapshot pool, or nil while there is none.
	Pool func() *pgxpool.Pool
	// EnsurePublished is Deps.EnsurePublished.
	EnsurePublished func(ctx context.Context, t *events.Table) (uint64, error)
	// Collector routes the table to Consumer once asked (Subscribe);
	// Writer stores the rows; Registry hears SnapshotStored or
	// SnapshotFailed.
	Collector, Consumer, Writer, Registry *actors.PID
	Limits                                Limits
	Log                                   *zap.Logger
}

// ActorBound is the snapshot actor's mailbox bound: one batch of rows is
// in flight at a time, so replies never pile up.
func ActorBound() actors.Bound { return actors.Count(8) }

// snapshotActor runs Run in a goroutine it owns and bridges Run's blocking
// callbacks to messages: each callback sends a request and waits on a
// channel that the actor completes when the reply arrives.
type snapshotActor struct {
	cfg   ActorConfig
	gor   *actors.Goroutines
	epoch actors.Epoch
	// waiting maps the Seq of an outstanding request to the channel its
	// reply completes.
	waiting map[uint64]chan struct{}
	// streamed maps a Subscribe's Seq to where its Streamed list goes;
	// written before the reply channel closes, read after.
	streamed map[uint64]*[]uint32
	done     bool
}

// ActorProducer returns the producer of a shape's snapshot actor. It is a
// temporary child: it stops once the snapshot is stored or has failed.
func ActorProducer(cfg ActorConfig) actor.Producer {
	if cfg.Log == nil {
		cfg.Log = zap.NewNop()
	}
	return func() actor.Actor {
		return &snapshotActor{cfg: cfg, waiting: map[uint64]chan struct{}{}, streamed: map[uint64]*[]uint32{}}
	}
}

type (
	// await registers a request's reply channel and sends the request.
	await struct {
		seq      uint64
		ch       chan struct{}
		to       *actors.PID
		send     any
		streamed *[]uint32
	}
	finished struct {
		res Result
		err error
	}
)

func (a *snapshotActor) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		a.gor = a.cfg.Kit.Goroutines(ctx)
		a.start(ctx)
	case *await:
		a.waiting[m.seq] = m.ch
		if m.streamed != nil {
			a.streamed[m.seq] = m.streamed
		}
		ctx.Send(m.to, m.send)
	case *protocol.Subscribed:
		if out, ok := a.streamed[m.Seq]; ok {
			*out = m.Streamed
			delete(a.streamed, m.Seq)
		}
		a.complete(m.Seq)
	case *protocol.RowsAccepted:
		a.complete(m.Seq)
	case *protocol.SnapshotStored:
		a.complete(m.Seq)
	case *actors.Exited:
		if a.gor.Reap(m.Epoch) && !a.done && m.Err != nil {
			a.fail(ctx, m.Err)
		}
	case *actors.Failed:
		if a.gor.Reap(m.Epoch) && !a.done {
			a.fail(ctx, m.Err)
		}
	case *finished:
		a.done = true
		if m.err != nil {
			a.fail(ctx, m.err)
			return
		}
		if m.res.CommitErr != nil {
			a.cfg.Log.Warn("snapshot transaction did not commit cleanly; its rows are stored", zap.Error(m.res.CommitErr))
		}
		a.cfg.Log.Info("snapshot stored", zap.String("handle", a.cfg.Handle), zap.Int("rows", m.res.Rows), zap.Int("attempts", m.res.Attempts))
		ctx.Send(a.cfg.Registry, &protocol.SnapshotStored{Shape: a.cfg.Shape})
		ctx.Stop(ctx.Self())
	}
}

func (a *snapshotActor) complete(seq uint64) {
	if ch, ok := a.waiting[seq]; ok {
		delete(a.waiting, seq)
		close(ch)
	}
}

func (a *snapshotActor) fail(ctx actor.Context, err error) {
	a.done = true
	a.cfg.Log.Warn("snapshot failed; the shape is invalidated", zap.String("handle", a.cfg.Handle), zap.Error(err))
	ctx.Send(a.cfg.Registry, &protocol.SnapshotFailed{Shape: a.cfg.Shape, Err: err})
	ctx.Stop(ctx.Self())
}

func (a *snapshotActor) start(ctx actor.Context) {
	cfg := a.cfg
	self, root := ctx.Self(), cfg.Kit.Root()
	columns := cfg.Columns
	if columns == nil {
		columns = make([]int, len(cfg.Table.Columns))
		for i := range columns {
			columns[i] = i
		}
	}
	a.epoch = a.gor.Go("snapshot", func(t *actors.Task) error {
		var seq uint64
		var streamed []uint32
		// call sends msg (built with the next Seq) to `to` through the actor
		// and waits for the reply with that Seq; out, if set, receives a
		// Subscribed reply's Streamed list.
		call := func(c context.Context, to *actors.PID, out *[]uint32, build func(seq uint64) any) error {
			seq++
			ch := make(chan struct{})
			if !t.Send(&await{seq: seq, ch: ch, to: to, send: build(seq), streamed: out}) {
				return context.Canceled
			}
			select {
			case <-ch:
				return nil
			case <-c.Done():
				return c.Err()
			}
		}
		pool := cfg.Pool()
		if pool == nil {
			t.Send(&finished{err: &Error{Kind: KindTransient, Table: cfg.Table.Schema + "." + cfg.Table.Name, Reason: "no snapshot pool connection yet", Err: ErrPoolExhausted}})
			return nil
		}
		enc, err := rowEncoder(cfg.Table, columns)
		if err != nil {
			t.Send(&finished{err: err})
			return nil
		}
		deps := Deps{
			Pool:            pool,
			Encoder:         enc,
			EnsurePublished: cfg.EnsurePublished,
			Subscribe: func(c context.Context) error {
				return call(c, cfg.Collector, &streamed, func(seq uint64) any {
					return &protocol.Subscribe{Shape: cfg.Shape, Handle: cfg.Handle, Schema: cfg.Table.Schema, Table: cfg.Table.Name, Consumer: cfg.Consumer, ReplyTo: self, Seq: seq, Route: cfg.Route}
				})
			},
			Streamed: func() []uint32 { return streamed },
			SnapshotKnown: func(_ context.Context, snap lsn.Snapshot) error {
				root.Send(cfg.Consumer, &protocol.SnapshotKnown{Shape: cfg.Shape, Snapshot: snap})
				return nil
			},
			Rows: func(c context.Context, batch [][]byte) error {
				return call(c, cfg.Writer, nil, func(seq uint64) any {
					return &protocol.SnapshotRows{Shape: cfg.Shape, Seq: seq, Rows: batch, ReplyTo: self}
				})
			},
			End: func(c context.Context, end []byte) error {
				return call(c, cfg.Writer, nil, func(seq uint64) any {
					return &protocol.SnapshotEnd{Shape: cfg.Shape, Seq: seq, JSON: end, ReplyTo: self}
				})
			},
			Limits: cfg.Limits,
		}
		res, err := Run(t.Context(), deps, Request{Table: cfg.Table, Columns: columns, Where: cfg.Where, Args: cfg.Args, ChangesOnly: cfg.ChangesOnly, ServerVersion: cfg.ServerVersion})
		if errors.Is(err, context.Canceled) && t.Killed() {
			return nil
		}
		t.Send(&finished{res: res, err: err})
		return nil
	})
}

// rowEncoder builds the row encoder of a shape over the given columns
// (indexes into t.Columns).
func rowEncoder(t *events.Table, columns []int) (*logitems.Encoder, error) {
	rel := RelationOf(t)
	keys := t.KeyColumns()
	baseTypes := make([]uint32, len(keys))
	for i, k := range keys {
		baseTypes[i] = t.Columns[k].TypeOID
	}
	enc, err := logitems.NewEncoder(logitems.Config{Schema: t.Schema, Table: t.Name, Relation: rel, Columns: columns, KeyColumns: keys, KeyBaseTypes: baseTypes})
	if err != nil {
		return nil, fmt.Errorf("build the row encoder of %q.%q: %w", t.Schema, t.Name, err)
	}
	return enc, nil
}

// RelationOf describes a catalog table the way the stream describes
// relations, for encoders shared by the snapshot and the stream.
func RelationOf(t *events.Table) *events.Relation {
	rel := &events.Relation{ID: t.OID, Schema: t.Schema, Name: t.Name, ReplicaIdentity: 'f'}
	for _, c := range t.Columns {
		rel.Columns = append(rel.Columns, events.Column{Name: c.Name, TypeOID: c.TypeOID, TypeMod: c.TypeMod, InIdentity: true})
	}
	return rel
}
