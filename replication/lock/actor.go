package lock

import (
	"errors"
	"fmt"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"go.uber.org/zap"

	"github.com/shapesync/shapesync/actors"
	"github.com/shapesync/shapesync/replication/pgwire"
	"github.com/shapesync/shapesync/shapes/protocol"
)

// Label is the holder's label under conn-manager (ARCHITECTURE §1.2).
const Label = "lock"

// Defaults for Config, from ARCHITECTURE §1.4.
const (
	DefaultPollMin          = time.Second
	DefaultPollMax          = 2 * time.Second
	DefaultHeartbeatEvery   = 5 * time.Second
	DefaultHeartbeatTimeout = 5 * time.Second
	DefaultMaxMisses        = 2
)

// Config configures the lock holder.
type Config struct {
	// Kit runs the session goroutine. Required.
	Kit *actors.Kit
	// DSN is the direct database URL (not a pooler in transaction mode).
	DSN string
	// Dial tunes connecting.
	Dial pgwire.DialOptions
	// Slot is the replication slot's name; the lock key is hashtext(Slot).
	Slot string
	// Status receives protocol.CondLock; nil reports only to the parent.
	Status *actors.PID
	// PollMin and PollMax bound the random wait between attempts to take
	// the lock; defaults 1 s and 2 s.
	PollMin, PollMax time.Duration
	// HeartbeatEvery, HeartbeatTimeout and MaxMisses pace the liveness
	// check once the lock is held; defaults 5 s, 5 s and 2.
	HeartbeatEvery, HeartbeatTimeout time.Duration
	MaxMisses                        int
	// Log is where the holder logs; default the kit's logger.
	Log *zap.Logger
}

func (c Config) withDefaults() Config {
	if c.PollMin <= 0 {
		c.PollMin = DefaultPollMin
	}
	if c.PollMax < c.PollMin {
		c.PollMax = max(DefaultPollMax, c.PollMin)
	}
	if c.HeartbeatEvery <= 0 {
		c.HeartbeatEvery = DefaultHeartbeatEvery
	}
	if c.HeartbeatTimeout <= 0 {
		c.HeartbeatTimeout = DefaultHeartbeatTimeout
	}
	if c.MaxMisses <= 0 {
		c.MaxMisses = DefaultMaxMisses
	}
	if c.Log == nil && c.Kit != nil {
		c.Log = c.Kit.Logger()
	}
	if c.Log == nil {
		c.Log = zap.NewNop()
	}
	return c
}

// quietAfter is how long the session may go without news once the lock is
// held before the actor kills it: a heartbeat period plus every timeout it
// may run, plus a second of slack for scheduling.
func (c Config) quietAfter() time.Duration {
	return c.HeartbeatEvery + time.Duration(c.MaxMisses)*c.HeartbeatTimeout + time.Second
}

// ChildSpec is the holder's spec for conn-manager: label "lock", bound 16,
// credit.
func ChildSpec(cfg Config) actors.ChildSpec {
	return actors.ChildSpec{Label: Label, Producer: Producer(cfg), Bound: actors.Count(16), Policy: actors.Credit}
}

// Producer returns the holder's producer. Each incarnation opens its own
// connection; the previous one's died with it.
func Producer(cfg Config) actor.Producer {
	cfg = cfg.withDefaults()
	return func() actor.Actor { return &holder{cfg: cfg} }
}

const taskSession = "lock-session"

// watchdogDue is the holder's periodic check that the session still speaks.
type watchdogDue struct{ owner *holder }

type state int

const (
	connecting state = iota
	waitingForLock
	held
)

func (s state) String() string {
	return [...]string{"connecting", "waiting for the lock", "held"}[s]
}

type holder struct {
	cfg     Config
	g       *actors.Goroutines
	epoch   actors.Epoch
	state   state
	mode    Mode
	holder  uint32 // who holds the lock while we wait
	backend uint32 // our backend pid once held
	news    time.Time
	misses  int
	timer   *time.Timer
}

func (h *holder) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		if h.cfg.Kit == nil {
			panic(errors.New("lock: Config.Kit is nil"))
		}
		if err := pgwire.ValidateSlotName(h.cfg.Slot); err != nil {
			panic(fmt.Errorf("lock: %w", err))
		}
		h.g = h.cfg.Kit.Goroutines(ctx)
		h.epoch = h.g.Go(taskSession, session(h.cfg))
	case *waiting:
		if m.epoch != h.epoch {
			return
		}
		if h.state != waitingForLock || h.holder != m.holder {
			h.state, h.holder = waitingForLock, m.holder
			h.cfg.Log.Info("advisory lock held elsewhere; waiting", zap.String("slot", h.cfg.Slot), zap.Uint32("holder_pid", m.holder))
			h.report(ctx, false, waitingReason(h.cfg.Slot, m.holder))
		}
	case *acquired:
		if m.epoch != h.epoch {
			return
		}
		h.state, h.mode, h.backend, h.news = held, m.mode, m.backend, time.Now()
		fields := []zap.Field{zap.String("slot", h.cfg.Slot), zap.String("mode", string(m.mode)), zap.Uint32("backend_pid", m.backend)}
		if m.why != "" {
			h.cfg.Log.Warn("the server refuses replication connections; holding the advisory lock on a plain session", append(fields, zap.String("why", m.why))...)
		} else {
			h.cfg.Log.Info("advisory lock acquired", fields...)
		}
		h.report(ctx, true, "")
		h.armWatchdog(ctx)
	case *heartbeat:
		if m.epoch != h.epoch {
			return
		}
		h.news, h.misses = m.at, m.misses
		if m.misses > 0 {
			h.cfg.Log.Warn("lock connection heartbeat answered late", zap.Duration("took", m.took), zap.Int("misses", m.misses))
		}
	case *watchdogDue:
		if m.owner == h && h.state == held {
			if quiet := time.Since(h.news); quiet > h.cfg.quietAfter() {
				h.g.Kill(taskSession)
				h.lost(ctx, fmt.Errorf("lock connection quiet for %s: killed", quiet.Round(time.Millisecond)))
			}
			h.armWatchdog(ctx)
		}
	case *actors.Exited:
		if h.g.Reap(m.Epoch) {
			err := m.Err
			if err == nil {
				err = errors.New("lock session ended")
			}
			h.lost(ctx, err)
		}
	case *actors.Failed:
		if h.g.Reap(m.Epoch) {
			h.lost(ctx, m.Err)
		}
	case *protocol.Inspect:
		ctx.Respond(&protocol.Inspection{Summary: h.summary()})
	case *actor.Stopping:
		if h.timer != nil {
			h.timer.Stop()
		}
		// The kit kills the session at Stopped: its socket closes and the
		// server frees the lock.
	}
}

// lost reports the lock gone and fails, so conn-manager fences the stream
// before anything else and re-spawns the holder with backoff.
func (h *holder) lost(ctx actor.Context, err error) {
	was := h.state
	h.cfg.Log.Warn("advisory lock session ended", zap.String("slot", h.cfg.Slot), zap.Stringer("state", was), zap.Error(err))
	if was == held {
		h.report(ctx, false, "lost: "+err.Error())
		panic(fmt.Errorf("advisory lock on slot %q lost: %w", h.cfg.Slot, err))
	}
	h.report(ctx, false, err.Error())
	panic(fmt.Errorf("advisory lock on slot %q: %w", h.cfg.Slot, err))
}

func waitingReason(slot string, holder uint32) string {
	who := "another session"
	if holder != 0 {
		who = fmt.Sprintf("another session (pid %d)", holder)
	}
	return fmt.Sprintf("the advisory lock for slot %q is held by %s, probably another shapesync or Electric instance on the same stream; waiting until it is released", slot, who)
}

// report sends protocol.CondLock to status (latest wins) and to the parent
// (as a request, so conn-manager knows which child spoke).
func (h *holder) report(ctx actor.Context, ok bool, reason string) {
	c := &protocol.Condition{Name: protocol.CondLock, OK: ok, Reason: reason}
	if h.cfg.Status != nil {
		h.cfg.Kit.Coalesce(h.cfg.Status, c)
	}
	if p := ctx.Parent(); p != nil {
		ctx.Request(p, c)
	}
}

func (h *holder) armWatchdog(ctx actor.Context) {
	if h.timer != nil {
		h.timer.Stop()
	}
	self, root, msg := ctx.Self(), ctx.ActorSystem().Root, &watchdogDue{owner: h}
	h.timer = time.AfterFunc(h.cfg.HeartbeatEvery, func() { root.Send(self, msg) })
}

func (h *holder) summary() string {
	switch h.state {
	case waitingForLock:
		return fmt.Sprintf("waiting for slot %q's lock (held by pid %d)", h.cfg.Slot, h.holder)
	case held:
		return fmt.Sprintf("holding slot %q's lock on a %s session (backend pid %d), last heartbeat %s ago, %d missed",
			h.cfg.Slot, h.mode, h.backend, time.Since(h.news).Round(time.Millisecond), h.misses)
	}
	return "connecting"
}
