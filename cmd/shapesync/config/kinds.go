package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

// The constructors below fill a spec's parse and show from a pointer to
// the Config field it sets, so each table row states its field once.

func custom(v Variable, parse func(*Config, string) error, show func(*Config) string) spec {
	return spec{Variable: v, parse: parse, show: show}
}

func boolean(v Variable, field func(*Config) *bool) spec {
	v.Kind = "boolean"
	return spec{Variable: v,
		parse: func(c *Config, s string) error {
			b, err := parseBool(s)
			*field(c) = b
			return err
		},
		show: func(c *Config) string { return strconv.FormatBool(*field(c)) },
	}
}

func integer(v Variable, field func(*Config) *int, lo, hi int64, want string) spec {
	v.Kind = "integer"
	return spec{Variable: v,
		parse: func(c *Config, s string) error {
			n, err := parseInt(s, lo, hi, want)
			*field(c) = int(n)
			return err
		},
		show: func(c *Config) string { return strconv.Itoa(*field(c)) },
	}
}

// port accepts lo..65535; lo is 0 where 0 means "pick a free port".
func port(v Variable, field func(*Config) *int, lo int64) spec {
	s := integer(v, field, lo, 65535, fmt.Sprintf("want a port number from %d to 65535", lo))
	s.Kind = "port"
	return s
}

func duration(v Variable, field func(*Config) *time.Duration, check func(time.Duration) error) spec {
	v.Kind = "duration"
	return spec{Variable: v,
		parse: func(c *Config, s string) error {
			d, err := ParseDuration(s)
			if err == nil && check != nil {
				err = check(d)
			}
			*field(c) = d
			return err
		},
		show: func(c *Config) string { return FormatDuration(*field(c)) },
	}
}

func size(v Variable, field func(*Config) *int64, minimum int64) spec {
	v.Kind = "size"
	return spec{Variable: v,
		parse: func(c *Config, s string) error {
			n, err := ParseSize(s)
			if err == nil && n < minimum {
				err = fmt.Errorf("want at least %d bytes; %s", minimum, wantSize)
			}
			*field(c) = n
			return err
		},
		show: func(c *Config) string { return FormatSize(*field(c)) },
	}
}

func text(v Variable, field func(*Config) *string, check func(string) error) spec {
	v.Kind = "string"
	return spec{Variable: v,
		parse: func(c *Config, s string) error {
			s = strings.TrimSpace(s)
			*field(c) = s
			if check != nil {
				return check(s)
			}
			return nil
		},
		show: func(c *Config) string { return *field(c) },
	}
}

// choice reads FILE or MEMORY; fastFile also accepts the reference's
// FAST_FILE as FILE.
func choice(v Variable, field func(*Config) *StorageKind, fastFile bool) spec {
	v.Kind = "FILE|MEMORY"
	return spec{Variable: v,
		parse: func(c *Config, s string) error {
			if fastFile && strings.EqualFold(strings.TrimSpace(s), "FAST_FILE") {
				s = string(StorageFile)
			}
			k, err := parseEnum(s, string(StorageFile), string(StorageMemory))
			*field(c) = StorageKind(k)
			return err
		},
		show: func(c *Config) string { return string(*field(c)) },
	}
}

func wholeSeconds(d time.Duration) error {
	if d < time.Second || d%time.Second != 0 {
		return errors.New("want a whole number of seconds, at least 1s (e.g. 15s)")
	}
	return nil
}

// Replication slot names allow lower-case letters, digits and underscores
// and at most 63 bytes (NAMEDATALEN-1); the longer prefix decides the
// budget for the id.
const maxStreamIDLen = 63 - len("electric_publication_")

func checkStreamID(s string) error {
	want := fmt.Sprintf("want a lower-case unquoted identifier: a-z, 0-9 and _, not starting with a digit, at most %d characters", maxStreamIDLen)
	if s == "" || len(s) > maxStreamIDLen || isDigit(s[0]) {
		return errors.New(want)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'a' && c <= 'z' || isDigit(c) || c == '_') {
			return errors.New(want)
		}
	}
	return nil
}

// checkHost accepts an IP address or a DNS name, without a port.
func checkHost(s string) error {
	if net.ParseIP(s) != nil {
		return nil
	}
	const want = "want an IP address or host name without a port (e.g. 127.0.0.1)"
	if s == "" || len(s) > 253 || s[0] == '-' || s[0] == '.' {
		return errors.New(want)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || isDigit(c) || c == '-' || c == '.') {
			return errors.New(want)
		}
	}
	return nil
}

func parseIdleTimeout(c *Config, s string) error {
	const want = "want 0 (off) or a duration of at least 30s: milliseconds, or a number with ms, s, m or h"
	if strings.TrimSpace(s) == "0" {
		c.ReplicationIdleTimeout = 0
		return nil
	}
	d, err := ParseDuration(s)
	if err != nil || d < 30*time.Second {
		return errors.New(want)
	}
	c.ReplicationIdleTimeout = d
	return nil
}

func parseConcurrencyLimits(c *Config, s string) error {
	const want = `want a JSON object of positive integers such as {"initial":300,"existing":10000}`
	var in struct {
		Initial  *int `json:"initial"`
		Existing *int `json:"existing"`
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(s)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil || dec.More() {
		return errors.New(want)
	}
	for _, p := range []*int{in.Initial, in.Existing} {
		if p != nil && *p < 1 {
			return errors.New(want)
		}
	}
	if in.Initial != nil {
		c.MaxConcurrentRequests.Initial = *in.Initial
	}
	if in.Existing != nil {
		c.MaxConcurrentRequests.Existing = *in.Existing
	}
	return nil
}

func parseFeatureFlags(c *Config, s string) error {
	c.FeatureFlags = nil
	for _, f := range strings.Split(s, ",") {
		f = strings.ToLower(strings.TrimSpace(f))
		if f != "" && !c.HasFeature(f) {
			c.FeatureFlags = append(c.FeatureFlags, f)
		}
	}
	return nil
}

func parseLogLevel(c *Config, s string) error {
	v, err := parseEnum(s, "error", "warning", "info", "debug", "warn")
	if err != nil {
		return errors.New("want error, warning, info or debug")
	}
	if v == "warning" {
		v = "warn" // zap's name; telemetry/log accepts both
	}
	c.LogLevel = v
	return nil
}
