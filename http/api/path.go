package api

import "strings"

// route is what a request path names (SHAPE_API §2).
type route int

const (
	routeNotFound route = iota
	routeRoot
	routeShape
	routeHealth
	routeStatus
)

// routeOf decides the route from the raw (not yet decoded) request path with
// the one normalisation of §2: split on '/', drop empty segments,
// percent-decode each segment. Authentication must use the same result
// (GHSA-m4f6-p2j8-rq76), so routing and auth both call this.
func routeOf(rawPath []byte) route {
	segs := pathSegments(rawPath)
	switch {
	case len(segs) == 0:
		return routeRoot
	case len(segs) == 2 && segs[0] == "v1":
		switch segs[1] {
		case "shape":
			return routeShape
		case "health":
			return routeHealth
		case "status":
			return routeStatus
		}
	}
	return routeNotFound
}

// pathSegments normalises a raw path. A query string, if still attached, is
// cut off. A '/' obtained by decoding %2F stays inside its segment, so
// /v1%2Fshape is one segment and not the shape endpoint.
func pathSegments(rawPath []byte) []string {
	p := string(rawPath)
	if i := strings.IndexByte(p, '?'); i >= 0 {
		p = p[:i]
	}
	var segs []string
	for _, s := range strings.Split(p, "/") {
		if s != "" {
			segs = append(segs, percentDecode(s))
		}
	}
	return segs
}

// percentDecode decodes %XX escapes; a malformed escape is kept literally.
// '+' is not a space in paths.
func percentDecode(s string) string {
	if strings.IndexByte(s, '%') < 0 {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
			continue
		}
		b = append(b, s[i])
	}
	return string(b)
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}
