package config

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
)

// external is the minimum for a non-embedded start.
var external = []string{"DATABASE_URL=postgres://app:pw@db/app", "ELECTRIC_INSECURE=true"}

// with puts kv before base: the first occurrence of a name wins, so kv
// overrides base.
func with(base []string, kv ...string) []string {
	return append(append([]string(nil), kv...), base...)
}

func mustLoad(t *testing.T, env, args []string) (*Config, []Warning) {
	t.Helper()
	c, w, err := Load(env, args)
	if err != nil {
		t.Fatalf("Load(%q, %q): %v", env, args, err)
	}
	return c, w
}

func hasWarning(ws []Warning, variable, substr string) bool {
	for _, w := range ws {
		if w.Variable == variable && strings.Contains(w.Message, substr) {
			return true
		}
	}
	return false
}

var uuid4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestLoad_defaults(t *testing.T) {
	t.Parallel()
	t.Run("ok - embedded mode with nothing set", func(t *testing.T) {
		t.Parallel()
		c, w := mustLoad(t, nil, nil)
		if !uuid4.MatchString(c.InstanceID) {
			t.Errorf("InstanceID = %q, want a UUID v4", c.InstanceID)
		}
		want := &Config{
			Embedded:                 true,
			DBPoolSize:               20,
			TCPKeepaliveIdle:         15 * time.Second,
			TCPKeepaliveInterval:     5 * time.Second,
			TCPKeepaliveCount:        3,
			TCPUserTimeout:           30 * time.Second,
			ReplicationStreamID:      "default",
			PublicationRefreshPeriod: time.Minute,
			SchemaReconcilerPeriod:   time.Minute,
			MaxTxnSize:               250 * 1024 * 1024,
			ResumableWALWindow:       2 * 1024 * 1024 * 1024,
			FlushStallGracePeriod:    time.Minute,
			Insecure:                 true,
			Port:                     3000,
			AdminHost:                "127.0.0.1",
			AdminPort:                3001,
			TCPSendTimeout:           30 * time.Second,
			TCPReadTimeout:           60 * time.Second,
			LongPollTimeout:          20000 * time.Millisecond,
			CacheMaxAge:              60,
			CacheStaleAge:            300,
			MaxConcurrentRequests:    ConcurrencyLimits{Initial: 300, Existing: 10000},
			ChunkBytesThreshold:      10485760,
			TxnCacheSize:             256 * 1024 * 1024,
			ShapeHibernateAfter:      30 * time.Second,
			ShapeSuspendAfter:        10 * time.Minute,
			StorageDir:               "./.shapesync/storage",
			Storage:                  StorageFile,
			PersistentState:          StorageFile,
			LogLevel:                 "info",
			InstanceID:               c.InstanceID,
			ServiceName:              "electric",
			TelemetryEnabled:         true,
		}
		if !reflect.DeepEqual(c, want) {
			t.Fatalf("defaults differ:\n got %s\nwant %s", c.Redacted(), want.Redacted())
		}
		if !hasWarning(w, "DATABASE_URL", "embedded mode") {
			t.Errorf("no development-mode warning in %v", w)
		}
		if c.PublicationName() != "electric_publication_default" || c.SlotName() != "electric_slot_default" {
			t.Errorf("names = %s, %s", c.PublicationName(), c.SlotName())
		}
	})
	t.Run("ok - external database", func(t *testing.T) {
		t.Parallel()
		c, w := mustLoad(t, external, nil)
		if c.Embedded || c.StorageDir != "./persistent" || !c.Insecure || c.Secret != "" {
			t.Errorf("Embedded=%v StorageDir=%q Insecure=%v", c.Embedded, c.StorageDir, c.Insecure)
		}
		if c.DatabaseURL.ConnString() != "postgresql://app:pw@db:5432/app?sslmode=prefer" {
			t.Errorf("DatabaseURL = %s", c.DatabaseURL.ConnString())
		}
		if c.PooledDatabaseURL == c.DatabaseURL || !reflect.DeepEqual(c.PooledDatabaseURL, c.DatabaseURL) {
			t.Errorf("PooledDatabaseURL should be an equal copy of DatabaseURL: %v", c.PooledDatabaseURL)
		}
		if len(w) != 0 {
			t.Errorf("warnings = %v, want none", w)
		}
	})
	t.Run("ok - instance ids differ between loads", func(t *testing.T) {
		t.Parallel()
		a, _ := mustLoad(t, nil, nil)
		b, _ := mustLoad(t, nil, nil)
		if a.InstanceID == b.InstanceID {
			t.Fatalf("two loads gave the same random instance id %s", a.InstanceID)
		}
	})
}

func TestLoad_values(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  []string
		got  func(*Config) any
		want any
	}{
		{"ok - pooled URL", []string{"ELECTRIC_POOLED_DATABASE_URL=postgres://p@pool:6432/app"},
			func(c *Config) any { return c.PooledDatabaseURL.ConnString() }, "postgresql://p@pool:6432/app?sslmode=prefer"},
		{"ok - pool size", []string{"ELECTRIC_DB_POOL_SIZE=8"}, func(c *Config) any { return c.DBPoolSize }, 8},
		{"ok - IPv6 for the database", []string{"ELECTRIC_DATABASE_USE_IPV6=true"}, func(c *Config) any { return c.DatabaseUseIPv6 }, true},
		{"ok - keepalive idle", []string{"ELECTRIC_DATABASE_TCP_KEEPALIVE_IDLE=2min"}, func(c *Config) any { return c.TCPKeepaliveIdle }, 2 * time.Minute},
		{"ok - keepalive interval", []string{"ELECTRIC_DATABASE_TCP_KEEPALIVE_INTERVAL=1s"}, func(c *Config) any { return c.TCPKeepaliveInterval }, time.Second},
		{"ok - keepalive count", []string{"ELECTRIC_DATABASE_TCP_KEEPALIVE_COUNT=9"}, func(c *Config) any { return c.TCPKeepaliveCount }, 9},
		{"ok - user timeout in ms", []string{"ELECTRIC_DATABASE_TCP_USER_TIMEOUT=2500"}, func(c *Config) any { return c.TCPUserTimeout }, 2500 * time.Millisecond},
		{"ok - stream id", []string{"ELECTRIC_REPLICATION_STREAM_ID=tenant_42"}, func(c *Config) any { return c.SlotName() }, "electric_slot_tenant_42"},
		{"ok - stream id of 42 characters", []string{"ELECTRIC_REPLICATION_STREAM_ID=" + strings.Repeat("a", 42)},
			func(c *Config) any { return len(c.PublicationName()) }, 63},
		{"ok - temporary slot", []string{"CLEANUP_REPLICATION_SLOTS_ON_SHUTDOWN=1", "ELECTRIC_TEMPORARY_REPLICATION_SLOT_USE_RANDOM_NAME=TRUE"},
			func(c *Config) any { return [2]bool{c.TemporaryReplicationSlot, c.TemporarySlotRandomName} }, [2]bool{true, true}},
		{"ok - idle timeout", []string{"ELECTRIC_REPLICATION_IDLE_TIMEOUT=5m"}, func(c *Config) any { return c.ReplicationIdleTimeout }, 5 * time.Minute},
		{"ok - idle timeout off", []string{"ELECTRIC_REPLICATION_IDLE_TIMEOUT=0"}, func(c *Config) any { return c.ReplicationIdleTimeout }, time.Duration(0)},
		{"ok - manual publishing", []string{"ELECTRIC_MANUAL_TABLE_PUBLISHING=true"}, func(c *Config) any { return c.ManualTablePublishing }, true},
		{"ok - publication refresh", []string{"ELECTRIC_TWEAKS_PUBLICATION_REFRESH_PERIOD=5s"}, func(c *Config) any { return c.PublicationRefreshPeriod }, 5 * time.Second},
		{"ok - schema reconciler", []string{"ELECTRIC_TWEAKS_SCHEMA_RECONCILER_PERIOD=90000"}, func(c *Config) any { return c.SchemaReconcilerPeriod }, 90 * time.Second},
		{"ok - max txn size", []string{"ELECTRIC_EXPERIMENTAL_MAX_TXN_SIZE=1g"}, func(c *Config) any { return c.MaxTxnSize }, int64(1 << 30)},
		{"ok - WAL window", []string{"ELECTRIC_RESUMABLE_WAL_WINDOW=512MB"}, func(c *Config) any { return c.ResumableWALWindow }, int64(512 << 20)},
		{"ok - flush stall grace", []string{"ELECTRIC_FLUSH_STALL_GRACE_PERIOD=2m"}, func(c *Config) any { return c.FlushStallGracePeriod }, 2 * time.Minute},
		{"ok - port", []string{"ELECTRIC_PORT=8080"}, func(c *Config) any { return c.Port }, 8080},
		{"ok - port 0 picks a free port", []string{"ELECTRIC_PORT=0", "ELECTRIC_ADMIN_PORT=0"},
			func(c *Config) any { return [2]int{c.Port, c.AdminPort} }, [2]int{0, 0}},
		{"ok - listen on IPv6", []string{"ELECTRIC_LISTEN_ON_IPV6=true"}, func(c *Config) any { return c.ListenOnIPv6 }, true},
		{"ok - admin host name", []string{"ELECTRIC_ADMIN_HOST=localhost"}, func(c *Config) any { return c.AdminHost }, "localhost"},
		{"ok - admin host IPv6", []string{"ELECTRIC_ADMIN_HOST=::1"}, func(c *Config) any { return c.AdminHost }, "::1"},
		{"ok - admin port", []string{"ELECTRIC_ADMIN_PORT=9000"}, func(c *Config) any { return c.AdminPort }, 9000},
		{"ok - prometheus port", []string{"ELECTRIC_PROMETHEUS_PORT=9464"}, func(c *Config) any { return c.PrometheusPort }, 9464},
		{"ok - send timeout", []string{"ELECTRIC_TCP_SEND_TIMEOUT=10sec"}, func(c *Config) any { return c.TCPSendTimeout }, 10 * time.Second},
		{"ok - read timeout", []string{"ELECTRIC_TCP_READ_TIMEOUT=1.5m"}, func(c *Config) any { return c.TCPReadTimeout }, 90 * time.Second},
		{"ok - long poll as plain ms", []string{"ELECTRIC_LONG_POLL_TIMEOUT=15000"}, func(c *Config) any { return c.LongPollTimeout }, 15 * time.Second},
		{"ok - cache max age", []string{"ELECTRIC_CACHE_MAX_AGE=0"}, func(c *Config) any { return c.CacheMaxAge }, 0},
		{"ok - cache stale age", []string{"ELECTRIC_CACHE_STALE_AGE=600"}, func(c *Config) any { return c.CacheStaleAge }, 600},
		{"ok - concurrency limits", []string{`ELECTRIC_MAX_CONCURRENT_REQUESTS={"initial":5,"existing":50}`},
			func(c *Config) any { return c.MaxConcurrentRequests }, ConcurrencyLimits{Initial: 5, Existing: 50}},
		{"ok - concurrency limits partial", []string{`ELECTRIC_MAX_CONCURRENT_REQUESTS= {"existing": 7} `},
			func(c *Config) any { return c.MaxConcurrentRequests }, ConcurrencyLimits{Initial: 300, Existing: 7}},
		{"ok - integration testing", []string{"ELECTRIC_ENABLE_INTEGRATION_TESTING=true"}, func(c *Config) any { return c.EnableIntegrationTesting }, true},
		{"ok - chunk threshold plain", []string{"ELECTRIC_SHAPE_CHUNK_BYTES_THRESHOLD=1000"}, func(c *Config) any { return c.ChunkBytesThreshold }, int64(1000)},
		{"ok - max shapes", []string{"ELECTRIC_MAX_SHAPES=100"}, func(c *Config) any { return c.MaxShapes }, 100},
		{"ok - txn cache size", []string{"ELECTRIC_TXN_CACHE_SIZE=64m"}, func(c *Config) any { return c.TxnCacheSize }, int64(64 << 20)},
		{"ok - txn cache off", []string{"ELECTRIC_TXN_CACHE_SIZE=0"}, func(c *Config) any { return c.TxnCacheSize }, int64(0)},
		{"ok - hibernate", []string{"ELECTRIC_SHAPE_HIBERNATE_AFTER=1m"}, func(c *Config) any { return c.ShapeHibernateAfter }, time.Minute},
		{"ok - suspend", []string{"ELECTRIC_SHAPE_SUSPEND_CONSUMER=true", "ELECTRIC_SHAPE_SUSPEND_AFTER=20m"},
			func(c *Config) any { return fmt.Sprint(c.ShapeSuspendConsumer, c.ShapeSuspendAfter) }, "true 20m0s"},
		{"ok - feature flags", []string{"ELECTRIC_FEATURE_FLAGS= Allow_Subqueries, tagged_subqueries,,allow_subqueries"},
			func(c *Config) any { return c.FeatureFlags }, []string{"allow_subqueries", "tagged_subqueries"}},
		{"ok - storage dir", []string{"ELECTRIC_STORAGE_DIR=/var/lib/shapesync"}, func(c *Config) any { return c.StorageDir }, "/var/lib/shapesync"},
		{"ok - memory storage", []string{"ELECTRIC_STORAGE=memory"}, func(c *Config) any { return c.Storage }, StorageMemory},
		{"ok - fast_file is file", []string{"ELECTRIC_STORAGE=FAST_FILE"}, func(c *Config) any { return c.Storage }, StorageFile},
		{"ok - persistent state", []string{"ELECTRIC_PERSISTENT_STATE=MEMORY"}, func(c *Config) any { return c.PersistentState }, StorageMemory},
		{"ok - log level warning", []string{"ELECTRIC_LOG_LEVEL=warning"}, func(c *Config) any { return c.LogLevel }, "warn"},
		{"ok - log level warn", []string{"ELECTRIC_LOG_LEVEL=WARN"}, func(c *Config) any { return c.LogLevel }, "warn"},
		{"ok - log level debug", []string{"ELECTRIC_LOG_LEVEL=debug"}, func(c *Config) any { return c.LogLevel }, "debug"},
		{"ok - instance id", []string{"ELECTRIC_INSTANCE_ID=node-a"}, func(c *Config) any { return c.InstanceID }, "node-a"},
		{"ok - service name", []string{"ELECTRIC_SERVICE_NAME=sync"}, func(c *Config) any { return c.ServiceName }, "sync"},
		{"ok - telemetry disabled", []string{"ELECTRIC_TELEMETRY=disabled"}, func(c *Config) any { return c.TelemetryEnabled }, false},
		{"ok - empty variable counts as unset", []string{"ELECTRIC_PORT="}, func(c *Config) any { return c.Port }, 3000},
		{"ok - first occurrence wins", []string{"ELECTRIC_PORT=4000", "ELECTRIC_PORT=5000"}, func(c *Config) any { return c.Port }, 4000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, _ := mustLoad(t, with(external, tt.env...), nil)
			if got := tt.got(c); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestLoad_invalidValues(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  string
		want string // the whole message
	}{
		{"error - size suffix", "ELECTRIC_TXN_CACHE_SIZE=12Q",
			`ELECTRIC_TXN_CACHE_SIZE="12Q": want a size in bytes with an optional K, M or G suffix (e.g. 256M)`},
		{"error - zero WAL window", "ELECTRIC_RESUMABLE_WAL_WINDOW=0",
			`ELECTRIC_RESUMABLE_WAL_WINDOW="0": want at least 1 bytes; ` + wantSize},
		{"error - duration", "ELECTRIC_TCP_SEND_TIMEOUT=soon", `ELECTRIC_TCP_SEND_TIMEOUT="soon": ` + wantDuration},
		{"error - non-positive duration", "ELECTRIC_FLUSH_STALL_GRACE_PERIOD=0", `ELECTRIC_FLUSH_STALL_GRACE_PERIOD="0": ` + wantDuration},
		{"error - keepalive not whole seconds", "ELECTRIC_DATABASE_TCP_KEEPALIVE_IDLE=1500",
			`ELECTRIC_DATABASE_TCP_KEEPALIVE_IDLE="1500": want a whole number of seconds, at least 1s (e.g. 15s)`},
		{"error - keepalive below a second", "ELECTRIC_DATABASE_TCP_KEEPALIVE_INTERVAL=500ms",
			`ELECTRIC_DATABASE_TCP_KEEPALIVE_INTERVAL="500ms": want a whole number of seconds, at least 1s (e.g. 15s)`},
		{"error - keepalive count", "ELECTRIC_DATABASE_TCP_KEEPALIVE_COUNT=0", `ELECTRIC_DATABASE_TCP_KEEPALIVE_COUNT="0": want an integer from 1 to 127`},
		{"error - idle timeout below 30s", "ELECTRIC_REPLICATION_IDLE_TIMEOUT=10s",
			`ELECTRIC_REPLICATION_IDLE_TIMEOUT="10s": want 0 (off) or a duration of at least 30s: milliseconds, or a number with ms, s, m or h`},
		{"error - boolean", "ELECTRIC_INSECURE=yes", `ELECTRIC_INSECURE="yes": want true or false`},
		{"error - pool size", "ELECTRIC_DB_POOL_SIZE=1", `ELECTRIC_DB_POOL_SIZE="1": want an integer from 2 to 10000 (one admin and at least one snapshot connection)`},
		{"error - port range", "ELECTRIC_PORT=70000", `ELECTRIC_PORT="70000": want a port number from 0 to 65535`},
		{"error - port text", "ELECTRIC_ADMIN_PORT=http", `ELECTRIC_ADMIN_PORT="http": want a port number from 0 to 65535`},
		{"error - cache age negative", "ELECTRIC_CACHE_MAX_AGE=-1", `ELECTRIC_CACHE_MAX_AGE="-1": want a whole number of seconds, 0 or more`},
		{"error - cache age with unit", "ELECTRIC_CACHE_STALE_AGE=5m", `ELECTRIC_CACHE_STALE_AGE="5m": want a whole number of seconds, 0 or more`},
		{"error - max shapes", "ELECTRIC_MAX_SHAPES=many", `ELECTRIC_MAX_SHAPES="many": want a whole number, 0 (unlimited) or more`},
		{"error - concurrency JSON", `ELECTRIC_MAX_CONCURRENT_REQUESTS={"initial":0}`,
			`ELECTRIC_MAX_CONCURRENT_REQUESTS="{\"initial\":0}": want a JSON object of positive integers such as {"initial":300,"existing":10000}`},
		{"error - concurrency unknown key", `ELECTRIC_MAX_CONCURRENT_REQUESTS={"initial":1,"other":2}`,
			`ELECTRIC_MAX_CONCURRENT_REQUESTS="{\"initial\":1,\"other\":2}": want a JSON object of positive integers such as {"initial":300,"existing":10000}`},
		{"error - stream id upper case", "ELECTRIC_REPLICATION_STREAM_ID=Tenant",
			`ELECTRIC_REPLICATION_STREAM_ID="Tenant": want a lower-case unquoted identifier: a-z, 0-9 and _, not starting with a digit, at most 42 characters`},
		{"error - stream id leading digit", "ELECTRIC_REPLICATION_STREAM_ID=1abc",
			`ELECTRIC_REPLICATION_STREAM_ID="1abc": want a lower-case unquoted identifier: a-z, 0-9 and _, not starting with a digit, at most 42 characters`},
		{"error - stream id hyphen", "ELECTRIC_REPLICATION_STREAM_ID=a-b",
			`ELECTRIC_REPLICATION_STREAM_ID="a-b": want a lower-case unquoted identifier: a-z, 0-9 and _, not starting with a digit, at most 42 characters`},
		{"error - stream id too long", "ELECTRIC_REPLICATION_STREAM_ID=" + strings.Repeat("a", 43),
			`ELECTRIC_REPLICATION_STREAM_ID="` + strings.Repeat("a", 43) + `": want a lower-case unquoted identifier: a-z, 0-9 and _, not starting with a digit, at most 42 characters`},
		{"error - admin host with port", "ELECTRIC_ADMIN_HOST=127.0.0.1:3001",
			`ELECTRIC_ADMIN_HOST="127.0.0.1:3001": want an IP address or host name without a port (e.g. 127.0.0.1)`},
		{"error - storage kind", "ELECTRIC_STORAGE=S3", `ELECTRIC_STORAGE="S3": want FILE or MEMORY`},
		{"error - persistent state", "ELECTRIC_PERSISTENT_STATE=FAST_FILE", `ELECTRIC_PERSISTENT_STATE="FAST_FILE": want FILE or MEMORY`},
		{"error - log level", "ELECTRIC_LOG_LEVEL=trace", `ELECTRIC_LOG_LEVEL="trace": want error, warning, info or debug`},
		{"error - telemetry", "ELECTRIC_TELEMETRY=off", `ELECTRIC_TELEMETRY="off": want enabled or disabled`},
		{"error - alias source named", "HTTP_PORT=x", `HTTP_PORT (ELECTRIC_PORT)="x": want a port number from 0 to 65535`},
		{"error - database URL without its value", "DATABASE_URL=mysql://root:hunter2@h/d",
			`DATABASE_URL: scheme "mysql" is not supported; ` + wantDatabaseURL},
		{"error - pooled URL", "ELECTRIC_POOLED_DATABASE_URL=postgres://h/d", `ELECTRIC_POOLED_DATABASE_URL: missing user name; ` + wantDatabaseURL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, _, err := Load(with(external, tt.env), nil)
			if err == nil {
				t.Fatalf("Load succeeded: %s", c.Redacted())
			}
			if err.Error() != tt.want {
				t.Fatalf("error\n got %s\nwant %s", err, tt.want)
			}
			var ive *InvalidValueError
			if !errors.As(err, &ive) {
				t.Fatalf("error %T is not an *InvalidValueError", err)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Fatalf("error prints the password: %v", err)
			}
		})
	}
}

func TestLoad_everyParserRejectsGarbage(t *testing.T) {
	t.Parallel()
	freeText := map[string]bool{ // any non-empty text is valid
		"ELECTRIC_DATABASE_CA_CERTIFICATE_FILE": true, "ELECTRIC_SECRET": true, "ELECTRIC_STORAGE_DIR": true,
		"ELECTRIC_INSTANCE_ID": true, "ELECTRIC_SERVICE_NAME": true, "ELECTRIC_FEATURE_FLAGS": true,
	}
	for _, v := range Variables() {
		if freeText[v.Name] {
			continue
		}
		t.Run("error - "+v.Name, func(t *testing.T) {
			t.Parallel()
			_, _, err := Load(with(external, v.Name+"=@garbage!"), nil)
			var ive *InvalidValueError
			if !errors.As(err, &ive) || ive.Variable != v.Name || !strings.Contains(err.Error(), v.Name) || !strings.Contains(err.Error(), "want") {
				t.Fatalf("error = %v, want an InvalidValueError naming %s and what it accepts", err, v.Name)
			}
		})
	}
}

func TestLoad_reportsEveryInvalidValue(t *testing.T) {
	t.Parallel()
	_, _, err := Load(with(external, "ELECTRIC_PORT=x", "ELECTRIC_TXN_CACHE_SIZE=12Q", "ELECTRIC_LOG_LEVEL=loud"), nil)
	if err == nil {
		t.Fatal("Load succeeded")
	}
	for _, name := range []string{"ELECTRIC_PORT", "ELECTRIC_TXN_CACHE_SIZE", "ELECTRIC_LOG_LEVEL"} {
		if !strings.Contains(err.Error(), name+"=") {
			t.Errorf("error does not name %s:\n%v", name, err)
		}
	}
}

// TestLoad_showParsesBack feeds every variable's rendering back through
// Load: a default that its own syntax rejects, or a show that drops
// information, fails here.
func TestLoad_showParsesBack(t *testing.T) {
	t.Parallel()
	nonDefault := with(external,
		"ELECTRIC_INSTANCE_ID=fixed", "ELECTRIC_DB_POOL_SIZE=7", "ELECTRIC_DATABASE_TCP_USER_TIMEOUT=1.25s",
		"ELECTRIC_REPLICATION_IDLE_TIMEOUT=45s", "ELECTRIC_TXN_CACHE_SIZE=1000", "ELECTRIC_RESUMABLE_WAL_WINDOW=3K",
		`ELECTRIC_MAX_CONCURRENT_REQUESTS={"initial":1}`, "ELECTRIC_FEATURE_FLAGS=allow_subqueries,x",
		"ELECTRIC_STORAGE=MEMORY", "ELECTRIC_LOG_LEVEL=warning", "ELECTRIC_TELEMETRY=disabled", "ELECTRIC_PROMETHEUS_PORT=9999",
		"ELECTRIC_LONG_POLL_TIMEOUT=1", "ELECTRIC_MAX_SHAPES=3", "DATABASE_REQUIRE_SSL=true")
	for _, base := range [][]string{with(external, "ELECTRIC_INSTANCE_ID=fixed"), nonDefault} {
		ref, _ := mustLoad(t, base, nil)
		env := []string{"DATABASE_URL=postgres://app:pw@db/app"}
		for _, s := range variableSpecs() {
			if !s.Sensitive && s.Name != "DATABASE_REQUIRE_SSL" {
				env = append(env, s.Name+"="+s.show(ref))
			}
		}
		env = append(env, "DATABASE_REQUIRE_SSL="+fmt.Sprint(ref.DatabaseRequireSSL))
		got, _ := mustLoad(t, env, nil)
		if !reflect.DeepEqual(got, ref) {
			t.Errorf("round trip differs:\n got %s\nwant %s", got.Redacted(), ref.Redacted())
		}
	}
}
