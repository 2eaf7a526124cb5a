package api

import (
	"bytes"
	"strconv"
)

// Cache-control values of SHAPE_API §11.1.
const (
	cacheNoCache        = "no-cache"
	cacheNoStore        = "no-store"
	cache409WithHandle  = "public, max-age=60, must-revalidate"
	cache409NoHandle    = "public, max-age=1, must-revalidate"
	cacheInitialChunk   = "public, max-age=604800, s-maxage=3600, stale-while-revalidate=2629746"
	cacheLongPoll       = "public, max-age=5, stale-while-revalidate=5"
	cacheHealth         = "no-cache, no-store, must-revalidate"
	surrogateNoStoreVal = "no-store"
)

// cacheControl applies the rules of §11.1 in order for a GET/HEAD shape
// response (rule 1, non-GET methods, is the caller's). SSE (rule 6) is a
// later issue.
func (c *Config) cacheControl(status int, hasHandle bool, r *shapeRequest) string {
	switch {
	case status == 409 && hasHandle:
		return cache409WithHandle
	case status == 409:
		return cache409NoHandle
	case status >= 400:
		return cacheNoStore
	case !r.now && r.offset.Before:
		return cacheInitialChunk
	case r.live:
		return cacheLongPoll
	}
	return "public, max-age=" + strconv.Itoa(c.CacheMaxAge) + ", stale-while-revalidate=" + strconv.Itoa(c.CacheStaleAge)
}

// etag is the unquoted ETag of §11.3: handle:requested:response, plus a
// nonce for responses without data (long-poll timeout, offset=now) so that
// a revalidation never matches.
func etag(handle, requested, response, nonce string) string {
	s := handle + ":" + requested + ":" + response
	if nonce != "" {
		s += ":" + nonce
	}
	return s
}

// ifNoneMatch reports whether any If-None-Match value names tag: every header
// is split on commas, each element trimmed of spaces and surrounding double
// quotes. Weak validators (W/…) never match.
func ifNoneMatch(headers [][]byte, tag string) bool {
	for _, h := range headers {
		for len(h) > 0 {
			var item []byte
			if i := bytes.IndexByte(h, ','); i >= 0 {
				item, h = h[:i], h[i+1:]
			} else {
				item, h = h, nil
			}
			item = bytes.TrimSpace(item)
			if bytes.HasPrefix(item, []byte("W/")) {
				continue
			}
			item = bytes.TrimSuffix(bytes.TrimPrefix(item, []byte(`"`)), []byte(`"`))
			if string(item) == tag {
				return true
			}
		}
	}
	return false
}
