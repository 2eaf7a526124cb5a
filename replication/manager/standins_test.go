package manager

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/shapesync/shapesync/actors"
	"github.com/shapesync/shapesync/replication/events"
	"github.com/shapesync/shapesync/replication/pgwire"
	"github.com/shapesync/shapesync/replication/stream"
	"github.com/shapesync/shapesync/shapes/protocol"
)

// streamSetup is the ReplicationSetup the wiring gives conn-manager, built
// from replication/stream's setup functions on a replication connection of
// its own (SHAPE_API §22.2 steps 1, 3, 4).
func streamSetup(dsn, slot, pub string) ReplicationSetup {
	return func(ctx context.Context, req SetupRequest) (SetupResult, error) {
		cfg, err := pgwire.ParseConnConfig(dsn, pgwire.RoleReplication, pgwire.DialOptions{})
		if err != nil {
			return SetupResult{}, err
		}
		wrap := func(err error) error { return pgwire.WrapConnError(pgwire.RoleReplication, cfg.Host, err) }
		conn, err := pgconn.ConnectConfig(ctx, cfg)
		if err != nil {
			return SetupResult{}, wrap(err)
		}
		defer func() {
			closeCtx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			_ = conn.Close(closeCtx)
		}()
		sys, err := stream.IdentifySystem(ctx, conn)
		if err != nil {
			return SetupResult{}, wrap(err)
		}
		settings, err := stream.ReadServerSettings(ctx, conn)
		if err != nil {
			return SetupResult{}, wrap(err)
		}
		pubCreated, err := stream.EnsurePublication(ctx, conn, pub, settings.VersionNum)
		if err != nil {
			return SetupResult{}, wrap(err)
		}
		s, err := stream.EnsureSlot(ctx, conn, slot, pubCreated || req.RecreateSlot)
		if err != nil {
			return SetupResult{}, wrap(err)
		}
		return SetupResult{
			SystemID: sys.SystemID, Timeline: sys.Timeline, XLogPos: sys.XLogPos, DBName: sys.DBName,
			ServerVersion: settings.VersionNum, WalSenderTimeout: settings.WalSenderTimeout,
			Publication: pub, Slot: s.Name, StartLSN: s.Start,
			SlotCreated: s.Created, SlotReason: s.Reason, PublicationCreated: pubCreated,
		}, nil
	}
}

// replicationStandIn plays the replication actor (written elsewhere): it
// streams with replication/stream's Pump in a goroutine it owns, sends the
// batches to the txn-builder, returns their credit to the pump, and reports
// replication_ready once the stream is live.
type replicationStandIn struct {
	kit             *actors.Kit
	dsn             string
	setup           SetupResult
	builder, status *actors.PID

	g     *actors.Goroutines
	epoch actors.Epoch
	pump  *stream.Pump
}

type (
	pumpStarted struct {
		epoch actors.Epoch
		pump  *stream.Pump
	}
	streamLive struct{ epoch actors.Epoch }
)

func replicationSpec(kit *actors.Kit, dsn string, builder, status *actors.PID) func(SetupResult) actors.ChildSpec {
	return func(setup SetupResult) actors.ChildSpec {
		return actors.ChildSpec{Label: "replication", Bound: actors.Count(64), Policy: actors.Credit,
			Producer: func() actor.Actor {
				return &replicationStandIn{kit: kit, dsn: dsn, setup: setup, builder: builder, status: status}
			}}
	}
}

func (r *replicationStandIn) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		r.g = r.kit.Goroutines(ctx)
		r.epoch = r.g.Go("wal-pump", r.run(ctx.Self()))
	case *pumpStarted:
		if m.epoch == r.epoch {
			r.pump = m.pump
			epoch, live := m.epoch, m.pump.Streaming()
			r.g.Go("live", func(t *actors.Task) error {
				select {
				case <-live:
					t.Send(&streamLive{epoch: epoch})
				case <-t.Context().Done():
				}
				return nil
			})
		}
	case *streamLive:
		if m.epoch == r.epoch {
			c := &protocol.Condition{Name: protocol.CondReplication, OK: true}
			ctx.Send(r.status, c)
			ctx.Request(ctx.Parent(), c)
		}
	case *protocol.BatchDone:
		if m.Epoch == uint64(r.epoch) && r.pump != nil {
			r.pump.Credit()
		}
	case *actors.Exited:
		if r.g.Reap(m.Epoch) && m.Name == "wal-pump" {
			panic(fmt.Errorf("replication stream ended: %w", errors.Join(m.Err, errors.New("pump returned"))))
		}
	case *actors.Failed:
		if r.g.Reap(m.Epoch) {
			panic(m.Err)
		}
	}
}

func (r *replicationStandIn) run(self *actors.PID) func(t *actors.Task) error {
	return func(t *actors.Task) error {
		ctx := t.Context()
		cfg, err := pgwire.ParseConnConfig(r.dsn, pgwire.RoleReplication, pgwire.DialOptions{})
		if err != nil {
			return err
		}
		conn, err := pgconn.ConnectConfig(ctx, cfg)
		if err != nil {
			return pgwire.WrapConnError(pgwire.RoleReplication, cfg.Host, err)
		}
		t.SetCloser(conn.Conn())
		defer func() {
			closeCtx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			_ = conn.Close(closeCtx)
		}()
		if err := stream.ApplyDisplaySettings(ctx, conn); err != nil {
			return err
		}
		if err := stream.Start(ctx, conn, r.setup.Slot, r.setup.Publication, r.setup.StartLSN); err != nil {
			return err
		}
		var seq uint64
		root, builder, epoch := r.kit.Root(), r.builder, uint64(t.Epoch)
		pump, err := stream.NewPump(stream.Config{Conn: conn, StartAcked: r.setup.StartLSN, Deliver: func(b stream.Batch) {
			seq++
			items := make([]protocol.WalItem, len(b.Items))
			for i, it := range b.Items {
				if it.Kind == stream.KindWalEnd {
					items[i] = protocol.WalItem{WalEnd: it.WalEnd}
				} else {
					items[i] = protocol.WalItem{WALStart: it.WALStart, Data: it.Data}
				}
			}
			root.RequestWithCustomSender(builder, &protocol.WalBatch{Epoch: epoch, Seq: seq, Items: items}, self)
		}})
		if err != nil {
			return err
		}
		t.Send(&pumpStarted{epoch: t.Epoch, pump: pump})
		return pump.Run(ctx)
	}
}

// collector plays the shapes subsystem: one actor that records the events
// it is given and answers each at once. starts records the ShapesStart of
// every incarnation actually spawned.
type collector struct {
	mu     sync.Mutex
	events []*protocol.Event
	starts []ShapesStart
}

func (c *collector) spec(start ShapesStart) actors.ChildSpec {
	return actors.ChildSpec{Label: "shapes", Bound: actors.Count(64), Policy: actors.Credit,
		Producer: func() actor.Actor {
			c.mu.Lock()
			c.starts = append(c.starts, start)
			c.mu.Unlock()
			return actor.ReceiveFunc(func(ctx actor.Context) {
				if m, ok := ctx.Message().(*protocol.Event); ok {
					c.mu.Lock()
					c.events = append(c.events, m)
					c.mu.Unlock()
					ctx.Respond(&protocol.EventHandled{Epoch: m.Epoch, Seq: m.Seq})
				}
			})
		}}
}

// epochs lists the stream epochs seen, in order of first appearance.
func (c *collector) epochs() []uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []uint64
	for _, ev := range c.events {
		if !slices.Contains(out, ev.Epoch) {
			out = append(out, ev.Epoch)
		}
	}
	return out
}

// inserted lists, for one epoch, the ids of the inserted rows in the
// order their fragments arrived, and checks that seqs grow by one.
func (c *collector) inserted(epoch uint64) (ids []string, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var last uint64
	for _, ev := range c.events {
		if ev.Epoch != epoch {
			continue
		}
		if last != 0 && ev.Seq != last+1 {
			return nil, fmt.Errorf("epoch %d: seq %d after %d", epoch, ev.Seq, last)
		}
		last = ev.Seq
		if f, ok := ev.Event.(*events.Fragment); ok {
			for _, ch := range f.Changes {
				ids = append(ids, ch.New[0].Text)
			}
		}
	}
	return ids, nil
}

func (c *collector) startsSeen() []ShapesStart {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.starts)
}
