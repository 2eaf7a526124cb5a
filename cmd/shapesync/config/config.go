package config

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// Directories of the two modes (SHAPE_API §23).
const (
	DefaultStorageDir   = "./persistent"
	EmbeddedStorageDir  = "./.shapesync/storage"
	EmbeddedPostgresDir = "./.shapesync/pg"
)

// Known feature flags; others are accepted and reported as Warnings.
const (
	FeatureAllowSubqueries  = "allow_subqueries"
	FeatureTaggedSubqueries = "tagged_subqueries"
)

// ErrHelp is returned by Load when the arguments ask for --help (or -h).
// main prints HelpText() to stdout and exits 0.
var ErrHelp = errors.New("help requested")

// Config is the validated service configuration. Field comments name the
// variable each field comes from; Variables() describes them in full.
type Config struct {
	// Embedded is true when DATABASE_URL is unset: shapesync starts a
	// private Postgres (data under EmbeddedPostgresDir) and DatabaseURL and
	// PooledDatabaseURL are nil until main fills them in.
	Embedded bool

	// Database connections.
	DatabaseURL               *DatabaseURL  // DATABASE_URL, sslmode resolved with DATABASE_REQUIRE_SSL
	PooledDatabaseURL         *DatabaseURL  // ELECTRIC_POOLED_DATABASE_URL; defaults to DatabaseURL
	DatabaseRequireSSL        bool          // DATABASE_REQUIRE_SSL
	DatabaseCACertificateFile string        // ELECTRIC_DATABASE_CA_CERTIFICATE_FILE; "" = no verification
	DatabaseUseIPv6           bool          // ELECTRIC_DATABASE_USE_IPV6
	DBPoolSize                int           // ELECTRIC_DB_POOL_SIZE
	TCPKeepaliveIdle          time.Duration // ELECTRIC_DATABASE_TCP_KEEPALIVE_IDLE, whole seconds
	TCPKeepaliveInterval      time.Duration // ELECTRIC_DATABASE_TCP_KEEPALIVE_INTERVAL, whole seconds
	TCPKeepaliveCount         int           // ELECTRIC_DATABASE_TCP_KEEPALIVE_COUNT
	TCPUserTimeout            time.Duration // ELECTRIC_DATABASE_TCP_USER_TIMEOUT

	// Replication.
	ReplicationStreamID      string        // ELECTRIC_REPLICATION_STREAM_ID
	TemporaryReplicationSlot bool          // CLEANUP_REPLICATION_SLOTS_ON_SHUTDOWN
	TemporarySlotRandomName  bool          // ELECTRIC_TEMPORARY_REPLICATION_SLOT_USE_RANDOM_NAME
	ReplicationIdleTimeout   time.Duration // ELECTRIC_REPLICATION_IDLE_TIMEOUT; 0 = never close
	ManualTablePublishing    bool          // ELECTRIC_MANUAL_TABLE_PUBLISHING
	PublicationRefreshPeriod time.Duration // ELECTRIC_TWEAKS_PUBLICATION_REFRESH_PERIOD
	SchemaReconcilerPeriod   time.Duration // ELECTRIC_TWEAKS_SCHEMA_RECONCILER_PERIOD
	MaxTxnSize               int64         // ELECTRIC_EXPERIMENTAL_MAX_TXN_SIZE, bytes
	ResumableWALWindow       int64         // ELECTRIC_RESUMABLE_WAL_WINDOW, bytes
	FlushStallGracePeriod    time.Duration // ELECTRIC_FLUSH_STALL_GRACE_PERIOD

	// Authentication (SHAPE_API §3): exactly one of Secret and Insecure.
	Secret   Secret // ELECTRIC_SECRET
	Insecure bool   // ELECTRIC_INSECURE, implied in embedded mode without a secret

	// HTTP listeners.
	Port                     int               // ELECTRIC_PORT; 0 picks a free port
	ListenOnIPv6             bool              // ELECTRIC_LISTEN_ON_IPV6
	AdminHost                string            // ELECTRIC_ADMIN_HOST
	AdminPort                int               // ELECTRIC_ADMIN_PORT; 0 picks a free port
	PrometheusPort           int               // ELECTRIC_PROMETHEUS_PORT; 0 = not served separately
	TCPSendTimeout           time.Duration     // ELECTRIC_TCP_SEND_TIMEOUT
	TCPReadTimeout           time.Duration     // ELECTRIC_TCP_READ_TIMEOUT
	LongPollTimeout          time.Duration     // ELECTRIC_LONG_POLL_TIMEOUT
	CacheMaxAge              int               // ELECTRIC_CACHE_MAX_AGE, seconds
	CacheStaleAge            int               // ELECTRIC_CACHE_STALE_AGE, seconds
	MaxConcurrentRequests    ConcurrencyLimits // ELECTRIC_MAX_CONCURRENT_REQUESTS
	EnableIntegrationTesting bool              // ELECTRIC_ENABLE_INTEGRATION_TESTING (DELETE /v1/shape)

	// Shapes.
	ChunkBytesThreshold  int64         // ELECTRIC_SHAPE_CHUNK_BYTES_THRESHOLD, bytes
	MaxShapes            int           // ELECTRIC_MAX_SHAPES; 0 = unlimited
	TxnCacheSize         int64         // ELECTRIC_TXN_CACHE_SIZE, bytes; 0 = no cache
	ShapeHibernateAfter  time.Duration // ELECTRIC_SHAPE_HIBERNATE_AFTER
	ShapeSuspendConsumer bool          // ELECTRIC_SHAPE_SUSPEND_CONSUMER
	ShapeSuspendAfter    time.Duration // ELECTRIC_SHAPE_SUSPEND_AFTER
	FeatureFlags         []string      // ELECTRIC_FEATURE_FLAGS, lower case, de-duplicated, in order

	// Storage.
	StorageDir      string      // ELECTRIC_STORAGE_DIR; mode-dependent default
	Storage         StorageKind // ELECTRIC_STORAGE
	PersistentState StorageKind // ELECTRIC_PERSISTENT_STATE

	// Telemetry.
	LogLevel         string // ELECTRIC_LOG_LEVEL: "error", "warn", "info" or "debug"
	InstanceID       string // ELECTRIC_INSTANCE_ID; random UUID v4 by default
	ServiceName      string // ELECTRIC_SERVICE_NAME
	TelemetryEnabled bool   // ELECTRIC_TELEMETRY: enabled/disabled
}

// ConcurrencyLimits caps concurrent shape requests (SHAPE_API §17):
// Initial for requests that start a shape, Existing for the rest.
type ConcurrencyLimits struct {
	Initial  int `json:"initial"`
	Existing int `json:"existing"`
}

// StorageKind selects file-backed or in-memory state.
type StorageKind string

const (
	StorageFile   StorageKind = "FILE"
	StorageMemory StorageKind = "MEMORY"
)

// PublicationName is the publication this instance owns (SHAPE_API §22.1).
func (c *Config) PublicationName() string {
	return "electric_publication_" + c.ReplicationStreamID
}

// SlotName is the replication slot name unless TemporarySlotRandomName
// asks for a random one (SHAPE_API §22.1).
func (c *Config) SlotName() string {
	return "electric_slot_" + c.ReplicationStreamID
}

// HasFeature reports whether ELECTRIC_FEATURE_FLAGS names flag.
func (c *Config) HasFeature(flag string) bool {
	return slices.Contains(c.FeatureFlags, flag)
}

// Secret is a credential. Every fmt verb and text marshalling print
// [REDACTED] (or nothing when empty); Reveal returns the value.
type Secret string

const redactedMarker = "[REDACTED]"

// Reveal returns the secret itself, for comparison and for drivers.
func (s Secret) Reveal() string { return string(s) }

func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redactedMarker
}

// GoString covers %#v.
func (s Secret) GoString() string { return `"` + s.String() + `"` }

// MarshalText keeps JSON and other encoders from writing the value.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Warning is a non-fatal finding for main to log: an ignored variable, an
// alias overridden by its canonical name, a value with no effect.
type Warning struct {
	Variable string
	Message  string
}

func (w Warning) String() string { return w.Variable + ": " + w.Message }

// InvalidValueError reports a variable whose value does not parse. Value is
// empty for variables that may hold credentials.
type InvalidValueError struct {
	Variable string // canonical name
	Source   string // where the value came from: the variable, its alias or the flag
	Value    string
	Err      error // what the variable accepts
}

func (e *InvalidValueError) Error() string {
	label := e.Source
	if e.Source != e.Variable {
		label = fmt.Sprintf("%s (%s)", e.Source, e.Variable)
	}
	if e.Value == "" {
		return fmt.Sprintf("%s: %v", label, e.Err)
	}
	return fmt.Sprintf("%s=%q: %v", label, e.Value, e.Err)
}

func (e *InvalidValueError) Unwrap() error { return e.Err }
