package config

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func TestLoad_flags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		env     []string
		args    []string
		got     func(*Config) any
		want    any
		wantErr string
	}{
		{name: "ok - flag overrides env", env: with(external, "ELECTRIC_PORT=4000"), args: []string{"--port=5000"},
			got: func(c *Config) any { return c.Port }, want: 5000},
		{name: "ok - space-separated value", env: external, args: []string{"--txn-cache-size", "1G"},
			got: func(c *Config) any { return c.TxnCacheSize }, want: int64(1 << 30)},
		{name: "ok - single dash", env: external, args: []string{"-log-level=debug"},
			got: func(c *Config) any { return c.LogLevel }, want: "debug"},
		{name: "ok - bare boolean flag", env: []string{"DATABASE_URL=postgres://u@h/d"}, args: []string{"--insecure"},
			got: func(c *Config) any { return c.Insecure }, want: true},
		{name: "ok - boolean flag false beats env true", env: with(external, "ELECTRIC_MANUAL_TABLE_PUBLISHING=true"), args: []string{"--manual-table-publishing=false"},
			got: func(c *Config) any { return c.ManualTablePublishing }, want: false},
		{name: "ok - database url flag", env: []string{"ELECTRIC_SECRET=s"}, args: []string{"--database-url", "postgres://f@flaghost/d"},
			got: func(c *Config) any { return c.DatabaseURL.Host }, want: "flaghost"},
		{name: "ok - empty flag unsets env (back to embedded mode)", env: external, args: []string{"--database-url="},
			got: func(c *Config) any { return c.Embedded }, want: true},
		{name: "ok - flag named after a non-ELECTRIC variable", env: external, args: []string{"--cleanup-replication-slots-on-shutdown"},
			got: func(c *Config) any { return c.TemporaryReplicationSlot }, want: true},
		{name: "ok - flag over alias", env: with(external, "LOG_LEVEL=debug"), args: []string{"--log-level=error"},
			got: func(c *Config) any { return c.LogLevel }, want: "error"},
		{name: "error - bad flag value names flag and variable", env: external, args: []string{"--txn-cache-size=12Q"},
			wantErr: `--txn-cache-size (ELECTRIC_TXN_CACHE_SIZE)="12Q": want a size in bytes with an optional K, M or G suffix (e.g. 256M)`},
		{name: "error - unknown flag", env: external, args: []string{"--nope=1"}, wantErr: "command line: flag provided but not defined: -nope (see --help)"},
		{name: "error - positional argument", env: external, args: []string{"serve"}, wantErr: `command line: unexpected argument "serve" (see --help)`},
		{name: "error - alias has no flag", env: external, args: []string{"--http-port=1"}, wantErr: "not defined: -http-port"},
		{name: "error - missing value", env: external, args: []string{"--port"}, wantErr: "flag needs an argument: -port"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, _, err := Load(tt.env, tt.args)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := tt.got(c); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestLoad_help(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"--help"}, {"-h"}, {"-help"}, {"--port=1", "--help"}} {
		if _, _, err := Load(nil, args); !errors.Is(err, ErrHelp) {
			t.Errorf("Load(%q) error = %v, want ErrHelp", args, err)
		}
	}
	help := HelpText()
	for _, v := range Variables() {
		for _, want := range append([]string{"--" + v.Flag + " ", "env " + v.Name}, v.Aliases...) {
			if !strings.Contains(help, want) {
				t.Errorf("help lacks %q for %s", want, v.Name)
			}
		}
	}
	// Descriptions and defaults are wrapped: compare with whitespace folded.
	folded := strings.Join(strings.Fields(help), " ")
	for _, v := range Variables() {
		for _, want := range []string{"default: " + v.Default, v.Description} {
			if !strings.Contains(folded, strings.Join(strings.Fields(want), " ")) {
				t.Errorf("help lacks %q for %s", want, v.Name)
			}
		}
	}
	for line := range strings.Lines(help) {
		if len(line) > 81 && strings.Count(strings.TrimSpace(line), " ") > 0 {
			t.Errorf("help line longer than 80 columns: %q", line)
		}
	}
	for _, want := range []string{"Usage: shapesync", "Durations:", "Sizes:", "embedded mode", "--help"} {
		if !strings.Contains(help, want) {
			t.Errorf("help lacks %q", want)
		}
	}
}

func TestVariables_table(t *testing.T) {
	t.Parallel()
	vars := Variables()
	names, flags := map[string]bool{}, map[string]bool{}
	for _, v := range vars {
		for _, n := range append([]string{v.Name}, v.Aliases...) {
			if names[n] {
				t.Errorf("name %s listed twice", n)
			}
			names[n] = true
		}
		if flags[v.Flag] {
			t.Errorf("flag %s used twice", v.Flag)
		}
		flags[v.Flag] = true
		if v.Flag == "" || v.Kind == "" || v.Group == "" || v.Default == "" || v.Description == "" {
			t.Errorf("%s has an empty column: %+v", v.Name, v)
		}
	}
	// Every Config field but Embedded comes from exactly one variable.
	if fields := reflect.TypeFor[Config]().NumField() - 1; fields != len(vars) {
		t.Errorf("Config has %d settable fields but %d variables", fields, len(vars))
	}
	for _, want := range []string{"DATABASE_URL", "ELECTRIC_TXN_CACHE_SIZE", "ELECTRIC_RESUMABLE_WAL_WINDOW", "HTTP_PORT",
		"ELECTRIC_TWEAKS_PUBLICATION_REFRESH_PERIOD", "ELECTRIC_TWEAKS_SCHEMA_RECONCILER_PERIOD", "DATABASE_REQUIRE_SSL"} {
		if !names[want] {
			t.Errorf("table lacks %s", want)
		}
	}
	vars[0].Aliases = append(vars[0].Aliases, "MUTATED")
	vars[0].Name = "MUTATED"
	if Variables()[0].Name == "MUTATED" {
		t.Error("Variables() shares its slice with the caller")
	}
}

func TestConfig_redacted(t *testing.T) {
	t.Parallel()
	c, _ := mustLoad(t, []string{
		"DATABASE_URL=postgres://app:dbpass-1@db/app",
		"ELECTRIC_POOLED_DATABASE_URL=postgres://app:poolpass-2@pool/app",
		"ELECTRIC_SECRET=apisecret-3",
	}, nil)
	out := c.Redacted()
	for _, v := range Variables() {
		if !strings.Contains(out, "\n"+v.Name+"=") {
			t.Errorf("Redacted lacks %s", v.Name)
		}
	}
	for _, want := range []string{"DATABASE_URL=postgresql://app:[REDACTED]@db:5432/app?sslmode=prefer", "ELECTRIC_SECRET=[REDACTED]", "ELECTRIC_PORT=3000", "embedded=false"} {
		if !strings.Contains(out, want) {
			t.Errorf("Redacted lacks %q:\n%s", want, out)
		}
	}
	for _, s := range []string{out, c.String(), fmt.Sprintf("%v", c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c),
		fmt.Sprintf("%+v", *c), fmt.Sprintf("%#v", *c), fmt.Sprintf("%v", c.Secret), fmt.Sprintf("%q", c.Secret)} {
		for _, secret := range []string{"dbpass-1", "poolpass-2", "apisecret-3"} {
			if strings.Contains(s, secret) {
				t.Fatalf("%q leaks into:\n%s", secret, s)
			}
		}
	}
	if c.Secret.Reveal() != "apisecret-3" || c.PooledDatabaseURL.Password.Reveal() != "poolpass-2" {
		t.Fatal("Reveal lost the values")
	}
	if b, _ := c.Secret.MarshalText(); string(b) != "[REDACTED]" {
		t.Fatalf("MarshalText = %s", b)
	}
}
