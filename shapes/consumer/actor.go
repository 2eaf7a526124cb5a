package consumer

import (
	"fmt"

	"github.com/asynkron/protoactor-go/actor"
	"go.uber.org/zap"

	"github.com/shapesync/shapesync/actors"
	"github.com/shapesync/shapesync/replication/events"
	"github.com/shapesync/shapesync/shapes/protocol"
)

type workKind uint8

const (
	workDeliver workKind = iota + 1
	workAbort
)

// work is one message from the collector, queued in delivery order.
type work struct {
	kind     workKind
	seq      uint64
	replyTo  *actors.PID
	frag     *events.Fragment
	size     int64
	answered bool // Delivered was sent already (buffered before the snapshot was known)
}

type consumer struct {
	cfg       Config
	conv      *converter
	queue     []work
	head      int
	buffered  int64
	inflight  *work
	writerSeq uint64
	done      bool // invalidated: the consumer is stopping
}

func (c *consumer) Receive(ctx actor.Context) {
	if c.done {
		return
	}
	switch m := ctx.Message().(type) {
	case *actor.Started:
		conv, err := c.cfg.resume()
		if err != nil {
			c.invalidate(ctx, fmt.Sprintf("cannot resume: %v", err))
			return
		}
		c.conv = conv
	case *protocol.Deliver:
		c.enqueue(ctx, work{kind: workDeliver, seq: m.Seq, replyTo: c.replyTarget(ctx), frag: m.Fragment, size: fragmentSize(m.Fragment)})
	case *protocol.AbortTxn:
		c.enqueue(ctx, work{kind: workAbort, seq: m.Seq, replyTo: c.replyTarget(ctx)})
	case *protocol.SnapshotKnown:
		if c.conv.vis.Known {
			c.cfg.Log.Warn("consumer: snapshot visibility reported twice; keeping the first", zap.String("handle", c.cfg.Handle))
			return
		}
		c.conv.SetSnapshot(m.Snapshot)
		c.sendState(ctx)
		c.pump(ctx)
	case *protocol.Accepted:
		if c.inflight == nil || m.Seq != c.writerSeq {
			return
		}
		w := c.inflight
		c.inflight = nil
		c.answer(ctx, w)
		c.pump(ctx)
	case *protocol.SnapshotFailed:
		reason := "the snapshot failed"
		if m.Err != nil {
			reason += ": " + m.Err.Error()
		}
		c.invalidate(ctx, reason)
	case *protocol.Inspect:
		ctx.Respond(&protocol.Inspection{Summary: fmt.Sprintf("known=%t filtering=%t queued=%d buffered=%dB inflight=%t floor=%s",
			c.conv.vis.Known, c.conv.vis.Filtering, len(c.queue)-c.head, c.buffered, c.inflight != nil, c.conv.floor)})
	}
}

func (c *consumer) replyTarget(ctx actor.Context) *actors.PID {
	if s := ctx.Sender(); s != nil {
		return s
	}
	return c.cfg.Collector
}

// enqueue queues a collector message. While the visibility is unknown the
// message is buffered and answered at once: the collector moves on, and
// the flush tracker keeps the acknowledged position behind it.
func (c *consumer) enqueue(ctx actor.Context, w work) {
	c.buffered += w.size
	if !c.conv.vis.Known {
		if c.buffered > c.cfg.BufferLimit {
			c.invalidate(ctx, fmt.Sprintf("more than %d bytes of changes arrived before the snapshot's visibility was known", c.cfg.BufferLimit))
			return
		}
		c.answer(ctx, &w)
	}
	c.queue = append(c.queue, w)
	c.pump(ctx)
}

// pump converts queued work while no append is waiting for the writer.
func (c *consumer) pump(ctx actor.Context) {
	for c.inflight == nil && c.head < len(c.queue) && c.conv.vis.Known {
		w := c.queue[c.head]
		c.queue[c.head] = work{}
		c.head++
		if c.head == len(c.queue) {
			c.queue, c.head = c.queue[:0], 0
		}
		c.buffered -= w.size
		switch w.kind {
		case workAbort:
			if c.conv.Abort() {
				c.writerSeq++
				ctx.Send(c.cfg.Writer, &protocol.Rollback{Seq: c.writerSeq, Shape: c.cfg.Shape, ReplyTo: ctx.Self()})
				c.inflight = &w
				return
			}
		case workDeliver:
			out, err := c.conv.Fragment(w.frag)
			if err != nil {
				c.invalidate(ctx, err.Error())
				return
			}
			if out.StateChanged {
				c.sendState(ctx)
			}
			if len(out.Items) > 0 || out.Commit != nil {
				c.writerSeq++
				ctx.Send(c.cfg.Writer, &protocol.Append{Seq: c.writerSeq, Shape: c.cfg.Shape, Items: out.Items, Commit: out.Commit, ReplyTo: ctx.Self()})
				c.inflight = &w
				return
			}
		}
		c.answer(ctx, &w)
	}
}

func (c *consumer) answer(ctx actor.Context, w *work) {
	if w.answered {
		return
	}
	w.answered = true
	if w.replyTo != nil {
		ctx.Send(w.replyTo, &protocol.Delivered{Seq: w.seq, Shape: c.cfg.Shape})
	}
}

func (c *consumer) sendState(ctx actor.Context) {
	ctx.Send(c.cfg.Writer, &protocol.ConsumerState{Shape: c.cfg.Shape, State: EncodeState(c.conv.vis)})
}

// invalidate reports the shape and stops: the collector sees the
// termination and unsubscribes it; nothing more is appended.
func (c *consumer) invalidate(ctx actor.Context, reason string) {
	c.done = true
	c.cfg.Log.Warn("consumer: shape invalidated", zap.Uint64("shape", uint64(c.cfg.Shape)),
		zap.String("handle", c.cfg.Handle), zap.String("reason", reason))
	if c.cfg.Invalidate != nil {
		ctx.Send(c.cfg.Invalidate, &protocol.ShapeInvalid{Shape: c.cfg.Shape, Handle: c.cfg.Handle, Reason: reason})
	}
	ctx.Stop(ctx.Self())
}

// fragmentSize estimates the memory a buffered fragment holds: its values'
// text plus a per-value overhead.
func fragmentSize(f *events.Fragment) int64 {
	if f == nil {
		return 0
	}
	n := int64(64)
	for i := range f.Changes {
		ch := &f.Changes[i]
		n += 48
		for _, v := range ch.Old {
			n += int64(len(v.Text)) + 24
		}
		for _, v := range ch.New {
			n += int64(len(v.Text)) + 24
		}
	}
	return n
}
