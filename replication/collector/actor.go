package collector

import (
	"fmt"
	"sync/atomic"

	"github.com/asynkron/protoactor-go/actor"
	"go.uber.org/zap"

	"github.com/shapesync/shapesync/actors"
	"github.com/shapesync/shapesync/replication/lsn"
	"github.com/shapesync/shapesync/shapes/filter"
	"github.com/shapesync/shapesync/shapes/protocol"
)

// Label is the collector's label under the shapes supervisor.
const Label = "collector"

// Positions records the durable position for /v1/status; status.View
// implements it. It is called on the collector's goroutine, so it must not
// block.
type Positions interface {
	SetDurable(lsn.LSN)
}

// Config is what the wiring injects into the collector.
type Config struct {
	// Kit sends the coalesced AckLSN. Required.
	Kit *actors.Kit
	// Writer is the store-writer: it gets PersistAck and sends FlushedBatch
	// and AckPersisted back. Required.
	Writer *actors.PID
	// Replication gets AckLSN (coalesced, latest wins) once a position is
	// durable as S|acked. Nil: acks are only recorded.
	Replication *actors.PID
	// Acked returns the durable S|acked at start (storage Store.Acked): the
	// flush tracker's floor, read by every incarnation. Nil starts at 0.
	Acked func() lsn.LSN
	// Positions records the durable position (status.View). Optional.
	Positions Positions
	// Status gets protocol.CondShapes: false at start, true once
	// CollectorReady arrived. Optional.
	Status *actors.PID
	// Invalidate gets protocol.ShapeInvalid for a shape whose consumer
	// terminated (the registry removes it). Optional: otherwise only logged.
	Invalidate *actors.PID
	// Log is where the actor logs; nil logs nothing.
	Log *zap.Logger
}

// ChildSpec is the collector's spec for the shapes supervisor: credit
// policy with a bound of #shapes + 64 (each consumer owes at most one
// answer, plus subscriptions, flush reports and the event in flight).
func ChildSpec(cfg Config) actors.ChildSpec {
	shapes := &atomic.Int64{}
	return actors.ChildSpec{
		Label:    Label,
		Producer: producer(cfg, shapes),
		Bound:    actors.Dynamic(func() int { return int(shapes.Load()) + 64 }),
		Policy:   actors.Credit,
	}
}

// Producer returns the collector's producer (ChildSpec uses it with a
// shape counter for the bound).
func Producer(cfg Config) actor.Producer { return producer(cfg, &atomic.Int64{}) }

func producer(cfg Config, shapes *atomic.Int64) actor.Producer {
	if cfg.Log == nil {
		cfg.Log = zap.NewNop()
	}
	return func() actor.Actor { return &collector{cfg: cfg, shapes: shapes} }
}

type collector struct {
	cfg     Config
	shapes  *atomic.Int64
	r       *router
	acks    ackWindow
	ready   bool
	replyTo *actors.PID // sender of the event in flight
}

func (c *collector) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		c.start(ctx)
	case *protocol.Event:
		c.event(ctx, m)
	case *protocol.Delivered:
		st, err := c.r.Delivered(m.Shape, m.Seq)
		c.apply(ctx, st, err)
	case *actor.Terminated:
		rt, st, err := c.r.Lost(m.Who.Id)
		if rt != nil {
			c.shapes.Store(int64(c.r.Shapes()))
			c.cfg.Log.Warn("collector: a consumer terminated; its shape is unsubscribed and must be invalidated",
				zap.Uint64("shape", uint64(rt.shape)), zap.String("handle", rt.handle), zap.String("consumer", m.Who.Id))
			if c.cfg.Invalidate != nil {
				ctx.Send(c.cfg.Invalidate, &protocol.ShapeInvalid{Shape: rt.shape, Handle: rt.handle,
					Reason: "its consumer terminated (" + m.Why.String() + ")"})
			}
		}
		c.apply(ctx, st, err)
	case *protocol.Subscribe:
		c.subscribe(ctx, m)
	case *protocol.Unsubscribe:
		rt, st, err := c.r.Unsubscribe(m.Shape)
		if rt != nil {
			ctx.Unwatch(rt.pid)
			c.shapes.Store(int64(c.r.Shapes()))
		}
		c.apply(ctx, st, err)
	case *protocol.FlushedBatch:
		c.r.Flushed(m.Shapes)
		c.maybePersist(ctx)
	case *protocol.AckPersisted:
		durable := c.acks.persisted(m.LSN)
		if c.cfg.Positions != nil {
			c.cfg.Positions.SetDurable(durable)
		}
		if c.cfg.Replication != nil {
			c.cfg.Kit.Coalesce(c.cfg.Replication, &protocol.AckLSN{LSN: durable})
		}
		c.maybePersist(ctx)
	case *protocol.CollectorReady:
		if !c.ready {
			c.ready = true
			c.cfg.Log.Info("collector: ready", zap.Int("shapes", c.r.Shapes()))
			c.condition(true, "")
		}
	case *protocol.Inspect:
		ctx.Respond(&protocol.Inspection{Summary: fmt.Sprintf("ready=%t shapes=%d busy=%t position=%s durable=%s",
			c.ready, c.r.Shapes(), c.r.Busy(), c.r.Position(), c.acks.durable)})
	}
}

func (c *collector) start(ctx actor.Context) {
	if c.cfg.Kit == nil || c.cfg.Writer == nil {
		panic("collector: Config.Kit and Config.Writer are required (the wiring must inject them)")
	}
	var start lsn.LSN
	if c.cfg.Acked != nil {
		start = c.cfg.Acked()
	}
	c.r = newRouter(start)
	c.acks = ackWindow{durable: start}
	// /v1/status reports the stored S|acked from the start: until the
	// first AckPersisted it would otherwise read 0/0, behind the slot's
	// confirmed_flush_lsn after every restart (I3 checks, SHAPE_API §19).
	if c.cfg.Positions != nil && start != 0 {
		c.cfg.Positions.SetDurable(start)
	}
	c.shapes.Store(0)
	c.condition(false, "waiting for the registry to subscribe the stored shapes")
}

func (c *collector) event(ctx actor.Context, m *protocol.Event) {
	if !c.ready {
		ctx.Respond(&protocol.NotReady{Epoch: m.Epoch, Seq: m.Seq})
		return
	}
	c.replyTo = ctx.Sender()
	st, err := c.r.Event(m)
	c.apply(ctx, st, err)
}

func (c *collector) subscribe(ctx actor.Context, m *protocol.Subscribe) {
	replyTo := m.ReplyTo
	if replyTo == nil {
		replyTo = ctx.Sender()
	}
	if m.Consumer == nil {
		c.cfg.Log.Error("collector: Subscribe without a consumer PID ignored", zap.Uint64("shape", uint64(m.Shape)))
		return
	}
	cond, ok := m.Route.(filter.Condition)
	if !ok && m.Route != nil {
		c.cfg.Log.Error("collector: Subscribe with a route that is not a filter.Condition; the shape gets every change of its table",
			zap.Uint64("shape", uint64(m.Shape)), zap.String("handle", m.Handle), zap.String("route", fmt.Sprintf("%T", m.Route)))
	}
	old, err := c.r.Subscribe(m.Shape, m.Handle, tableName{Schema: m.Schema, Name: m.Table}, m.Consumer, cond)
	if err != nil {
		c.cfg.Log.Error("collector: malformed route; the shape gets every change of its table",
			zap.Uint64("shape", uint64(m.Shape)), zap.String("handle", m.Handle), zap.Error(err))
	}
	if old != nil && !old.Equal(m.Consumer) {
		ctx.Unwatch(old)
	}
	// A consumer that is already gone answers the Watch with Terminated at
	// once, which unsubscribes it again.
	ctx.Watch(m.Consumer)
	c.shapes.Store(int64(c.r.Shapes()))
	if replyTo != nil {
		ctx.Send(replyTo, &protocol.Subscribed{Shape: m.Shape, Seq: m.Seq, Streamed: c.r.Streamed()})
	}
}

// apply carries out a router step. A router error is a stream-order bug:
// fail, so the shapes subsystem restarts and the stream replays from the
// durable position.
func (c *collector) apply(ctx actor.Context, st step, err error) {
	if err != nil {
		c.cfg.Log.Error("collector: cannot continue; restarting the shapes subsystem", zap.Error(err))
		panic(err)
	}
	for _, s := range st.Sends {
		// As a request, so the consumer can answer its sender; a dead
		// consumer is noticed through the Watch.
		ctx.Request(s.To, s.Msg)
	}
	if st.Handled != nil {
		if c.replyTo != nil {
			ctx.Send(c.replyTo, &protocol.EventHandled{Epoch: st.Handled.Epoch, Seq: st.Handled.Seq})
		}
		c.replyTo = nil
	}
	c.maybePersist(ctx)
}

func (c *collector) maybePersist(ctx actor.Context) {
	if l, ok := c.acks.next(c.r.Position()); ok {
		ctx.Send(c.cfg.Writer, &protocol.PersistAck{LSN: l})
	}
}

func (c *collector) condition(ok bool, reason string) {
	if c.cfg.Status == nil {
		return
	}
	c.cfg.Kit.Coalesce(c.cfg.Status, &protocol.Condition{Name: protocol.CondShapes, OK: ok, Reason: reason})
}
