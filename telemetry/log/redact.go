package log

import (
	"net/url"
	"strings"

	"go.uber.org/zap"
)

// Redacted replaces every sensitive value in logged URLs.
const Redacted = "[REDACTED]"

// IsSensitiveParam reports whether a query parameter carries a credential
// that SHAPE_API §3 forbids in logs and traces. Names compare
// case-insensitively.
func IsSensitiveParam(name string) bool {
	switch strings.ToLower(name) {
	case "secret", "api_secret", "token", "access_token", "api_key", "password":
		return true
	}
	return false
}

// Redact returns s with the values of sensitive query parameters and any
// URL password replaced by Redacted. s may be an absolute URL
// (`http://h/v1/shape?secret=x`), a request URI (`/v1/shape?table=t&token=y`)
// or a bare query string (`table=t&api_key=z`). Everything else, including
// the order of parameters and their escaping, is kept byte for byte, so the
// log still shows what the client sent.
func Redact(s string) string {
	var b strings.Builder
	b.Grow(len(s))

	rest := s
	if i := strings.Index(rest, "://"); i >= 0 {
		b.WriteString(rest[:i+3])
		rest = rest[i+3:]
		end := strings.IndexAny(rest, "/?#")
		if end < 0 {
			end = len(rest)
		}
		b.WriteString(redactUserinfo(rest[:end]))
		rest = rest[end:]
	}

	q := strings.IndexByte(rest, '?')
	switch {
	case q >= 0:
		b.WriteString(rest[:q+1])
		rest = rest[q+1:]
	case strings.Contains(rest, "=") && !strings.HasPrefix(rest, "/") && !strings.Contains(s, "://"):
		// A bare query string: the whole remainder is parameters.
	default:
		b.WriteString(rest)
		return b.String()
	}

	fragment := ""
	if h := strings.IndexByte(rest, '#'); h >= 0 {
		rest, fragment = rest[:h], rest[h:]
	}
	for i, pair := range strings.Split(rest, "&") {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(redactPair(pair))
	}
	b.WriteString(fragment)
	return b.String()
}

func redactPair(pair string) string {
	eq := strings.IndexByte(pair, '=')
	if eq < 0 {
		return pair
	}
	key := pair[:eq]
	if unescaped, err := url.QueryUnescape(key); err == nil {
		key = unescaped
	}
	if !IsSensitiveParam(key) || eq == len(pair)-1 {
		return pair
	}
	return pair[:eq+1] + Redacted
}

// redactUserinfo hides the password of `user:password@host`.
func redactUserinfo(authority string) string {
	at := strings.LastIndexByte(authority, '@')
	if at < 0 {
		return authority
	}
	colon := strings.IndexByte(authority[:at], ':')
	if colon < 0 {
		return authority
	}
	return authority[:colon+1] + Redacted + authority[at:]
}

// URL is a zap field holding s after Redact; use it for every logged
// request URI, query string or connection URL.
func URL(key, s string) zap.Field {
	return zap.String(key, Redact(s))
}
