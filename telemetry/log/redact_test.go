package log

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want string
	}{
		{name: "ok - request URI with secret", in: "/v1/shape?table=items&secret=s3cr3t&offset=-1",
			want: "/v1/shape?table=items&secret=[REDACTED]&offset=-1"},
		{name: "ok - legacy api_secret", in: "/v1/shape?api_secret=abc", want: "/v1/shape?api_secret=[REDACTED]"},
		{name: "ok - token and access_token", in: "/x?token=t1&access_token=t2&tokens=keep",
			want: "/x?token=[REDACTED]&access_token=[REDACTED]&tokens=keep"},
		{name: "ok - api_key and password", in: "/x?api_key=k&password=p", want: "/x?api_key=[REDACTED]&password=[REDACTED]"},
		{name: "ok - case-insensitive name", in: "/x?SECRET=a&Password=b", want: "/x?SECRET=[REDACTED]&Password=[REDACTED]"},
		{name: "ok - escaped name", in: "/x?api%5Fkey=k", want: "/x?api%5Fkey=[REDACTED]"},
		{name: "ok - repeated parameter", in: "/x?secret=a&secret=b", want: "/x?secret=[REDACTED]&secret=[REDACTED]"},
		{name: "ok - absolute URL keeps fragment", in: "http://h:3000/v1/shape?secret=a#frag",
			want: "http://h:3000/v1/shape?secret=[REDACTED]#frag"},
		{name: "ok - bare query string", in: "table=t&token=abc", want: "table=t&token=[REDACTED]"},
		{name: "ok - URL password", in: "postgres://user:pa55@db:5432/app?sslmode=require",
			want: "postgres://user:[REDACTED]@db:5432/app?sslmode=require"},
		{name: "ok - URL password and password option", in: "postgresql://u:p@h/db?password=q",
			want: "postgresql://u:[REDACTED]@h/db?password=[REDACTED]"},
		{name: "ok - user without password untouched", in: "postgres://user@db/app", want: "postgres://user@db/app"},
		{name: "ok - nothing sensitive", in: "/v1/shape?table=items&where=a%3D1", want: "/v1/shape?table=items&where=a%3D1"},
		{name: "ok - empty value kept empty", in: "/x?secret=", want: "/x?secret="},
		{name: "ok - name without value", in: "/x?secret&a=1", want: "/x?secret&a=1"},
		{name: "ok - plain path", in: "/v1/health", want: "/v1/health"},
		{name: "ok - empty", in: "", want: ""},
		{name: "ok - value holding another secret name", in: "/x?where=secret%3D1&token=z",
			want: "/x?where=secret%3D1&token=[REDACTED]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Redact(tt.in); got != tt.want {
				t.Fatalf("Redact(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestURLField(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	logger, _, err := New("info", FormatJSON, &buf)
	if err != nil {
		t.Fatal(err)
	}
	logger.Info("request", URL("uri", "/v1/shape?table=t&secret=hunter2"))
	if strings.Contains(buf.String(), "hunter2") {
		t.Fatalf("secret reached the log: %s", buf.String())
	}
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	if m["uri"] != "/v1/shape?table=t&secret=[REDACTED]" {
		t.Fatalf("uri = %v", m["uri"])
	}
}

// FuzzRedact: never panics, is idempotent, and no value of a sensitive
// parameter survives.
func FuzzRedact(f *testing.F) {
	for _, s := range []string{
		"/v1/shape?table=t&secret=x", "postgres://u:p@h/db?password=y", "a=b&token=c",
		"http://h/?#", "?&=&secret==", "://@:@?secret=1#", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		once := Redact(s)
		if twice := Redact(once); twice != once {
			t.Fatalf("not idempotent: %q -> %q -> %q", s, once, twice)
		}
		q := once
		if i := strings.IndexByte(q, '?'); i >= 0 {
			q = q[i+1:]
		} else if strings.Contains(s, "://") || strings.HasPrefix(s, "/") {
			return
		}
		if i := strings.IndexByte(q, '#'); i >= 0 {
			q = q[:i]
		}
		for _, pair := range strings.Split(q, "&") {
			k, v, ok := strings.Cut(pair, "=")
			if ok && v != "" && IsSensitiveParam(k) && v != Redacted {
				t.Fatalf("Redact(%q) = %q keeps %s=%q", s, once, k, v)
			}
		}
	})
}
