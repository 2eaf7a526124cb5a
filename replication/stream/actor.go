package stream

import (
	"errors"
	"fmt"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"go.uber.org/zap"

	"github.com/shapesync/shapesync/actors"
	"github.com/shapesync/shapesync/replication/lsn"
	"github.com/shapesync/shapesync/replication/pgwire"
	"github.com/shapesync/shapesync/shapes/protocol"
)

// Label is the replication actor's label under conn-manager (ARCHITECTURE
// §1.2).
const Label = "replication"

// mailboxBound is the replication actor's declared bound: the credit window
// of batches from the pump, as many BatchDone answers, the coalesced AckLSN
// and timer ticks fit well below it.
const mailboxBound = 64

// positionsEvery is how often the received position goes to Positions
// besides on every batch, so it moves while reading is paused too.
const positionsEvery = time.Second

// Positions receives the stream's received and acknowledged positions for
// /v1/status (SHAPE_API §19). supervisor/status.View implements it; it is
// created by the wiring and outlives the actor's incarnations.
type Positions interface {
	SetReceived(lsn.LSN)
	SetAcked(lsn.LSN)
}

// ActorConfig configures the replication actor. The wiring builds it from
// conn-manager's replication setup result for each stream it spawns (the
// actor cannot take conn-manager's types: layer-2 packages never import one
// another).
type ActorConfig struct {
	// Kit runs the pump goroutine and coalesces status reports. Required.
	Kit *actors.Kit
	// DSN is the direct database URL; the actor connects with the
	// replication role (replication=database).
	DSN string
	// Dial tunes connecting.
	Dial pgwire.DialOptions
	// Slot and Publication name the stream (both must exist: the setup
	// made them). Required.
	Slot, Publication string
	// StartLSN is where the stream starts and acknowledging starts: the
	// slot's confirmed_flush_lsn, or a new slot's consistent point. Never 0.
	StartLSN lsn.LSN
	// WalSenderTimeout is the server's wal_sender_timeout; it sets the
	// keepalive interval (min(t/3, 15 s)) and the watchdog (max(2t, 60 s)).
	WalSenderTimeout time.Duration
	// Window is the pump's credit window in batches; it must not exceed
	// the txn-builder's window. Default 8.
	Window int
	// Builder receives the batches (protocol.WalBatch, as requests, so its
	// BatchDone credit comes back here). Required.
	Builder *actors.PID
	// Status receives protocol.CondReplication once the stream is live
	// (latest wins); nil reports only to the parent.
	Status *actors.PID
	// Positions, if set, hears the received and acknowledged positions.
	Positions Positions
	// Log is where the actor logs; default the kit's logger.
	Log *zap.Logger
}

func (c ActorConfig) validate() error {
	switch {
	case c.Kit == nil:
		return errors.New("replication: ActorConfig.Kit is nil")
	case c.Builder == nil:
		return errors.New("replication: ActorConfig.Builder is nil (the wiring must give the txn-builder's PID)")
	case c.StartLSN == 0:
		return errors.New("replication: ActorConfig.StartLSN is 0/0; start from the slot's confirmed_flush_lsn or consistent point")
	case c.Window < 0:
		return errors.New("replication: ActorConfig.Window is negative")
	}
	if err := pgwire.ValidateSlotName(c.Slot); err != nil {
		return fmt.Errorf("replication: %w", err)
	}
	if err := pgwire.ValidatePublicationName(c.Publication); err != nil {
		return fmt.Errorf("replication: %w", err)
	}
	return nil
}

// ChildSpec is the replication actor's spec for conn-manager: label
// "replication", bound 64, policy Coalesce (AckLSN arrives through
// Kit.Coalesce; the batches stay within the pump's credit window).
func ChildSpec(cfg ActorConfig) actors.ChildSpec {
	return actors.ChildSpec{Label: Label, Producer: Producer(cfg), Bound: actors.Count(mailboxBound), Policy: actors.Coalesce}
}

// Producer returns the replication actor's producer. Every incarnation
// opens its own connection and streams under a new epoch from the slot's
// acknowledged position; whatever its predecessor delivered and did not
// see acknowledged is sent again (ARCHITECTURE §1.1 principle 4).
func Producer(cfg ActorConfig) actor.Producer {
	if cfg.Log == nil && cfg.Kit != nil {
		cfg.Log = cfg.Kit.Logger()
	}
	if cfg.Log == nil {
		cfg.Log = zap.NewNop()
	}
	return func() actor.Actor { return &replicationActor{cfg: cfg} }
}

// Names of the owned goroutines.
const (
	taskPump      = "wal-pump"
	taskStreaming = "streaming"
)

// Messages from the actor's goroutines and timers to itself.
type (
	// pumpReady: the stream started; the pump is about to run.
	pumpReady struct {
		epoch actors.Epoch
		pump  *Pump
		start lsn.LSN // the pump's StartAcked
	}
	// pumpBatch is one Deliver call of the pump.
	pumpBatch struct {
		epoch actors.Epoch
		batch Batch
	}
	// streamLive: the first message arrived from the server.
	streamLive struct{ epoch actors.Epoch }
	// positionsDue is the periodic Positions update of one incarnation.
	positionsDue struct{ owner *replicationActor }
)

type replicationActor struct {
	cfg   ActorConfig
	g     *actors.Goroutines
	epoch actors.Epoch // the pump goroutine's: every WalBatch carries it
	pump  *Pump        // nil until the stream started

	seq      uint64  // last WalBatch sent
	credited uint64  // BatchDone received for the current epoch
	acked    lsn.LSN // highest ack known, never below StartLSN
	live     bool
	timer    *time.Timer
	stopping bool
}

func (a *replicationActor) Receive(ctx actor.Context) {
	if a.stopping {
		return // our goroutines are being killed; nothing more to decide
	}
	switch m := ctx.Message().(type) {
	case *actor.Started:
		if err := a.cfg.validate(); err != nil {
			panic(err)
		}
		a.acked = a.cfg.StartLSN
		a.g = a.cfg.Kit.Goroutines(ctx)
		a.epoch = a.g.Go(taskPump, runPump(a.cfg))
		a.armPositions(ctx)
		a.cfg.Log.Info("replication: starting the stream", zap.String("slot", a.cfg.Slot),
			zap.Stringer("start_lsn", a.cfg.StartLSN), zap.Uint64("epoch", uint64(a.epoch)))
	case *pumpReady:
		if m.epoch != a.epoch {
			return
		}
		a.pump = m.pump
		a.acked = max(a.acked, m.start)
		a.pump.SetAcked(a.acked) // an AckLSN may have come before the pump
		epoch, live := m.epoch, m.pump.Streaming()
		a.g.Go(taskStreaming, func(t *actors.Task) error {
			select {
			case <-live:
				t.Send(&streamLive{epoch: epoch})
			case <-t.Context().Done():
			}
			return nil
		})
	case *streamLive:
		if m.epoch == a.epoch && !a.live {
			a.live = true
			a.cfg.Log.Info("replication: streaming", zap.String("slot", a.cfg.Slot), zap.Uint64("epoch", uint64(a.epoch)))
			a.report(ctx)
		}
	case *pumpBatch:
		if m.epoch != a.epoch {
			return // a killed pump's last word
		}
		a.seq++
		ctx.Request(a.cfg.Builder, &protocol.WalBatch{Epoch: uint64(a.epoch), Seq: a.seq, Items: protocolItems(m.batch.Items)})
		a.publishReceived()
	case *protocol.BatchDone:
		if m.Epoch == uint64(a.epoch) && a.pump != nil {
			a.credited++
			a.pump.Credit()
		}
	case *protocol.AckLSN:
		a.ack(m.LSN)
	case *positionsDue:
		if m.owner == a {
			a.publishReceived()
			a.armPositions(ctx)
		}
	case *actor.DeadLetterResponse:
		// protoactor does not say which request bounced (Target is unset).
		// Our requests are batches to the txn-builder and the condition to
		// the parent, which outlives us; so once a batch went out, a bounce
		// means one never reached the builder: the stream has a gap from
		// here on and must restart from the acknowledged position (I1).
		if a.seq == 0 {
			return
		}
		panic(fmt.Errorf("replication: a WAL batch of epoch %d could not be delivered to the txn-builder %s; restarting the stream from the acknowledged position %s",
			a.epoch, a.cfg.Builder.Id, a.acked))
	case *actors.Exited:
		if a.g.Reap(m.Epoch) && m.Epoch == a.epoch {
			a.fail(m.Err)
		}
	case *actors.Failed:
		if a.g.Reap(m.Epoch) {
			a.fail(m.Err)
		}
	case *protocol.Inspect:
		ctx.Respond(&protocol.Inspection{Summary: a.summary()})
	case *actor.Stopping:
		// Stop and restart never wait for the pump: the kit kills it at
		// Stopped (cancel, close the socket) and it exits on its own.
		a.stopping = true
		if a.timer != nil {
			a.timer.Stop()
		}
	}
}

// ack takes a durable position from the flush tracker (I3: S|acked is
// synced before it gets here). It only moves forward, so a late or
// re-sent ack can never take the flush position back, and never to 0.
func (a *replicationActor) ack(l lsn.LSN) {
	if l <= a.acked {
		return
	}
	a.acked = l
	if a.pump != nil {
		a.pump.SetAcked(l)
	}
	if a.cfg.Positions != nil {
		a.cfg.Positions.SetAcked(l)
	}
}

// fail ends this incarnation with the pump's error. conn-manager is our
// protoactor strategy, so it receives the panic value and classifies it
// with pgwire.Diagnose: the error carries its pgwire.ConnError.
func (a *replicationActor) fail(err error) {
	if err == nil {
		err = errors.New("the WAL pump returned without an error")
	}
	panic(fmt.Errorf("replication stream of slot %q (epoch %d) ended: %w", a.cfg.Slot, a.epoch, err))
}

// report tells status (latest wins) and the parent (as a request, so
// conn-manager knows which child spoke) that the stream is live.
func (a *replicationActor) report(ctx actor.Context) {
	if a.cfg.Status != nil {
		a.cfg.Kit.Coalesce(a.cfg.Status, &protocol.Condition{Name: protocol.CondReplication, OK: true})
	}
	if p := ctx.Parent(); p != nil {
		ctx.Request(p, &protocol.Condition{Name: protocol.CondReplication, OK: true})
	}
}

func (a *replicationActor) publishReceived() {
	if a.cfg.Positions != nil && a.pump != nil {
		a.cfg.Positions.SetReceived(a.pump.Received())
	}
}

func (a *replicationActor) armPositions(ctx actor.Context) {
	if a.cfg.Positions == nil {
		return
	}
	self, root, msg := ctx.Self(), ctx.ActorSystem().Root, &positionsDue{owner: a}
	a.timer = time.AfterFunc(positionsEvery, func() { root.Send(self, msg) })
}

func (a *replicationActor) summary() string {
	if a.pump == nil {
		return fmt.Sprintf("slot %q: connecting (epoch %d, from %s)", a.cfg.Slot, a.epoch, a.cfg.StartLSN)
	}
	state := "started"
	if a.live {
		state = "streaming"
	}
	return fmt.Sprintf("slot %q: %s (epoch %d), %d batches sent, %d awaiting credit, received %s, acked %s (sent %s)",
		a.cfg.Slot, state, a.epoch, a.seq, a.seq-a.credited, a.pump.Received(), a.acked, a.pump.Acked())
}

// protocolItems converts the pump's items into the txn-builder's: a WAL
// payload keeps its position and bytes, a wal_end marker carries only its
// position, so the two can never be confused downstream.
func protocolItems(items []WalItem) []protocol.WalItem {
	out := make([]protocol.WalItem, len(items))
	for i, it := range items {
		if it.Kind == KindWalEnd {
			out[i] = protocol.WalItem{WalEnd: it.WalEnd}
		} else {
			out[i] = protocol.WalItem{WALStart: it.WALStart, Data: it.Data}
		}
	}
	return out
}
