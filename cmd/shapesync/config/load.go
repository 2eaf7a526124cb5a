package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"
)

// rawValue is a variable's effective text and where it came from.
type rawValue struct {
	value  string
	source string // variable, alias or "--flag"
}

// Load reads the configuration from environ (os.Environ() form, "K=V"; the
// first occurrence of a name wins, as for os.Getenv) and args (os.Args[1:]).
// Flags override variables. It returns ErrHelp when args ask for help, an
// error naming every invalid variable, or the Config with the Warnings main
// should log.
func Load(environ, args []string) (*Config, []Warning, error) {
	specs := variableSpecs()
	env := parseEnviron(environ)
	flags, err := parseFlags(specs, args)
	if err != nil {
		return nil, nil, err
	}

	var warnings []Warning
	raw := make(map[string]rawValue, len(specs))
	for _, s := range specs {
		v, w := resolve(s, env, flags)
		warnings = append(warnings, w...)
		if v.value != "" {
			raw[s.Name] = v
		}
	}
	warnings = append(warnings, ignoredVariables(env, specs)...)

	c := defaults()
	var errs []error
	for _, s := range specs {
		v, ok := raw[s.Name]
		if !ok {
			continue
		}
		if err := s.parse(c, v.value); err != nil {
			e := &InvalidValueError{Variable: s.Name, Source: v.source, Err: err}
			if !s.Sensitive {
				e.Value = v.value
			}
			errs = append(errs, e)
		}
	}
	if len(errs) > 0 {
		return nil, warnings, errors.Join(errs...)
	}

	isSet := func(name string) bool { _, ok := raw[name]; return ok }
	w, err := c.settle(isSet)
	warnings = append(warnings, w...)
	if err != nil {
		return nil, warnings, err
	}
	return c, warnings, nil
}

// HelpText is the --help output: every flag with its variable, aliases,
// default and meaning.
func HelpText() string {
	var b strings.Builder
	b.WriteString(`Usage: shapesync [flags]

shapesync serves Postgres data as shapes over the ElectricSQL HTTP API.
Every setting is an environment variable with a matching flag; a flag
overrides its variable, and --flag= (empty) unsets it.

Durations: milliseconds, or a number with ms, s, m or h (e.g. 30s, 1.5m).
Sizes: bytes, or a number with K, M or G (1024-based; e.g. 256M, 2gb).
Without DATABASE_URL shapesync runs in embedded mode: it starts a private
Postgres under ` + EmbeddedPostgresDir + ` (for development only).
`)
	group := ""
	for _, s := range variableSpecs() {
		if s.Group != group {
			group = s.Group
			fmt.Fprintf(&b, "\n%s:\n", group)
		}
		fmt.Fprintf(&b, "  --%s %s\n", s.Flag, s.Kind)
		env := s.Name
		if len(s.Aliases) > 0 {
			env += " (alias " + strings.Join(s.Aliases, ", ") + ")"
		}
		writeWrapped(&b, "env "+env+"; default: "+s.Default)
		writeWrapped(&b, s.Description)
	}
	b.WriteString("\n  -h, --help\n        print this help and exit\n")
	return b.String()
}

// writeWrapped writes text indented by 8 spaces, wrapped at 80 columns
// (a word longer than the line stays whole).
func writeWrapped(b *strings.Builder, text string) {
	const indent, width = "        ", 80
	line := indent
	for _, word := range strings.Fields(text) {
		if len(line) > len(indent) && len(line)+1+len(word) > width {
			b.WriteString(line + "\n")
			line = indent
		}
		if len(line) > len(indent) {
			line += " "
		}
		line += word
	}
	b.WriteString(line + "\n")
}

func parseEnviron(environ []string) map[string]string {
	env := make(map[string]string, len(environ))
	for _, kv := range environ {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			continue
		}
		if _, seen := env[k]; !seen {
			env[k] = v
		}
	}
	return env
}

// flagValue records a flag's text; parsing happens with the variables so
// that both report errors the same way.
type flagValue struct {
	value  *string
	isBool bool
}

func (f flagValue) String() string {
	if f.value == nil {
		return ""
	}
	return *f.value
}
func (f flagValue) Set(s string) error { *f.value = s; return nil }
func (f flagValue) IsBoolFlag() bool   { return f.isBool }

// parseFlags returns the flags given in args, keyed by variable name.
func parseFlags(specs []spec, args []string) (map[string]string, error) {
	fs := flag.NewFlagSet("shapesync", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	values := make(map[string]*string, len(specs))
	for _, s := range specs {
		p := new(string)
		values[s.Name] = p
		fs.Var(flagValue{value: p, isBool: s.Kind == "boolean"}, s.Flag, s.Description)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, ErrHelp
		}
		return nil, fmt.Errorf("command line: %w (see --help)", err)
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("command line: unexpected argument %q (see --help)", fs.Arg(0))
	}
	set := make(map[string]string)
	byFlag := make(map[string]string, len(specs))
	for _, s := range specs {
		byFlag[s.Flag] = s.Name
	}
	fs.Visit(func(f *flag.Flag) {
		name := byFlag[f.Name]
		set[name] = *values[name]
	})
	return set, nil
}

// resolve picks a variable's value: flag, else canonical name, else the
// first alias set. A canonical name and an alias with different values
// earn a Warning naming both.
func resolve(s spec, env, flags map[string]string) (rawValue, []Warning) {
	var warnings []Warning
	v := rawValue{value: env[s.Name], source: s.Name}
	for _, alias := range s.Aliases {
		a := env[alias]
		switch {
		case a == "":
		case v.value == "":
			v = rawValue{value: a, source: alias}
		case a != v.value:
			msg := fmt.Sprintf("both %s and its alias %s are set with different values; using %s", v.source, alias, v.source)
			if s.Sensitive {
				msg = fmt.Sprintf("both %s and its alias %s are set; using %s", v.source, alias, v.source)
			}
			warnings = append(warnings, Warning{Variable: alias, Message: msg})
		}
	}
	if f, ok := flags[s.Name]; ok {
		v = rawValue{value: f, source: "--" + s.Flag}
	}
	return v, warnings
}

// ignoredVariables reports reference variables shapesync does not read
// (SHAPE_API §23: OTEL and other telemetry variables, ELECTRIC_TWEAKS_* it
// lacks, ELECTRIC_SHAPE_DB_*, ELECTRIC_USAGE_REPORTING,
// ELECTRIC_TELEMETRY_URL, ...). They never stop start-up.
func ignoredVariables(env map[string]string, specs []spec) []Warning {
	known := make(map[string]bool, 2*len(specs))
	for _, s := range specs {
		known[s.Name] = true
		for _, a := range s.Aliases {
			known[a] = true
		}
	}
	var names []string
	for name := range env {
		if known[name] {
			continue
		}
		if strings.HasPrefix(name, "ELECTRIC_") || strings.HasPrefix(name, "OTEL_") {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	warnings := make([]Warning, 0, len(names))
	for _, name := range names {
		warnings = append(warnings, Warning{Variable: name, Message: "ignored: shapesync does not implement this variable"})
	}
	return warnings
}

// settle applies the rules that span variables: embedded mode, the secret
// rules of SHAPE_API §3, sslmode, storage defaults and port clashes.
func (c *Config) settle(isSet func(string) bool) ([]Warning, error) {
	var warnings []Warning
	warn := func(name, format string, args ...any) {
		warnings = append(warnings, Warning{Variable: name, Message: fmt.Sprintf(format, args...)})
	}

	c.Embedded = c.DatabaseURL == nil
	if c.Embedded {
		warn("DATABASE_URL", "unset: embedded mode starts a private Postgres under %s; use it for development only", EmbeddedPostgresDir)
		if c.PooledDatabaseURL != nil {
			return warnings, errors.New("ELECTRIC_POOLED_DATABASE_URL is set without DATABASE_URL: set DATABASE_URL too, or unset it to use embedded mode")
		}
		if c.DatabaseRequireSSL {
			warn("DATABASE_REQUIRE_SSL", "ignored in embedded mode (the private Postgres has no TLS)")
		}
		if c.DatabaseCACertificateFile != "" {
			warn("ELECTRIC_DATABASE_CA_CERTIFICATE_FILE", "ignored in embedded mode (the private Postgres has no TLS)")
		}
	} else {
		pooledIsCopy := c.PooledDatabaseURL == nil
		if pooledIsCopy {
			copied := *c.DatabaseURL
			copied.IgnoredOptions = slices.Clone(copied.IgnoredOptions)
			c.PooledDatabaseURL = &copied
		}
		for _, u := range []struct {
			name string
			url  *DatabaseURL
		}{{"DATABASE_URL", c.DatabaseURL}, {"ELECTRIC_POOLED_DATABASE_URL", c.PooledDatabaseURL}} {
			if err := c.settleSSL(u.name, u.url); err != nil {
				return warnings, err
			}
			if len(u.url.IgnoredOptions) > 0 && (u.url == c.DatabaseURL || !pooledIsCopy) {
				warn(u.name, "ignored query options: %s", strings.Join(u.url.IgnoredOptions, ", "))
			}
		}
	}

	if err := c.settleSecret(isSet("ELECTRIC_INSECURE")); err != nil {
		return warnings, err
	}

	if !isSet("ELECTRIC_STORAGE_DIR") {
		c.StorageDir = DefaultStorageDir
		if c.Embedded {
			c.StorageDir = EmbeddedStorageDir
		}
	}
	if !isSet("ELECTRIC_INSTANCE_ID") {
		c.InstanceID = newUUID4()
	}

	if err := c.checkPorts(); err != nil {
		return warnings, err
	}
	if c.LongPollTimeout >= 45*time.Second {
		warn("ELECTRIC_LONG_POLL_TIMEOUT", "%s is 45s or more; proxies and the client commonly time out at 45s", FormatDuration(c.LongPollTimeout))
	}
	if c.TemporarySlotRandomName && !c.TemporaryReplicationSlot {
		warn("ELECTRIC_TEMPORARY_REPLICATION_SLOT_USE_RANDOM_NAME", "has no effect without CLEANUP_REPLICATION_SLOTS_ON_SHUTDOWN=true")
	}
	for _, f := range c.FeatureFlags {
		if f != FeatureAllowSubqueries && f != FeatureTaggedSubqueries {
			warn("ELECTRIC_FEATURE_FLAGS", "unknown feature flag %q ignored", f)
		}
	}
	return warnings, nil
}

// settleSSL resolves sslmode (an explicit one wins over
// DATABASE_REQUIRE_SSL; libpq's default is prefer) and checks it against
// the CA certificate file.
func (c *Config) settleSSL(name string, u *DatabaseURL) error {
	if !u.SSLModeExplicit {
		u.SSLMode = SSLPrefer
		if c.DatabaseRequireSSL {
			u.SSLMode = SSLRequire
		}
	}
	if c.DatabaseCACertificateFile == "" {
		return nil
	}
	if u.SSLMode == SSLDisable {
		return fmt.Errorf("ELECTRIC_DATABASE_CA_CERTIFICATE_FILE is set but %s has sslmode=disable: remove one of them", name)
	}
	info, err := os.Stat(c.DatabaseCACertificateFile)
	if err != nil {
		return fmt.Errorf("ELECTRIC_DATABASE_CA_CERTIFICATE_FILE: %w", err)
	}
	if !info.Mode().IsRegular() {
		return fmt.Errorf("ELECTRIC_DATABASE_CA_CERTIFICATE_FILE=%q: want a PEM file, found a directory or device", c.DatabaseCACertificateFile)
	}
	return nil
}

// settleSecret applies SHAPE_API §3. insecureSet tells an explicit
// ELECTRIC_INSECURE=false from the default.
func (c *Config) settleSecret(insecureSet bool) error {
	hasSecret := c.Secret != ""
	switch {
	case hasSecret && c.Insecure:
		return errors.New("ELECTRIC_SECRET and ELECTRIC_INSECURE=true are both set: unset one of them")
	case hasSecret:
		return nil
	case c.Insecure:
		return nil
	case c.Embedded && !insecureSet:
		c.Insecure = true // embedded mode implies insecure unless a secret is given
		return nil
	case c.Embedded:
		return errors.New("ELECTRIC_INSECURE=false needs ELECTRIC_SECRET: set a secret, or unset ELECTRIC_INSECURE")
	default:
		return errors.New("with DATABASE_URL set, exactly one of ELECTRIC_SECRET and ELECTRIC_INSECURE=true is required: set ELECTRIC_SECRET to protect the shape API, or ELECTRIC_INSECURE=true to run without one")
	}
}

func (c *Config) checkPorts() error {
	if c.Port != 0 && c.Port == c.AdminPort {
		return fmt.Errorf("ELECTRIC_ADMIN_PORT=%d is also ELECTRIC_PORT: pick different ports", c.AdminPort)
	}
	switch c.PrometheusPort {
	case 0:
	case c.Port:
		return fmt.Errorf("ELECTRIC_PROMETHEUS_PORT=%d is also ELECTRIC_PORT: pick a different port", c.PrometheusPort)
	case c.AdminPort:
		return fmt.Errorf("ELECTRIC_PROMETHEUS_PORT=%d is the admin port, which serves /metrics already: unset ELECTRIC_PROMETHEUS_PORT", c.PrometheusPort)
	}
	return nil
}
