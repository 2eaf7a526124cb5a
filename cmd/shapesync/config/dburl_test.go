package config

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func TestParseDatabaseURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		want    DatabaseURL
		wantErr string
	}{
		{name: "ok - full", in: "postgresql://app:pw@db.example.com:6543/appdb?sslmode=require",
			want: DatabaseURL{User: "app", Password: "pw", Host: "db.example.com", Port: 6543, Database: "appdb", SSLMode: SSLRequire, SSLModeExplicit: true}},
		{name: "ok - postgres scheme, default port, database defaults to user", in: "postgres://alice@localhost",
			want: DatabaseURL{User: "alice", Host: "localhost", Port: 5432, Database: "alice"}},
		{name: "ok - trailing slash means no database", in: "postgres://alice@localhost/",
			want: DatabaseURL{User: "alice", Host: "localhost", Port: 5432, Database: "alice"}},
		{name: "ok - upper-case scheme", in: "POSTGRES://u@h/d", want: DatabaseURL{User: "u", Host: "h", Port: 5432, Database: "d"}},
		{name: "ok - percent-encoded password", in: "postgres://u:p%40ss%2Fw@h/d",
			want: DatabaseURL{User: "u", Password: "p@ss/w", Host: "h", Port: 5432, Database: "d"}},
		{name: "ok - IPv6 literal", in: "postgres://u@[::1]:5433/d", want: DatabaseURL{User: "u", Host: "::1", Port: 5433, Database: "d"}},
		{name: "ok - sslmode disable", in: "postgres://u@h/d?sslmode=disable",
			want: DatabaseURL{User: "u", Host: "h", Port: 5432, Database: "d", SSLMode: SSLDisable, SSLModeExplicit: true}},
		{name: "ok - sslmode allow", in: "postgres://u@h/d?sslmode=allow",
			want: DatabaseURL{User: "u", Host: "h", Port: 5432, Database: "d", SSLMode: SSLAllow, SSLModeExplicit: true}},
		{name: "ok - sslmode prefer", in: "postgres://u@h/d?sslmode=prefer",
			want: DatabaseURL{User: "u", Host: "h", Port: 5432, Database: "d", SSLMode: SSLPrefer, SSLModeExplicit: true}},
		{name: "ok - other options ignored, names kept sorted", in: "postgres://u@h/d?connect_timeout=10&application_name=x",
			want: DatabaseURL{User: "u", Host: "h", Port: 5432, Database: "d", IgnoredOptions: []string{"application_name", "connect_timeout"}}},
		{name: "error - mysql scheme", in: "mysql://u@h/d", wantErr: `scheme "mysql" is not supported`},
		{name: "error - key/value form", in: "host=h user=u", wantErr: "not a URL"},
		{name: "error - no user", in: "postgres://h/d", wantErr: "missing user name"},
		{name: "error - empty user with password", in: "postgres://:pw@h/d", wantErr: "missing user name"},
		{name: "error - no host", in: "postgres://u@/d", wantErr: "missing host"},
		{name: "error - bad port", in: "postgres://u@h:99999/d", wantErr: `port "99999"`},
		{name: "error - port zero", in: "postgres://u@h:0/d", wantErr: `port "0"`},
		{name: "error - several hosts", in: "postgres://u@h1,h2/d", wantErr: "several hosts"},
		{name: "error - nested path", in: "postgres://u@h/d/x", wantErr: "single database name"},
		{name: "error - verify-full", in: "postgres://u@h/d?sslmode=verify-full", wantErr: "ELECTRIC_DATABASE_CA_CERTIFICATE_FILE"},
		{name: "error - verify-ca", in: "postgres://u@h/d?sslmode=verify-ca", wantErr: "sslmode=verify-ca is not supported"},
		{name: "error - unknown sslmode", in: "postgres://u@h/d?sslmode=always", wantErr: "want disable, allow, prefer or require"},
		{name: "error - sslmode twice", in: "postgres://u@h/d?sslmode=require&sslmode=disable", wantErr: "more than once"},
		{name: "error - replication option", in: "postgres://u@h/d?replication=database", wantErr: "replication option is not allowed"},
		{name: "error - bad escape does not echo the password", in: "postgres://u:zq9%zzxy@h/d", wantErr: "percent-encode"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseDatabaseURL(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("parseDatabaseURL(%q) = %v, %v; want error containing %q", tt.in, got, err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "zq9") {
					t.Fatalf("error quotes the password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseDatabaseURL(%q): %v", tt.in, err)
			}
			if !reflect.DeepEqual(*got, tt.want) {
				t.Fatalf("parseDatabaseURL(%q)\n got %#v\nwant %#v", tt.in, fields(got), fields(&tt.want))
			}
		})
	}
}

func TestDatabaseURLRendering(t *testing.T) {
	t.Parallel()
	u, err := parseDatabaseURL("postgres://app:p%40ss@[::1]:6543/appdb?sslmode=require&connect_timeout=3")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := u.ConnString(), "postgresql://app:p%40ss@[::1]:6543/appdb?sslmode=require"; got != want {
		t.Errorf("ConnString = %q, want %q", got, want)
	}
	if got, want := u.String(), "postgresql://app:[REDACTED]@[::1]:6543/appdb?sslmode=require"; got != want {
		t.Errorf("String = %q, want %q", got, want)
	}
	for _, format := range []string{"%v", "%s", "%+v", "%#v"} {
		if s := fmt.Sprintf(format, u); strings.Contains(s, "p@ss") || strings.Contains(s, "p%40ss") {
			t.Errorf("%s prints the password: %s", format, s)
		}
	}
	back, err := parseDatabaseURL(u.ConnString())
	if err != nil || back.Password.Reveal() != "p@ss" || back.Host != "::1" || back.Port != 6543 {
		t.Errorf("ConnString does not parse back: %v %v", back, err)
	}
	noPassword, _ := parseDatabaseURL("postgres://app@h/d")
	if got := noPassword.String(); got != "postgresql://app@h:5432/d" {
		t.Errorf("String without password = %q", got)
	}
}

// fields shows a DatabaseURL with its password, for failure messages.
func fields(d *DatabaseURL) string {
	return fmt.Sprintf("{User:%q Password:%q Host:%q Port:%d Database:%q SSLMode:%q Explicit:%v Ignored:%q}",
		d.User, d.Password.Reveal(), d.Host, d.Port, d.Database, d.SSLMode, d.SSLModeExplicit, d.IgnoredOptions)
}
