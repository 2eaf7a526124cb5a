package config

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestLoad_aliases(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		env       []string
		got       func(*Config) any
		want      any
		wantWarn  string // alias named by the warning; "" = no alias warning
		canonical string
	}{
		{"ok - HTTP_PORT alone", []string{"HTTP_PORT=4000"}, func(c *Config) any { return c.Port }, 4000, "", ""},
		{"ok - ELECTRIC_PORT wins over HTTP_PORT", []string{"HTTP_PORT=4000", "ELECTRIC_PORT=5000"}, func(c *Config) any { return c.Port }, 5000, "HTTP_PORT", "ELECTRIC_PORT"},
		{"ok - same value, no warning", []string{"HTTP_PORT=4000", "ELECTRIC_PORT=4000"}, func(c *Config) any { return c.Port }, 4000, "", ""},
		{"ok - LOG_LEVEL alone", []string{"LOG_LEVEL=debug"}, func(c *Config) any { return c.LogLevel }, "debug", "", ""},
		{"ok - ELECTRIC_LOG_LEVEL wins", []string{"LOG_LEVEL=debug", "ELECTRIC_LOG_LEVEL=error"}, func(c *Config) any { return c.LogLevel }, "error", "LOG_LEVEL", "ELECTRIC_LOG_LEVEL"},
		{"ok - DATABASE_USE_IPV6 alone", []string{"DATABASE_USE_IPV6=true"}, func(c *Config) any { return c.DatabaseUseIPv6 }, true, "", ""},
		{"ok - ELECTRIC_DATABASE_USE_IPV6 wins", []string{"DATABASE_USE_IPV6=true", "ELECTRIC_DATABASE_USE_IPV6=false"}, func(c *Config) any { return c.DatabaseUseIPv6 }, false, "DATABASE_USE_IPV6", "ELECTRIC_DATABASE_USE_IPV6"},
		{"ok - ELECTRIC_USE_IPV6 alone", []string{"ELECTRIC_USE_IPV6=true"}, func(c *Config) any { return c.ListenOnIPv6 }, true, "", ""},
		{"ok - ELECTRIC_LISTEN_ON_IPV6 wins", []string{"ELECTRIC_USE_IPV6=true", "ELECTRIC_LISTEN_ON_IPV6=false"}, func(c *Config) any { return c.ListenOnIPv6 }, false, "ELECTRIC_USE_IPV6", "ELECTRIC_LISTEN_ON_IPV6"},
		{"ok - legacy max shapes", []string{"ELECTRIC_EXPERIMENTAL_MAX_SHAPES=9"}, func(c *Config) any { return c.MaxShapes }, 9, "", ""},
		{"ok - ELECTRIC_MAX_SHAPES wins", []string{"ELECTRIC_EXPERIMENTAL_MAX_SHAPES=9", "ELECTRIC_MAX_SHAPES=10"}, func(c *Config) any { return c.MaxShapes }, 10, "ELECTRIC_EXPERIMENTAL_MAX_SHAPES", "ELECTRIC_MAX_SHAPES"},
		{"ok - legacy query URL", []string{"ELECTRIC_QUERY_DATABASE_URL=postgres://q@qh/app"},
			func(c *Config) any { return c.PooledDatabaseURL.Host }, "qh", "", ""},
		{"ok - pooled URL wins", []string{"ELECTRIC_QUERY_DATABASE_URL=postgres://q:hunter2@qh/app", "ELECTRIC_POOLED_DATABASE_URL=postgres://p@ph/app"},
			func(c *Config) any { return c.PooledDatabaseURL.Host }, "ph", "ELECTRIC_QUERY_DATABASE_URL", "ELECTRIC_POOLED_DATABASE_URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, w := mustLoad(t, with(external, tt.env...), nil)
			if got := tt.got(c); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %#v, want %#v", got, tt.want)
			}
			aliasWarnings := 0
			for _, x := range w {
				if strings.Contains(x.Message, "alias") {
					aliasWarnings++
					if strings.Contains(x.Message, "hunter2") {
						t.Errorf("warning prints a password: %v", x)
					}
				}
			}
			if tt.wantWarn == "" {
				if aliasWarnings != 0 {
					t.Fatalf("unexpected alias warning in %v", w)
				}
				return
			}
			if aliasWarnings != 1 || !hasWarning(w, tt.wantWarn, tt.canonical) || !hasWarning(w, tt.wantWarn, "using "+tt.canonical) {
				t.Fatalf("warnings %v, want one naming %s and %s", w, tt.wantWarn, tt.canonical)
			}
		})
	}
	c, _ := mustLoad(t, with(external, "HTTP_PORT=4000", "ELECTRIC_PORT=5000"), []string{"--port=6000"})
	if c.Port != 6000 {
		t.Errorf("flag did not beat canonical and alias: %d", c.Port)
	}
}

func TestLoad_requireSSL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		env        []string
		wantMain   SSLMode
		wantPooled SSLMode
	}{
		{"ok - default prefer", []string{"DATABASE_URL=postgres://u@h/d"}, SSLPrefer, SSLPrefer},
		{"ok - require when URL names no sslmode", []string{"DATABASE_URL=postgres://u@h/d", "DATABASE_REQUIRE_SSL=true"}, SSLRequire, SSLRequire},
		{"ok - explicit sslmode wins", []string{"DATABASE_URL=postgres://u@h/d?sslmode=disable", "DATABASE_REQUIRE_SSL=true"}, SSLDisable, SSLDisable},
		{"ok - pooled URL resolved separately", []string{"DATABASE_URL=postgres://u@h/d?sslmode=allow", "ELECTRIC_POOLED_DATABASE_URL=postgres://u@p/d", "DATABASE_REQUIRE_SSL=true"}, SSLAllow, SSLRequire},
		{"ok - false keeps prefer", []string{"DATABASE_URL=postgres://u@h/d", "DATABASE_REQUIRE_SSL=false"}, SSLPrefer, SSLPrefer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, _ := mustLoad(t, with(tt.env, "ELECTRIC_INSECURE=true"), nil)
			if c.DatabaseURL.SSLMode != tt.wantMain || c.PooledDatabaseURL.SSLMode != tt.wantPooled {
				t.Fatalf("sslmode = %s / %s, want %s / %s", c.DatabaseURL.SSLMode, c.PooledDatabaseURL.SSLMode, tt.wantMain, tt.wantPooled)
			}
			if !strings.Contains(c.DatabaseURL.ConnString(), "sslmode="+string(tt.wantMain)) {
				t.Fatalf("ConnString %s lacks the sslmode", c.DatabaseURL.ConnString())
			}
		})
	}
}

func TestLoad_secretRules(t *testing.T) {
	t.Parallel()
	db := "DATABASE_URL=postgres://u@h/d"
	tests := []struct {
		name         string
		env          []string
		wantInsecure bool
		wantSecret   string
		wantErr      string
	}{
		{name: "ok - external with secret", env: []string{db, "ELECTRIC_SECRET=s"}, wantSecret: "s"},
		{name: "ok - external insecure", env: []string{db, "ELECTRIC_INSECURE=true"}, wantInsecure: true},
		{name: "ok - external secret with explicit insecure=false", env: []string{db, "ELECTRIC_SECRET=s", "ELECTRIC_INSECURE=false"}, wantSecret: "s"},
		{name: "error - external with neither", env: []string{db}, wantErr: "exactly one of ELECTRIC_SECRET and ELECTRIC_INSECURE=true is required"},
		{name: "error - external with insecure=false only", env: []string{db, "ELECTRIC_INSECURE=false"}, wantErr: "exactly one of ELECTRIC_SECRET and ELECTRIC_INSECURE=true"},
		{name: "error - external with both", env: []string{db, "ELECTRIC_SECRET=s", "ELECTRIC_INSECURE=true"}, wantErr: "ELECTRIC_SECRET and ELECTRIC_INSECURE=true are both set"},
		{name: "ok - embedded implies insecure", env: nil, wantInsecure: true},
		{name: "ok - embedded with secret is secure", env: []string{"ELECTRIC_SECRET=s"}, wantSecret: "s"},
		{name: "ok - embedded explicit insecure", env: []string{"ELECTRIC_INSECURE=true"}, wantInsecure: true},
		{name: "error - embedded with both", env: []string{"ELECTRIC_SECRET=s", "ELECTRIC_INSECURE=true"}, wantErr: "are both set"},
		{name: "error - embedded insecure=false without secret", env: []string{"ELECTRIC_INSECURE=false"}, wantErr: "ELECTRIC_INSECURE=false needs ELECTRIC_SECRET"},
		{name: "ok - empty secret counts as unset", env: []string{db, "ELECTRIC_SECRET=", "ELECTRIC_INSECURE=true"}, wantInsecure: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, _, err := Load(tt.env, nil)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Insecure != tt.wantInsecure || c.Secret.Reveal() != tt.wantSecret {
				t.Fatalf("Insecure=%v Secret=%q, want %v %q", c.Insecure, c.Secret.Reveal(), tt.wantInsecure, tt.wantSecret)
			}
		})
	}
}

func TestLoad_crossChecks(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, []byte("-----BEGIN CERTIFICATE-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		env     []string
		wantErr string
	}{
		{name: "ok - CA file with require", env: with(external, "ELECTRIC_DATABASE_CA_CERTIFICATE_FILE="+ca, "DATABASE_REQUIRE_SSL=true")},
		{name: "ok - CA file with default prefer", env: with(external, "ELECTRIC_DATABASE_CA_CERTIFICATE_FILE="+ca)},
		{name: "error - CA file with sslmode=disable", env: []string{"DATABASE_URL=postgres://u@h/d?sslmode=disable", "ELECTRIC_INSECURE=true", "ELECTRIC_DATABASE_CA_CERTIFICATE_FILE=" + ca},
			wantErr: "ELECTRIC_DATABASE_CA_CERTIFICATE_FILE is set but DATABASE_URL has sslmode=disable"},
		{name: "error - CA file with pooled sslmode=disable", env: with(external, "ELECTRIC_POOLED_DATABASE_URL=postgres://u@p/d?sslmode=disable", "ELECTRIC_DATABASE_CA_CERTIFICATE_FILE="+ca),
			wantErr: "ELECTRIC_POOLED_DATABASE_URL has sslmode=disable"},
		{name: "error - CA file missing", env: with(external, "ELECTRIC_DATABASE_CA_CERTIFICATE_FILE="+filepath.Join(dir, "nope.pem")),
			wantErr: "ELECTRIC_DATABASE_CA_CERTIFICATE_FILE: stat"},
		{name: "error - CA file is a directory", env: with(external, "ELECTRIC_DATABASE_CA_CERTIFICATE_FILE="+dir), wantErr: "want a PEM file"},
		{name: "error - pooled URL without DATABASE_URL", env: []string{"ELECTRIC_POOLED_DATABASE_URL=postgres://u@p/d"},
			wantErr: "ELECTRIC_POOLED_DATABASE_URL is set without DATABASE_URL"},
		{name: "error - admin port equals port", env: with(external, "ELECTRIC_PORT=4000", "ELECTRIC_ADMIN_PORT=4000"), wantErr: "ELECTRIC_ADMIN_PORT=4000 is also ELECTRIC_PORT"},
		{name: "error - prometheus port equals port", env: with(external, "ELECTRIC_PROMETHEUS_PORT=3000"), wantErr: "ELECTRIC_PROMETHEUS_PORT=3000 is also ELECTRIC_PORT"},
		{name: "error - prometheus port equals admin port", env: with(external, "ELECTRIC_PROMETHEUS_PORT=3001"), wantErr: "serves /metrics already"},
		{name: "ok - embedded mode uses its storage dir unless set", env: []string{"ELECTRIC_STORAGE_DIR=/data"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, _, err := Load(tt.env, nil)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Embedded && c.StorageDir != "/data" {
				t.Fatalf("StorageDir = %q", c.StorageDir)
			}
		})
	}
}

func TestLoad_warnings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		env      []string
		variable string
		contains string
	}{
		{"ok - OTEL variable ignored", []string{"OTEL_EXPORTER_OTLP_ENDPOINT=http://x"}, "OTEL_EXPORTER_OTLP_ENDPOINT", "ignored"},
		{"ok - shape db family ignored", []string{"ELECTRIC_SHAPE_DB_EXCLUSIVE_MODE=true"}, "ELECTRIC_SHAPE_DB_EXCLUSIVE_MODE", "ignored"},
		{"ok - usage reporting ignored", []string{"ELECTRIC_USAGE_REPORTING=false"}, "ELECTRIC_USAGE_REPORTING", "ignored"},
		{"ok - telemetry URL ignored", []string{"ELECTRIC_TELEMETRY_URL=https://x"}, "ELECTRIC_TELEMETRY_URL", "ignored"},
		{"ok - unknown tweak ignored", []string{"ELECTRIC_TWEAKS_HTTP_API_NUM_ACCEPTORS=100"}, "ELECTRIC_TWEAKS_HTTP_API_NUM_ACCEPTORS", "ignored"},
		{"ok - OTLP endpoint ignored", []string{"ELECTRIC_OTLP_ENDPOINT=http://x"}, "ELECTRIC_OTLP_ENDPOINT", "ignored"},
		{"ok - URL options ignored", []string{"DATABASE_URL=postgres://u@h/d?connect_timeout=5&password=zz"}, "DATABASE_URL", "ignored query options: connect_timeout, password"},
		{"ok - long poll of 45s", []string{"ELECTRIC_LONG_POLL_TIMEOUT=45000"}, "ELECTRIC_LONG_POLL_TIMEOUT", "45s or more"},
		{"ok - random slot name without temporary slot", []string{"ELECTRIC_TEMPORARY_REPLICATION_SLOT_USE_RANDOM_NAME=true"},
			"ELECTRIC_TEMPORARY_REPLICATION_SLOT_USE_RANDOM_NAME", "no effect without CLEANUP_REPLICATION_SLOTS_ON_SHUTDOWN"},
		{"ok - unknown feature flag", []string{"ELECTRIC_FEATURE_FLAGS=allow_subqueries,warp_drive"}, "ELECTRIC_FEATURE_FLAGS", `"warp_drive"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := with(tt.env, "ELECTRIC_INSECURE=true")
			if !strings.HasPrefix(tt.env[0], "DATABASE_URL=") {
				env = with(external, tt.env...)
			}
			_, w := mustLoad(t, env, nil)
			if !hasWarning(w, tt.variable, tt.contains) {
				t.Fatalf("warnings %v lack %s: ...%s...", w, tt.variable, tt.contains)
			}
			if strings.Contains(fmt.Sprint(w), "zz") {
				t.Fatalf("a warning prints an option value: %v", w)
			}
		})
	}
	t.Run("ok - embedded mode notes TLS settings it ignores", func(t *testing.T) {
		t.Parallel()
		_, w := mustLoad(t, []string{"DATABASE_REQUIRE_SSL=true", "ELECTRIC_DATABASE_CA_CERTIFICATE_FILE=/nonexistent"}, nil)
		if !hasWarning(w, "DATABASE_REQUIRE_SSL", "embedded mode") || !hasWarning(w, "ELECTRIC_DATABASE_CA_CERTIFICATE_FILE", "embedded mode") {
			t.Fatalf("warnings = %v", w)
		}
	})
	t.Run("ok - options of a copied pooled URL are reported once", func(t *testing.T) {
		t.Parallel()
		_, w := mustLoad(t, []string{"DATABASE_URL=postgres://u@h/d?connect_timeout=5", "ELECTRIC_INSECURE=true"}, nil)
		if len(w) != 1 || !hasWarning(w, "DATABASE_URL", "connect_timeout") {
			t.Fatalf("warnings = %v, want one for DATABASE_URL", w)
		}
	})
	t.Run("ok - unrelated variables are not reported", func(t *testing.T) {
		t.Parallel()
		_, w := mustLoad(t, with(external, "PATH=/bin", "HOME=/root", "SHAPESYNC_FAULTS=x"), nil)
		if len(w) != 0 {
			t.Fatalf("warnings = %v, want none", w)
		}
	})
}
