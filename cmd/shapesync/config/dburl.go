package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// SSLMode is the sslmode of a database URL; shapesync accepts the modes
// that do not verify the server itself (verification is configured with
// ELECTRIC_DATABASE_CA_CERTIFICATE_FILE instead).
type SSLMode string

const (
	SSLDisable SSLMode = "disable"
	SSLAllow   SSLMode = "allow"
	SSLPrefer  SSLMode = "prefer"
	SSLRequire SSLMode = "require"
)

const wantDatabaseURL = "want postgres[ql]://user[:password]@host[:port][/database][?sslmode=disable|allow|prefer|require]"

// DatabaseURL is a validated DATABASE_URL or ELECTRIC_POOLED_DATABASE_URL.
// Printing it never shows the password; ConnString does, for the driver.
type DatabaseURL struct {
	User     string
	Password Secret
	Host     string // without brackets for IPv6 literals
	Port     int
	Database string // defaults to User
	SSLMode  SSLMode
	// SSLModeExplicit records that the URL named an sslmode, which then
	// wins over DATABASE_REQUIRE_SSL.
	SSLModeExplicit bool
	// IgnoredOptions are query options other than sslmode (for example
	// connect_timeout), accepted but not used. Names only: values may hold
	// credentials.
	IgnoredOptions []string
}

// parseDatabaseURL validates s. Its errors never quote s: it may hold a
// password.
func parseDatabaseURL(s string) (*DatabaseURL, error) {
	s = strings.TrimSpace(s)
	scheme, _, ok := strings.Cut(s, "://")
	if !ok {
		return nil, errors.New("not a URL; " + wantDatabaseURL)
	}
	if scheme = strings.ToLower(scheme); scheme != "postgres" && scheme != "postgresql" {
		return nil, fmt.Errorf("scheme %q is not supported; %s", scheme, wantDatabaseURL)
	}
	u, err := url.Parse(s)
	if err != nil {
		// url.Error quotes the whole URL, password included, and even its
		// inner error can quote part of the password: say only what to check.
		return nil, errors.New("cannot parse: check the port and percent-encode special characters in the user name and password; " + wantDatabaseURL)
	}
	d := &DatabaseURL{}
	if u.User != nil {
		d.User = u.User.Username()
		if p, ok := u.User.Password(); ok {
			d.Password = Secret(p)
		}
	}
	if d.User == "" {
		return nil, errors.New("missing user name; " + wantDatabaseURL)
	}
	if strings.Contains(u.Host, ",") {
		return nil, errors.New("several hosts are not supported; name one host")
	}
	d.Host = u.Hostname()
	if d.Host == "" {
		return nil, errors.New("missing host; " + wantDatabaseURL)
	}
	d.Port = 5432
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("port %q: want 1-65535", p)
		}
		d.Port = n
	}
	d.Database = strings.TrimPrefix(u.Path, "/")
	if strings.Contains(d.Database, "/") {
		return nil, errors.New("the path must be a single database name")
	}
	if d.Database == "" {
		d.Database = d.User
	}

	query, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return nil, errors.New("malformed query string; " + wantDatabaseURL)
	}
	for name, values := range query {
		switch name {
		case "sslmode":
			if len(values) != 1 {
				return nil, errors.New("sslmode given more than once")
			}
			mode, err := parseSSLMode(values[0])
			if err != nil {
				return nil, err
			}
			d.SSLMode, d.SSLModeExplicit = mode, values[0] != ""
		case "replication":
			return nil, errors.New("the replication option is not allowed: shapesync opens its replication connection itself; remove it")
		default:
			d.IgnoredOptions = append(d.IgnoredOptions, name)
		}
	}
	slices.Sort(d.IgnoredOptions)
	return d, nil
}

func parseSSLMode(v string) (SSLMode, error) {
	switch m := SSLMode(strings.ToLower(v)); m {
	case "":
		return "", nil
	case SSLDisable, SSLAllow, SSLPrefer, SSLRequire:
		return m, nil
	case "verify-ca", "verify-full":
		return "", fmt.Errorf("sslmode=%s is not supported: use sslmode=require and set ELECTRIC_DATABASE_CA_CERTIFICATE_FILE to verify the server certificate", m)
	default:
		return "", fmt.Errorf("sslmode %q: want disable, allow, prefer or require", v)
	}
}

// ConnString renders the URL for the driver, password included, with the
// effective sslmode and without the ignored options.
func (d *DatabaseURL) ConnString() string {
	u := d.base()
	if d.Password != "" {
		u.User = url.UserPassword(d.User, d.Password.Reveal())
	}
	return u.String()
}

// String renders the URL with the password replaced by [REDACTED].
func (d *DatabaseURL) String() string {
	if d == nil {
		return ""
	}
	s := d.base().String()
	if d.Password == "" {
		return s
	}
	// Insert the marker by hand: url.UserPassword would escape its brackets.
	prefix := "postgresql://" + url.User(d.User).String()
	return prefix + ":" + redactedMarker + s[len(prefix):]
}

// GoString keeps %#v from printing the password field.
func (d *DatabaseURL) GoString() string { return d.String() }

func (d *DatabaseURL) base() *url.URL {
	u := &url.URL{
		Scheme: "postgresql",
		User:   url.User(d.User),
		Host:   net.JoinHostPort(d.Host, strconv.Itoa(d.Port)),
		Path:   "/" + d.Database,
	}
	if d.SSLMode != "" {
		u.RawQuery = "sslmode=" + string(d.SSLMode)
	}
	return u
}
