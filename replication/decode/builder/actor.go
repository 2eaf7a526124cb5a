package builder

import (
	"fmt"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"go.uber.org/zap"

	"github.com/shapesync/shapesync/actors"
	"github.com/shapesync/shapesync/replication/decode"
	"github.com/shapesync/shapesync/shapes/protocol"
)

// Label is the txn-builder's label under conn-manager (ARCHITECTURE §1.2).
const Label = "txn-builder"

// Defaults for Config.
const (
	DefaultWindow        = 8
	DefaultRetryDelay    = 100 * time.Millisecond
	DefaultMaxRetryDelay = 2 * time.Second
)

// Config configures the txn-builder.
type Config struct {
	// Collector receives the events (protocol.Event, sent as a request)
	// and answers EventHandled or NotReady. Required.
	Collector *actors.PID
	// Replication receives the credits (protocol.BatchDone) of batches
	// that arrive without a sender; a batch sent as a request returns its
	// credit to its sender.
	Replication *actors.PID
	// Options bound the decoder (fragment size, max_txn_size).
	Options decode.Options
	// Window is the replication actor's credit window in batches; the
	// mailbox bound is Window plus room for answers and timers. Default 8.
	Window int
	// RetryDelay is the first wait before an event is sent again after
	// NotReady or a dead letter; it doubles up to MaxRetryDelay while the
	// collector keeps refusing. Defaults 100 ms and 2 s.
	RetryDelay, MaxRetryDelay time.Duration
	// Log is where the actor logs; nil logs nothing.
	Log *zap.Logger
}

func (c Config) withDefaults() Config {
	if c.Window <= 0 {
		c.Window = DefaultWindow
	}
	if c.RetryDelay <= 0 {
		c.RetryDelay = DefaultRetryDelay
	}
	if c.MaxRetryDelay < c.RetryDelay {
		c.MaxRetryDelay = max(DefaultMaxRetryDelay, c.RetryDelay)
	}
	if c.Log == nil {
		c.Log = zap.NewNop()
	}
	return c
}

// ChildSpec is the txn-builder's spec for conn-manager: label, producer,
// and a credit-policy bound of the window plus answers and timers.
func ChildSpec(cfg Config) actors.ChildSpec {
	cfg = cfg.withDefaults()
	return actors.ChildSpec{Label: Label, Producer: Producer(cfg), Bound: actors.Count(cfg.Window + 4), Policy: actors.Credit}
}

// Producer returns the txn-builder's producer. Every incarnation starts
// with an empty decoder and queue: conn-manager restarts it together with
// the replication actor, whose new epoch replays from the acknowledged
// position.
func Producer(cfg Config) actor.Producer {
	cfg = cfg.withDefaults()
	return func() actor.Actor { return &txnBuilder{cfg: cfg} }
}

// retryDue is the retry timer of one incarnation firing for (epoch, seq).
type retryDue struct {
	owner      *txnBuilder
	epoch, seq uint64
}

type txnBuilder struct {
	cfg      Config
	queue    *Queue
	watching bool // a Watch on the collector is in place
	timer    *time.Timer
	pending  bool          // a retry is scheduled for the event in flight
	delay    time.Duration // next retry delay
}

func (b *txnBuilder) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		if b.cfg.Collector == nil {
			panic(fmt.Errorf("txn-builder: Config.Collector is nil (the wiring must give the collector's PID)"))
		}
		b.queue = NewQueue(decode.NewBuilder(b.cfg.Options))
		b.delay = b.cfg.RetryDelay
	case *protocol.WalBatch:
		replyTo := ctx.Sender()
		if replyTo == nil {
			replyTo = b.cfg.Replication
		}
		out, err := b.queue.Offer(m, replyTo)
		if out.Reset {
			b.cfg.Log.Info("txn-builder: new stream epoch; partial transaction discarded", zap.Uint64("epoch", m.Epoch))
		}
		b.carryOut(ctx, out, err)
	case *protocol.EventHandled:
		out, err := b.queue.Handled(m.Epoch, m.Seq)
		if !out.Stale {
			b.delay, b.pending = b.cfg.RetryDelay, false
		}
		b.carryOut(ctx, out, err)
	case *protocol.NotReady:
		if b.queue.IsInFlight(m.Epoch, m.Seq) {
			b.scheduleRetry(ctx, "the collector is not ready")
		}
	case *actor.DeadLetterResponse:
		// The only requests this actor sends are events: the one in flight
		// was not delivered (the collector is not running yet, or between
		// incarnations).
		if b.queue.InFlight() != nil {
			b.scheduleRetry(ctx, "the collector is not running")
		}
	case *retryDue:
		if m.owner == b && b.pending && b.queue.IsInFlight(m.epoch, m.seq) {
			b.pending = false
			b.send(ctx, b.queue.InFlight())
		}
	case *actor.Terminated:
		b.collectorTerminated(m)
	case *protocol.Inspect:
		ctx.Respond(&protocol.Inspection{Summary: b.summary()})
	case *actor.Stopping:
		if b.timer != nil {
			b.timer.Stop()
		}
	}
}

// carryOut sends what a queue step produced, or fails on a decode error
// with its class attached, so conn-manager knows whether to retry, wait for
// the operator or recreate the slot.
func (b *txnBuilder) carryOut(ctx actor.Context, out Output, err error) {
	for _, c := range out.Credits {
		if c.To == nil {
			// The pump would stall for want of credit: a wiring bug.
			b.cfg.Log.Error("txn-builder: a batch came without a sender and Config.Replication is nil; its credit cannot go back",
				zap.Uint64("epoch", c.Done.Epoch), zap.Uint64("seq", c.Done.Seq))
			continue
		}
		ctx.Send(c.To, &protocol.BatchDone{Epoch: c.Done.Epoch, Seq: c.Done.Seq})
	}
	if err != nil {
		err = classifyDecodeError(err)
		b.cfg.Log.Error("txn-builder: the replication stream cannot be decoded; failing so that conn-manager restarts it",
			zap.Uint64("epoch", b.queue.Epoch()), zap.Error(err))
		panic(err)
	}
	if out.Send != nil {
		b.send(ctx, out.Send)
	}
}

// send hands ev to the collector as a request: the collector answers the
// sender, and a dead letter answers with DeadLetterResponse instead of
// vanishing. The collector is watched so that its death with an event in
// flight is noticed.
func (b *txnBuilder) send(ctx actor.Context, ev *protocol.Event) {
	if !b.watching {
		ctx.Watch(b.cfg.Collector)
		b.watching = true
	}
	ctx.Request(b.cfg.Collector, ev)
}

func (b *txnBuilder) scheduleRetry(ctx actor.Context, why string) {
	if b.pending {
		return
	}
	ev := b.queue.InFlight()
	b.pending = true
	d := b.delay
	b.delay = min(2*b.delay, b.cfg.MaxRetryDelay)
	b.cfg.Log.Debug("txn-builder: event not taken; retrying", zap.String("why", why),
		zap.Uint64("epoch", ev.Epoch), zap.Uint64("seq", ev.Seq), zap.Duration("after", d))
	self, root, msg := ctx.Self(), ctx.ActorSystem().Root, &retryDue{owner: b, epoch: ev.Epoch, seq: ev.Seq}
	if b.timer != nil {
		b.timer.Stop()
	}
	b.timer = time.AfterFunc(d, func() { root.Send(self, msg) })
}

// collectorTerminated handles the collector's Terminated. Not found means
// it is not running yet (the dead-letter response drives the retry);
// otherwise it died, and an event it held is lost: fail, so the stream
// restarts from the acknowledged position.
func (b *txnBuilder) collectorTerminated(m *actor.Terminated) {
	if m.Who == nil || !m.Who.Equal(b.cfg.Collector) {
		return
	}
	b.watching = false
	if m.Why == actor.TerminatedReason_NotFound || b.queue.InFlight() == nil || b.pending {
		return
	}
	ev := b.queue.InFlight()
	panic(fmt.Errorf("txn-builder: collector %s terminated while event %d of epoch %d was in flight; the stream restarts from the acknowledged position",
		m.Who.Id, ev.Seq, ev.Epoch))
}

func (b *txnBuilder) summary() string {
	if b.queue == nil {
		return "not started"
	}
	s := fmt.Sprintf("epoch %d, %d batches pending", b.queue.Epoch(), b.queue.Pending())
	if ev := b.queue.InFlight(); ev != nil {
		s += fmt.Sprintf(", event %d in flight", ev.Seq)
		if b.pending {
			s += " (retry scheduled)"
		}
	}
	return s
}
