package pgwire

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// Role is what a connection is for; it shows in application_name, so
// pg_stat_activity (and the chaos harness's pg_terminate_backend) can tell
// the connections apart.
type Role string

// The connection roles of ARCHITECTURE §1.4.
const (
	RoleReplication Role = "replication"
	RoleLock        Role = "lock"
	RoleAdmin       Role = "admin"
	RoleSnapshot    Role = "snapshot"
)

// ApplicationName is the application_name connections of role r send.
func (r Role) ApplicationName() string { return "shapesync_" + string(r) }

// DialOptions tune how connections are dialed. Zero fields take the defaults
// below; a negative duration switches that setting off.
type DialOptions struct {
	// ConnectTimeout bounds each address on its own (dial, TLS and startup);
	// default 5 s.
	ConnectTimeout time.Duration
	// KeepAliveIdle, KeepAliveInterval and KeepAliveCount are the TCP
	// keepalive settings; defaults 15 s, 5 s, 3.
	KeepAliveIdle     time.Duration
	KeepAliveInterval time.Duration
	KeepAliveCount    int
	// UserTimeout is TCP_USER_TIMEOUT (Linux only): how long written data may
	// stay unacknowledged before the kernel drops the connection, so a
	// blackholed peer fails writes instead of hanging them; default 30 s.
	UserTimeout time.Duration
	// PreferIPv6 tries a host's IPv6 addresses before its IPv4 ones; by
	// default IPv4 comes first and IPv6 is the last resort (A10).
	PreferIPv6 bool
	// OnAddressFailed, if set, hears about every address that could not be
	// dialed, so the caller can log one warning when it falls back to the
	// next address family.
	OnAddressFailed func(network, address string, err error)
}

const (
	defaultConnectTimeout    = 5 * time.Second
	defaultKeepAliveIdle     = 15 * time.Second
	defaultKeepAliveInterval = 5 * time.Second
	defaultKeepAliveCount    = 3
	defaultUserTimeout       = 30 * time.Second
)

func (o DialOptions) withDefaults() DialOptions {
	pick := func(v *time.Duration, def time.Duration) {
		if *v == 0 {
			*v = def
		}
	}
	pick(&o.ConnectTimeout, defaultConnectTimeout)
	pick(&o.KeepAliveIdle, defaultKeepAliveIdle)
	pick(&o.KeepAliveInterval, defaultKeepAliveInterval)
	pick(&o.UserTimeout, defaultUserTimeout)
	if o.KeepAliveCount == 0 {
		o.KeepAliveCount = defaultKeepAliveCount
	}
	return o
}

// ParseConnConfig parses dsn and applies ApplyRole.
func ParseConnConfig(dsn string, role Role, opts DialOptions) (*pgconn.Config, error) {
	cfg, err := pgconn.ParseConfig(dsn)
	if err != nil {
		// pgconn's parse error redacts the password (best effort).
		return nil, NewOperatorNeeded("the database connection URL does not parse",
			"fix the connection URL (postgres://user:password@host:port/database?sslmode=...)", err)
	}
	ApplyRole(cfg, role, opts)
	return cfg, nil
}

// ApplyRole prepares cfg (from pgconn.ParseConfig, or a pool's
// ConnConfig.Config) for role: application_name, replication=database for
// the replication role and never for the others (a pooled connection in
// replication mode cannot run extended-protocol queries), the per-address
// connect timeout, and the dial and lookup functions of opts. The lock role
// may add replication=database itself (ARCHITECTURE §1.4, advisory-lock
// holder).
func ApplyRole(cfg *pgconn.Config, role Role, opts DialOptions) {
	opts = opts.withDefaults()
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	cfg.RuntimeParams["application_name"] = role.ApplicationName()
	if role == RoleReplication {
		cfg.RuntimeParams["replication"] = "database"
	} else {
		delete(cfg.RuntimeParams, "replication")
	}
	if opts.ConnectTimeout > 0 {
		// pgconn gives each distinct address its own context with this timeout.
		cfg.ConnectTimeout = opts.ConnectTimeout
	}
	cfg.DialFunc = NewDialFunc(opts)
	cfg.LookupFunc = NewLookupFunc(opts.PreferIPv6, net.DefaultResolver)
}

// NewDialFunc returns a pgconn.DialFunc that dials one address with the
// connect timeout, TCP keepalive and (on Linux) TCP_USER_TIMEOUT of opts.
// pgconn calls it once per resolved address, in the order LookupFunc gave.
func NewDialFunc(opts DialOptions) pgconn.DialFunc {
	opts = opts.withDefaults()
	d := &net.Dialer{
		KeepAliveConfig: net.KeepAliveConfig{
			Enable:   opts.KeepAliveIdle > 0,
			Idle:     opts.KeepAliveIdle,
			Interval: opts.KeepAliveInterval,
			Count:    opts.KeepAliveCount,
		},
		Control: userTimeoutControl(opts.UserTimeout),
	}
	if opts.KeepAliveIdle < 0 {
		d.KeepAlive = -1
	}
	if opts.ConnectTimeout > 0 {
		d.Timeout = opts.ConnectTimeout
	}
	return func(ctx context.Context, network, address string) (net.Conn, error) {
		conn, err := d.DialContext(ctx, network, address)
		if err != nil {
			if opts.OnAddressFailed != nil {
				opts.OnAddressFailed(network, address, err)
			}
			return nil, err
		}
		return conn, nil
	}
}

// NewLookupFunc resolves a host to all its addresses, IPv4 first (IPv6
// first when preferIPv6), so that pgconn tries each in turn and an
// unreachable address family falls back to the other (A10).
func NewLookupFunc(preferIPv6 bool, resolver *net.Resolver) pgconn.LookupFunc {
	return func(ctx context.Context, host string) ([]string, error) {
		addrs, err := resolver.LookupHost(ctx, host)
		if err != nil {
			return nil, err
		}
		return orderAddresses(addrs, preferIPv6), nil
	}
}

// orderAddresses puts one address family first, keeping the resolver's
// order inside each family.
func orderAddresses(addrs []string, preferIPv6 bool) []string {
	var v4, v6, other []string
	for _, a := range addrs {
		ip := net.ParseIP(a)
		switch {
		case ip == nil:
			other = append(other, a)
		case ip.To4() != nil:
			v4 = append(v4, a)
		default:
			v6 = append(v6, a)
		}
	}
	out := make([]string, 0, len(addrs))
	if preferIPv6 {
		out = append(append(out, v6...), v4...)
	} else {
		out = append(append(out, v4...), v6...)
	}
	return append(out, other...)
}

// String renders opts for logs.
func (o DialOptions) String() string {
	o = o.withDefaults()
	return fmt.Sprintf("connect_timeout=%s keepalive=%s/%s/%d tcp_user_timeout=%s prefer_ipv6=%t",
		o.ConnectTimeout, o.KeepAliveIdle, o.KeepAliveInterval, o.KeepAliveCount, o.UserTimeout, o.PreferIPv6)
}
