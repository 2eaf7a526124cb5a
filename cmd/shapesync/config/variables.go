package config

import (
	"strconv"
	"strings"
	"time"
)

// Variable describes one configuration variable for --help and for the
// README generator.
type Variable struct {
	Name        string   // canonical environment variable
	Aliases     []string // older names, accepted; the canonical one wins when both are set
	Flag        string   // command-line flag, without the leading "--"
	Kind        string   // value syntax: boolean, integer, port, duration, size, string, URL, JSON, list or a choice
	Group       string   // heading in --help
	Default     string   // as shown to operators
	Description string
	Sensitive   bool // the value may hold a credential and is never printed
}

// spec is a Variable plus how to read it into a Config and render it back.
type spec struct {
	Variable
	parse func(c *Config, raw string) error
	show  func(c *Config) string
}

// Variables lists every variable in --help order. The slice is fresh on
// each call.
func Variables() []Variable {
	specs := variableSpecs()
	out := make([]Variable, len(specs))
	for i, s := range specs {
		out[i] = s.Variable
		out[i].Aliases = append([]string(nil), s.Aliases...)
	}
	return out
}

// flagName derives the flag from the variable: ELECTRIC_PORT → port,
// DATABASE_URL → database-url.
func flagName(name string) string {
	return strings.ReplaceAll(strings.ToLower(strings.TrimPrefix(name, "ELECTRIC_")), "_", "-")
}

const (
	groupDatabase    = "Database"
	groupReplication = "Replication"
	groupAuth        = "Authentication"
	groupHTTP        = "HTTP"
	groupShapes      = "Shapes"
	groupStorage     = "Storage"
	groupTelemetry   = "Telemetry"
)

// variableSpecs is a function, not a package variable, so that nothing can
// change the table at run time.
func variableSpecs() []spec {
	specs := []spec{
		// Database.
		custom(Variable{Name: "DATABASE_URL", Kind: "URL", Group: groupDatabase, Sensitive: true,
			Default:     "unset (embedded mode: a private Postgres under " + EmbeddedPostgresDir + ")",
			Description: "replication connection: postgres[ql]://user[:password]@host[:port][/database][?sslmode=disable|allow|prefer|require]; the database defaults to the user; verify-* modes and the replication option are rejected"},
			func(c *Config, s string) (err error) { c.DatabaseURL, err = parseDatabaseURL(s); return err },
			func(c *Config) string { return c.DatabaseURL.String() }),
		custom(Variable{Name: "ELECTRIC_POOLED_DATABASE_URL", Aliases: []string{"ELECTRIC_QUERY_DATABASE_URL"}, Kind: "URL", Group: groupDatabase, Sensitive: true,
			Default:     "DATABASE_URL",
			Description: "connection for snapshots and metadata queries (may go through a pooler); same syntax as DATABASE_URL"},
			func(c *Config, s string) (err error) { c.PooledDatabaseURL, err = parseDatabaseURL(s); return err },
			func(c *Config) string { return c.PooledDatabaseURL.String() }),
		boolean(Variable{Name: "DATABASE_REQUIRE_SSL", Group: groupDatabase, Default: "false",
			Description: "true means sslmode=require when the database URLs name no sslmode (an explicit sslmode wins)"},
			func(c *Config) *bool { return &c.DatabaseRequireSSL }),
		text(Variable{Name: "ELECTRIC_DATABASE_CA_CERTIFICATE_FILE", Group: groupDatabase, Default: "unset",
			Description: "PEM file of the CA that signed the server certificate; enables verification; incompatible with sslmode=disable"},
			func(c *Config) *string { return &c.DatabaseCACertificateFile }, nil),
		boolean(Variable{Name: "ELECTRIC_DATABASE_USE_IPV6", Aliases: []string{"DATABASE_USE_IPV6"}, Group: groupDatabase, Default: "false",
			Description: "prefer IPv6 addresses when connecting to the database"},
			func(c *Config) *bool { return &c.DatabaseUseIPv6 }),
		integer(Variable{Name: "ELECTRIC_DB_POOL_SIZE", Group: groupDatabase, Default: "20",
			Description: "pooled connections (admin and snapshot pools together)"},
			func(c *Config) *int { return &c.DBPoolSize }, 2, 10000,
			"want an integer from 2 to 10000 (one admin and at least one snapshot connection)"),
		duration(Variable{Name: "ELECTRIC_DATABASE_TCP_KEEPALIVE_IDLE", Group: groupDatabase, Default: "15s",
			Description: "idle time before TCP keepalive probes on every database socket; whole seconds, at least 1s"},
			func(c *Config) *time.Duration { return &c.TCPKeepaliveIdle }, wholeSeconds),
		duration(Variable{Name: "ELECTRIC_DATABASE_TCP_KEEPALIVE_INTERVAL", Group: groupDatabase, Default: "5s",
			Description: "gap between TCP keepalive probes; whole seconds, at least 1s"},
			func(c *Config) *time.Duration { return &c.TCPKeepaliveInterval }, wholeSeconds),
		integer(Variable{Name: "ELECTRIC_DATABASE_TCP_KEEPALIVE_COUNT", Group: groupDatabase, Default: "3",
			Description: "unanswered keepalive probes before the connection drops"},
			func(c *Config) *int { return &c.TCPKeepaliveCount }, 1, 127, "want an integer from 1 to 127"),
		duration(Variable{Name: "ELECTRIC_DATABASE_TCP_USER_TIMEOUT", Group: groupDatabase, Default: "30s",
			Description: "TCP_USER_TIMEOUT: longest time sent data may stay unacknowledged"},
			func(c *Config) *time.Duration { return &c.TCPUserTimeout }, nil),

		// Replication.
		text(Variable{Name: "ELECTRIC_REPLICATION_STREAM_ID", Group: groupReplication, Default: "default",
			Description: "suffix of the publication (electric_publication_<id>) and slot (electric_slot_<id>); lower-case letters, digits and _, not starting with a digit"},
			func(c *Config) *string { return &c.ReplicationStreamID }, checkStreamID),
		boolean(Variable{Name: "CLEANUP_REPLICATION_SLOTS_ON_SHUTDOWN", Group: groupReplication, Default: "false",
			Description: "use a TEMPORARY replication slot; it is lost on disconnect and every shape then returns 409"},
			func(c *Config) *bool { return &c.TemporaryReplicationSlot }),
		boolean(Variable{Name: "ELECTRIC_TEMPORARY_REPLICATION_SLOT_USE_RANDOM_NAME", Group: groupReplication, Default: "false",
			Description: "give the temporary slot a random name (only with CLEANUP_REPLICATION_SLOTS_ON_SHUTDOWN=true)"},
			func(c *Config) *bool { return &c.TemporarySlotRandomName }),
		custom(Variable{Name: "ELECTRIC_REPLICATION_IDLE_TIMEOUT", Kind: "duration", Group: groupReplication, Default: "0 (off)",
			Description: "close database connections after this much inactivity; 0 turns it off, else at least 30s"},
			parseIdleTimeout,
			func(c *Config) string { return FormatDuration(c.ReplicationIdleTimeout) }),
		boolean(Variable{Name: "ELECTRIC_MANUAL_TABLE_PUBLISHING", Group: groupReplication, Default: "false",
			Description: "never alter the publication or tables; the operator adds tables to the publication"},
			func(c *Config) *bool { return &c.ManualTablePublishing }),
		duration(Variable{Name: "ELECTRIC_TWEAKS_PUBLICATION_REFRESH_PERIOD", Group: groupReplication, Default: "60s",
			Description: "how often the publication is checked against the shapes"},
			func(c *Config) *time.Duration { return &c.PublicationRefreshPeriod }, nil),
		duration(Variable{Name: "ELECTRIC_TWEAKS_SCHEMA_RECONCILER_PERIOD", Group: groupReplication, Default: "60s",
			Description: "how often table schemas are reconciled with the shapes"},
			func(c *Config) *time.Duration { return &c.SchemaReconcilerPeriod }, nil),
		size(Variable{Name: "ELECTRIC_EXPERIMENTAL_MAX_TXN_SIZE", Group: groupReplication, Default: "250M",
			Description: "largest transaction accepted before the replication stream errors"},
			func(c *Config) *int64 { return &c.MaxTxnSize }, 1),
		size(Variable{Name: "ELECTRIC_RESUMABLE_WAL_WINDOW", Group: groupReplication, Default: "2G",
			Description: "most WAL the slot may retain: a warning at 80%, past it the shapes pinning the slot are invalidated (409)"},
			func(c *Config) *int64 { return &c.ResumableWALWindow }, 1),
		duration(Variable{Name: "ELECTRIC_FLUSH_STALL_GRACE_PERIOD", Group: groupReplication, Default: "60s",
			Description: "a shape with no flush progress for this long is invalidated"},
			func(c *Config) *time.Duration { return &c.FlushStallGracePeriod }, nil),

		// Authentication.
		custom(Variable{Name: "ELECTRIC_SECRET", Kind: "string", Group: groupAuth, Default: "unset", Sensitive: true,
			Description: "API secret every shape request must carry as ?secret= (legacy ?api_secret=); with DATABASE_URL exactly one of this and ELECTRIC_INSECURE=true is required"},
			func(c *Config, s string) error { c.Secret = Secret(s); return nil },
			func(c *Config) string { return c.Secret.String() }),
		boolean(Variable{Name: "ELECTRIC_INSECURE", Group: groupAuth, Default: "false (embedded mode: true unless ELECTRIC_SECRET is set)",
			Description: "serve shapes without a secret"},
			func(c *Config) *bool { return &c.Insecure }),

		// HTTP.
		port(Variable{Name: "ELECTRIC_PORT", Aliases: []string{"HTTP_PORT"}, Group: groupHTTP, Default: "3000",
			Description: "public HTTP port (0 picks a free port)"},
			func(c *Config) *int { return &c.Port }, 0),
		boolean(Variable{Name: "ELECTRIC_LISTEN_ON_IPV6", Aliases: []string{"ELECTRIC_USE_IPV6"}, Group: groupHTTP, Default: "false",
			Description: "also listen on IPv6"},
			func(c *Config) *bool { return &c.ListenOnIPv6 }),
		text(Variable{Name: "ELECTRIC_ADMIN_HOST", Group: groupHTTP, Default: "127.0.0.1",
			Description: "address of the admin listener serving /metrics and /debug/*"},
			func(c *Config) *string { return &c.AdminHost }, checkHost),
		port(Variable{Name: "ELECTRIC_ADMIN_PORT", Group: groupHTTP, Default: "3001",
			Description: "admin listener port; 0 picks a free port, which is logged at start"},
			func(c *Config) *int { return &c.AdminPort }, 0),
		port(Variable{Name: "ELECTRIC_PROMETHEUS_PORT", Group: groupHTTP, Default: "unset",
			Description: "also serve /metrics on this port, for compatibility (it is always on the admin listener); 0 means not separately"},
			func(c *Config) *int { return &c.PrometheusPort }, 0),
		duration(Variable{Name: "ELECTRIC_TCP_SEND_TIMEOUT", Group: groupHTTP, Default: "30s",
			Description: "per-write send timeout"},
			func(c *Config) *time.Duration { return &c.TCPSendTimeout }, nil),
		duration(Variable{Name: "ELECTRIC_TCP_READ_TIMEOUT", Group: groupHTTP, Default: "60s",
			Description: "read and keep-alive idle timeout"},
			func(c *Config) *time.Duration { return &c.TCPReadTimeout }, nil),
		duration(Variable{Name: "ELECTRIC_LONG_POLL_TIMEOUT", Group: groupHTTP, Default: "20000 (ms)",
			Description: "how long a live request is held; a bare number is milliseconds; keep it under 45s"},
			func(c *Config) *time.Duration { return &c.LongPollTimeout }, nil),
		integer(Variable{Name: "ELECTRIC_CACHE_MAX_AGE", Group: groupHTTP, Default: "60",
			Description: "max-age in seconds of non-live responses"},
			func(c *Config) *int { return &c.CacheMaxAge }, 0, 1<<31-1, "want a whole number of seconds, 0 or more"),
		integer(Variable{Name: "ELECTRIC_CACHE_STALE_AGE", Group: groupHTTP, Default: "300",
			Description: "stale-while-revalidate in seconds of non-live responses"},
			func(c *Config) *int { return &c.CacheStaleAge }, 0, 1<<31-1, "want a whole number of seconds, 0 or more"),
		custom(Variable{Name: "ELECTRIC_MAX_CONCURRENT_REQUESTS", Kind: "JSON", Group: groupHTTP, Default: `{"initial":300,"existing":10000}`,
			Description: "admission limits for requests creating a shape (initial) and for the rest (existing); a missing key keeps its default"},
			parseConcurrencyLimits,
			func(c *Config) string {
				return `{"initial":` + strconv.Itoa(c.MaxConcurrentRequests.Initial) + `,"existing":` + strconv.Itoa(c.MaxConcurrentRequests.Existing) + `}`
			}),
		boolean(Variable{Name: "ELECTRIC_ENABLE_INTEGRATION_TESTING", Group: groupHTTP, Default: "false",
			Description: "enable DELETE /v1/shape"},
			func(c *Config) *bool { return &c.EnableIntegrationTesting }),

		// Shapes.
		size(Variable{Name: "ELECTRIC_SHAPE_CHUNK_BYTES_THRESHOLD", Group: groupShapes, Default: "10485760",
			Description: "shape log chunk size in bytes"},
			func(c *Config) *int64 { return &c.ChunkBytesThreshold }, 1),
		integer(Variable{Name: "ELECTRIC_MAX_SHAPES", Aliases: []string{"ELECTRIC_EXPERIMENTAL_MAX_SHAPES"}, Group: groupShapes, Default: "unlimited",
			Description: "number of shapes past which the least recently used are evicted; 0 means unlimited"},
			func(c *Config) *int { return &c.MaxShapes }, 0, 1<<31-1, "want a whole number, 0 (unlimited) or more"),
		size(Variable{Name: "ELECTRIC_TXN_CACHE_SIZE", Group: groupShapes, Default: "256M",
			Description: "in-memory cache of recent transactions' log items serving live tails; 0 turns it off"},
			func(c *Config) *int64 { return &c.TxnCacheSize }, 0),
		duration(Variable{Name: "ELECTRIC_SHAPE_HIBERNATE_AFTER", Group: groupShapes, Default: "30s",
			Description: "idle time after which a shape consumer sleeps"},
			func(c *Config) *time.Duration { return &c.ShapeHibernateAfter }, nil),
		boolean(Variable{Name: "ELECTRIC_SHAPE_SUSPEND_CONSUMER", Group: groupShapes, Default: "false",
			Description: "stop idle shape consumers entirely after ELECTRIC_SHAPE_SUSPEND_AFTER"},
			func(c *Config) *bool { return &c.ShapeSuspendConsumer }),
		duration(Variable{Name: "ELECTRIC_SHAPE_SUSPEND_AFTER", Group: groupShapes, Default: "10m",
			Description: "idle time after which a consumer is suspended (with ELECTRIC_SHAPE_SUSPEND_CONSUMER=true)"},
			func(c *Config) *time.Duration { return &c.ShapeSuspendAfter }, nil),
		custom(Variable{Name: "ELECTRIC_FEATURE_FLAGS", Kind: "list", Group: groupShapes, Default: "empty",
			Description: "comma-separated feature flags (" + FeatureAllowSubqueries + ", " + FeatureTaggedSubqueries + "); unknown flags are logged and ignored"},
			parseFeatureFlags,
			func(c *Config) string { return strings.Join(c.FeatureFlags, ",") }),

		// Storage.
		text(Variable{Name: "ELECTRIC_STORAGE_DIR", Group: groupStorage, Default: DefaultStorageDir + " (embedded mode: " + EmbeddedStorageDir + ")",
			Description: "root of persistent state"},
			func(c *Config) *string { return &c.StorageDir }, nil),
		choice(Variable{Name: "ELECTRIC_STORAGE", Group: groupStorage, Default: "FILE",
			Description: "shape log storage: FILE, or MEMORY for tests (FAST_FILE is read as FILE)"},
			func(c *Config) *StorageKind { return &c.Storage }, true),
		choice(Variable{Name: "ELECTRIC_PERSISTENT_STATE", Group: groupStorage, Default: "FILE",
			Description: "metadata store: FILE or MEMORY"},
			func(c *Config) *StorageKind { return &c.PersistentState }, false),

		// Telemetry.
		custom(Variable{Name: "ELECTRIC_LOG_LEVEL", Aliases: []string{"LOG_LEVEL"}, Kind: "error|warning|info|debug", Group: groupTelemetry, Default: "info",
			Description: "log level (warn is accepted for warning)"},
			parseLogLevel,
			func(c *Config) string { return c.LogLevel }),
		text(Variable{Name: "ELECTRIC_INSTANCE_ID", Group: groupTelemetry, Default: "a random UUID",
			Description: "identity of this instance in telemetry"},
			func(c *Config) *string { return &c.InstanceID }, nil),
		text(Variable{Name: "ELECTRIC_SERVICE_NAME", Group: groupTelemetry, Default: "electric",
			Description: "service name in telemetry"},
			func(c *Config) *string { return &c.ServiceName }, nil),
		custom(Variable{Name: "ELECTRIC_TELEMETRY", Kind: "enabled|disabled", Group: groupTelemetry, Default: "enabled",
			Description: "disabled turns off the periodic samplers; nothing is ever sent off the machine and the metrics endpoints stay"},
			func(c *Config, s string) error {
				v, err := parseEnum(s, "enabled", "disabled")
				c.TelemetryEnabled = v == "enabled"
				return err
			},
			func(c *Config) string {
				if c.TelemetryEnabled {
					return "enabled"
				}
				return "disabled"
			}),
	}
	for i := range specs {
		specs[i].Flag = flagName(specs[i].Name)
	}
	return specs
}

// defaults is the configuration before any variable is read. Mode-dependent
// values (StorageDir, Insecure) and InstanceID are settled by Load.
func defaults() *Config {
	return &Config{
		DBPoolSize:               20,
		TCPKeepaliveIdle:         15 * time.Second,
		TCPKeepaliveInterval:     5 * time.Second,
		TCPKeepaliveCount:        3,
		TCPUserTimeout:           30 * time.Second,
		ReplicationStreamID:      "default",
		PublicationRefreshPeriod: 60 * time.Second,
		SchemaReconcilerPeriod:   60 * time.Second,
		MaxTxnSize:               250 * mib,
		ResumableWALWindow:       2 * gib,
		FlushStallGracePeriod:    60 * time.Second,
		Port:                     3000,
		AdminHost:                "127.0.0.1",
		AdminPort:                3001,
		TCPSendTimeout:           30 * time.Second,
		TCPReadTimeout:           60 * time.Second,
		LongPollTimeout:          20 * time.Second,
		CacheMaxAge:              60,
		CacheStaleAge:            300,
		MaxConcurrentRequests:    ConcurrencyLimits{Initial: 300, Existing: 10000},
		ChunkBytesThreshold:      10485760,
		TxnCacheSize:             256 * mib,
		ShapeHibernateAfter:      30 * time.Second,
		ShapeSuspendAfter:        10 * time.Minute,
		Storage:                  StorageFile,
		PersistentState:          StorageFile,
		LogLevel:                 "info",
		ServiceName:              "electric",
		TelemetryEnabled:         true,
	}
}
