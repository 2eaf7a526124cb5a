package actors

import (
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"go.uber.org/zap"
)

// DefaultSlowReceive is the Receive duration past which the kit warns
// (ARCHITECTURE §4 (g)).
const DefaultSlowReceive = 100 * time.Millisecond

// DefaultShutdownTimeout bounds Kit.Shutdown when its context has no
// deadline (ARCHITECTURE §4 (h)).
const DefaultShutdownTimeout = 10 * time.Second

// Kit owns one protoactor ActorSystem and everything the project adds to
// it: the Stop-deciding strategy set on every Props and used as the roots'
// guardian, the inspection registry, the epoch counter for owned
// goroutines and the root list for ordered shutdown. All state hangs off
// this value; the package has no mutable globals.
type Kit struct {
	log      *zap.Logger
	cfg      config
	sys      *actor.ActorSystem
	strategy *stopStrategy
	reg      *registry
	epochs   atomic.Uint64

	mu       sync.Mutex
	roots    []*PID // spawn order
	stopOnce sync.Once
}

type config struct {
	slowAfter       time.Duration
	onSlow          func(SlowReceive)
	shutdownTimeout time.Duration
	deadLetterEvery time.Duration
	onRootFailure   func(id string, reason any)
	random          func() float64
	now             func() time.Time
}

// Option configures a Kit.
type Option func(*config)

// SlowReceive describes one Receive that took longer than the threshold.
type SlowReceive struct {
	Actor    string // PID id
	Message  string // Go type of the message
	Duration time.Duration
}

// WithSlowReceive sets the threshold of the receive-duration warning and
// a hook called (on the actor's goroutine, so it must not block) for each
// slow Receive; tests pass a hook that fails the test.
func WithSlowReceive(threshold time.Duration, onSlow func(SlowReceive)) Option {
	return func(c *config) { c.slowAfter, c.onSlow = threshold, onSlow }
}

// WithShutdownTimeout bounds Shutdown when its context has no deadline.
func WithShutdownTimeout(d time.Duration) Option {
	return func(c *config) { c.shutdownTimeout = d }
}

// WithRootFailure sets a hook called when a root actor fails. Roots are
// not re-spawned (a root is a supervisor that never escalates, so its
// failure is a bug); cmd uses the hook to log and exit.
func WithRootFailure(fn func(id string, reason any)) Option {
	return func(c *config) { c.onRootFailure = fn }
}

// WithRandom replaces the jitter source of supervisor backoffs (a sample
// from [0,1) per call); for deterministic tests.
func WithRandom(fn func() float64) Option {
	return func(c *config) { c.random = fn }
}

// ForTesting makes the kit goleak-friendly: protoactor's dead-letter
// throttle keeps a goroutine alive for its interval (1 s by default),
// longer than goleak waits (GO_STACK P16); this sets it to 1 ms.
func ForTesting() Option {
	return func(c *config) { c.deadLetterEvery = time.Millisecond }
}

// NewKit starts an actor system whose protoactor logs go to log (named
// "protoactor") and whose metrics extension stays off (GO_STACK P11).
func NewKit(log *zap.Logger, opts ...Option) *Kit {
	if log == nil {
		log = zap.NewNop()
	}
	cfg := config{
		slowAfter:       DefaultSlowReceive,
		shutdownTimeout: DefaultShutdownTimeout,
		random:          rand.Float64,
		now:             time.Now,
	}
	for _, o := range opts {
		o(&cfg)
	}
	sysOpts := []actor.ConfigOption{actor.WithLoggerFactory(protoactorLogger(log.Core()))}
	if cfg.deadLetterEvery > 0 {
		sysOpts = append(sysOpts, actor.WithDeadLetterThrottleInterval(cfg.deadLetterEvery))
	}
	k := &Kit{log: log, cfg: cfg, reg: newRegistry(cfg.now)}
	k.strategy = &stopStrategy{kit: k}
	k.sys = actor.NewActorSystem(sysOpts...)
	return k
}

// System is the underlying protoactor system.
func (k *Kit) System() *actor.ActorSystem { return k.sys }

// Root is the system's root context, for sending from outside actors
// (HTTP handlers, owned goroutines).
func (k *Kit) Root() *actor.RootContext { return k.sys.Root }

// Logger is the kit's zap logger.
func (k *Kit) Logger() *zap.Logger { return k.log }

// Snapshot lists every actor the kit spawned, sorted by PID id, for the
// dashboard.
func (k *Kit) Snapshot() []ActorInfo { return k.reg.snapshot() }

// Lookup returns the inspection record of the actor with PID id.
func (k *Kit) Lookup(id string) (ActorInfo, bool) { return k.reg.info(id) }
