package pool

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.uber.org/zap"

	"github.com/shapesync/shapesync/actors"
	"github.com/shapesync/shapesync/replication/pgwire"
	"github.com/shapesync/shapesync/shapes/protocol"
)

// Labels of the two pool owners under conn-manager (ARCHITECTURE §1.2).
const (
	LabelAdmin    = "admin-pool"
	LabelSnapshot = "snapshot-pool"
)

// CondSnapshotPool is the snapshot pool's condition. It is informational:
// the service state does not depend on it (the admin pool reports
// protocol.CondDatabase).
const CondSnapshotPool = "snapshot_pool_ready"

// Defaults for Config.
const (
	DefaultPingEvery   = 10 * time.Second
	DefaultPingTimeout = 5 * time.Second
)

// Config configures one pool owner.
type Config struct {
	// Kit runs the owner's goroutines. Required.
	Kit *actors.Kit
	// Role is pgwire.RoleAdmin or pgwire.RoleSnapshot: it sets
	// application_name, and the snapshot role runs the display settings on
	// every new connection.
	Role pgwire.Role
	// DSN is the database URL (a pooled URL is fine for both pools).
	DSN string
	// Dial tunes connecting (per-address timeout, keepalive, IPv6).
	Dial pgwire.DialOptions
	// MaxConns is the pool size (see Sizes); 0 keeps pgxpool's default.
	MaxConns int32
	// View receives the pool. Required; created once by the wiring.
	View *View
	// Status receives the readiness condition; nil reports only to the
	// parent.
	Status *actors.PID
	// Condition is the condition's name; default protocol.CondDatabase for
	// the admin pool and CondSnapshotPool for the snapshot pool.
	Condition string
	// PingEvery and PingTimeout pace the health ping; defaults 10 s and 5 s.
	PingEvery, PingTimeout time.Duration
	// Log is where the owner logs; default the kit's logger.
	Log *zap.Logger
}

func (c Config) withDefaults() Config {
	if c.Condition == "" {
		c.Condition = protocol.CondDatabase
		if c.Role == pgwire.RoleSnapshot {
			c.Condition = CondSnapshotPool
		}
	}
	if c.PingEvery <= 0 {
		c.PingEvery = DefaultPingEvery
	}
	if c.PingTimeout <= 0 {
		c.PingTimeout = DefaultPingTimeout
	}
	if c.Log == nil && c.Kit != nil {
		c.Log = c.Kit.Logger()
	}
	if c.Log == nil {
		c.Log = zap.NewNop()
	}
	return c
}

func (c Config) validate() error {
	switch {
	case c.Kit == nil:
		return errors.New("pool: Config.Kit is nil")
	case c.View == nil:
		return errors.New("pool: Config.View is nil (the wiring creates it once with NewView)")
	case c.Role != pgwire.RoleAdmin && c.Role != pgwire.RoleSnapshot:
		return fmt.Errorf("pool: Config.Role %q: want %q or %q", c.Role, pgwire.RoleAdmin, pgwire.RoleSnapshot)
	}
	return nil
}

// ChildSpec is the owner's spec for conn-manager: LabelAdmin or
// LabelSnapshot by role, bound 16, credit.
func ChildSpec(cfg Config) actors.ChildSpec {
	label := LabelAdmin
	if cfg.Role == pgwire.RoleSnapshot {
		label = LabelSnapshot
	}
	return actors.ChildSpec{Label: label, Producer: Producer(cfg), Bound: actors.Count(16), Policy: actors.Credit}
}

// Producer returns the owner's producer.
func Producer(cfg Config) actor.Producer {
	cfg = cfg.withDefaults()
	return func() actor.Actor { return &owner{cfg: cfg} }
}

// Messages between the owner and its goroutines (they never leave the
// package).
type (
	poolOpened struct {
		epoch actors.Epoch
		pool  *pgxpool.Pool
	}
	pingDue struct{ owner *owner }
)

const (
	taskConnect = "connect"
	taskPing    = "ping"
	taskClose   = "close"
)

type owner struct {
	cfg     Config
	g       *actors.Goroutines
	pool    *pgxpool.Pool
	timer   *time.Timer
	pinging bool
	// The condition last reported, so each change is reported once.
	reported bool
	lastOK   bool
	reason   string
	since    time.Time
}

func (o *owner) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		if err := o.cfg.validate(); err != nil {
			panic(err)
		}
		o.g = o.cfg.Kit.Goroutines(ctx)
		o.g.Go(taskConnect, connect(o.cfg))
	case *poolOpened:
		o.opened(ctx, m)
	case *actors.Exited:
		o.exited(ctx, m)
	case *actors.Failed:
		if o.g.Reap(m.Epoch) {
			panic(fmt.Errorf("%s pool: goroutine %s: %w", o.cfg.Role, m.Name, m.Err))
		}
	case *pingDue:
		if m.owner == o && o.pool != nil && !o.pinging {
			o.pinging = true
			o.g.Go(taskPing, ping(o.pool, o.cfg))
		}
	case *protocol.Inspect:
		ctx.Respond(&protocol.Inspection{Summary: o.summary()})
	case *actor.Stopping:
		o.stop()
	}
}

func (o *owner) opened(ctx actor.Context, m *poolOpened) {
	if !o.g.IsCurrent(m.epoch) || o.pool != nil {
		// Not ours to keep; closing may wait for connections, so not here.
		p := m.pool
		o.g.Go(taskClose, func(*actors.Task) error { p.Close(); return nil })
		return
	}
	o.pool, o.since = m.pool, time.Now()
	o.cfg.View.publish(m.pool)
	o.cfg.Log.Info("pool connected", zap.String("role", string(o.cfg.Role)),
		zap.String("application_name", o.cfg.Role.ApplicationName()), zap.Int32("max_conns", m.pool.Config().MaxConns))
	o.report(ctx, true, "")
	o.armPing(ctx)
}

func (o *owner) exited(ctx actor.Context, m *actors.Exited) {
	if !o.g.Reap(m.Epoch) {
		return
	}
	switch m.Name {
	case taskConnect:
		if m.Err != nil {
			o.report(ctx, false, m.Err.Error())
			o.cfg.Log.Warn("pool could not connect", zap.String("role", string(o.cfg.Role)), zap.Error(m.Err))
			// conn-manager decides when to try again, from the error's class.
			panic(m.Err)
		}
	case taskPing:
		o.pinging = false
		if m.Err != nil {
			o.cfg.Log.Warn("pool health ping failed", zap.String("role", string(o.cfg.Role)), zap.Error(m.Err))
			o.report(ctx, false, m.Err.Error())
		} else {
			o.report(ctx, true, "")
		}
		o.armPing(ctx)
	}
}

// report sends the condition to status (latest wins per name) and to the
// parent (as a request, so conn-manager can tell which child it comes
// from), once per change.
func (o *owner) report(ctx actor.Context, ok bool, reason string) {
	if o.reported && o.lastOK == ok && o.reason == reason {
		return
	}
	o.reported, o.lastOK, o.reason = true, ok, reason
	c := &protocol.Condition{Name: o.cfg.Condition, OK: ok, Reason: reason}
	if o.cfg.Status != nil {
		o.cfg.Kit.Coalesce(o.cfg.Status, c)
	}
	if p := ctx.Parent(); p != nil {
		ctx.Request(p, c)
	}
}

func (o *owner) armPing(ctx actor.Context) {
	self, root, msg := ctx.Self(), ctx.ActorSystem().Root, &pingDue{owner: o}
	o.timer = time.AfterFunc(o.cfg.PingEvery, func() { root.Send(self, msg) })
}

// stop withdraws the pool and closes it in a goroutine: Close waits until
// every borrowed connection is back, which must not hold up Receive. The
// kit's kill at Stopped only cancels that goroutine's context; Close runs to
// its end.
func (o *owner) stop() {
	if o.timer != nil {
		o.timer.Stop()
	}
	if o.pool == nil {
		return
	}
	p := o.pool
	o.pool = nil
	o.cfg.View.withdraw(p)
	o.g.Go(taskClose, func(*actors.Task) error { p.Close(); return nil })
}

func (o *owner) summary() string {
	if o.pool == nil {
		return fmt.Sprintf("%s pool: connecting", o.cfg.Role)
	}
	s := o.pool.Stat()
	return fmt.Sprintf("%s pool: %d/%d connections (%d idle), up %s", o.cfg.Role,
		s.TotalConns(), s.MaxConns(), s.IdleConns(), time.Since(o.since).Round(time.Second))
}

// connect builds the pool and proves it with a ping; the pool is handed to
// the owner only once a connection worked, else closed here.
func connect(cfg Config) func(t *actors.Task) error {
	return func(t *actors.Task) error {
		pcfg, err := pgxpool.ParseConfig(cfg.DSN)
		if err != nil {
			return pgwire.NewOperatorNeeded("the database connection URL does not parse",
				"fix the connection URL (postgres://user:password@host:port/database?sslmode=...)", err)
		}
		pgwire.ApplyRole(&pcfg.ConnConfig.Config, cfg.Role, cfg.Dial)
		if cfg.MaxConns > 0 {
			pcfg.MaxConns = cfg.MaxConns
		}
		if cfg.Role == pgwire.RoleSnapshot {
			pcfg.AfterConnect = applyDisplaySettings
		}
		p, err := pgxpool.NewWithConfig(t.Context(), pcfg)
		if err != nil {
			return pgwire.WrapConnError(cfg.Role, pcfg.ConnConfig.Host, err)
		}
		if err := p.Ping(t.Context()); err != nil {
			p.Close()
			return pgwire.WrapConnError(cfg.Role, pcfg.ConnConfig.Host, err)
		}
		if !t.Send(&poolOpened{epoch: t.Epoch, pool: p}) {
			p.Close()
		}
		return nil
	}
}

func ping(p *pgxpool.Pool, cfg Config) func(t *actors.Task) error {
	return func(t *actors.Task) error {
		ctx, cancel := context.WithTimeout(t.Context(), cfg.PingTimeout)
		defer cancel()
		return pgwire.WrapConnError(cfg.Role, p.Config().ConnConfig.Host, p.Ping(ctx))
	}
}

// applyDisplaySettings runs the display settings on a new snapshot
// connection, in one simple-protocol round trip.
func applyDisplaySettings(ctx context.Context, c *pgx.Conn) error {
	if err := c.PgConn().Exec(ctx, strings.Join(pgwire.DisplaySettings(), "; ")).Close(); err != nil {
		return fmt.Errorf("apply display settings: %w", err)
	}
	return nil
}
