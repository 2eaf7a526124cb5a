package logitems

import "github.com/shapesync/shapesync/replication/events"

// Type OIDs whose snapshot text (a cast to text) differs from the stream text
// (the output function), SHAPE_API §12.6 and §25.2.
const (
	OIDBool uint32 = 16
	OIDInet uint32 = 869
)

// CanonicalKeyText returns the form of a key value that is identical in the
// snapshot and in the stream: a bool's "true"/"false" (snapshot cast) becomes
// "t"/"f" (output function), and an inet with a full-length mask ("/32" for
// IPv4, "/128" for IPv6; the cast always writes the mask) loses it, because
// the output function omits it. Text of other types is returned unchanged, as
// is text that already is canonical (so the stream path is a no-op).
//
// baseTypeOID is the column's type, or for a domain its base type: a domain
// over bool is cast to text like bool.
func CanonicalKeyText(baseTypeOID uint32, text string) string {
	return canonicalKeyText(baseTypeOID, text)
}

func canonicalKeyText[T text](oid uint32, s T) T {
	switch oid {
	case OIDBool:
		// "true"[:1] is "t" and "false"[:1] is "f": slicing keeps the
		// raw-bytes path free of allocations.
		if string(s) == "true" || string(s) == "false" {
			return s[:1]
		}
	case OIDInet:
		if n := len(s); n > 3 && string(s[n-3:]) == "/32" && !hasColon(s[:n-3]) {
			return s[:n-3]
		}
		if n := len(s); n > 4 && string(s[n-4:]) == "/128" && hasColon(s[:n-4]) {
			return s[:n-4]
		}
	}
	return s
}

func hasColon[T text](s T) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == ':' {
			return true
		}
	}
	return false
}

// Key returns a row key (SHAPE_API §12.5): `"schema"."table"` followed by one
// section per key value, `/"value"` with every "/" inside the value doubled,
// or `/_` for NULL. Relation names are written verbatim; this package writes
// every key through this rule. The values must already be canonical
// (CanonicalKeyText); the Encoder takes care of that itself.
func Key(schema, table string, keyValues []events.Value) string {
	return string(AppendKey(nil, schema, table, keyValues))
}

// AppendKey appends the key of Key to dst.
func AppendKey(dst []byte, schema, table string, keyValues []events.Value) []byte {
	dst = appendKeyRelation(dst, schema, table)
	for _, v := range keyValues {
		dst = appendKeySection(dst, v.Text, v.Null)
	}
	return dst
}

// appendKeyRelation is the one escaping rule for relation names in keys:
// verbatim, each name between double quotes (SHAPE_API §25.3).
func appendKeyRelation(dst []byte, schema, table string) []byte {
	dst = append(dst, '"')
	dst = append(dst, schema...)
	dst = append(dst, '"', '.', '"')
	dst = append(dst, table...)
	return append(dst, '"')
}

func appendKeySection[T text](dst []byte, v T, null bool) []byte {
	if null {
		return append(dst, '/', '_')
	}
	dst = append(dst, '/', '"')
	start := 0
	for i := 0; i < len(v); i++ {
		if v[i] == '/' {
			dst = append(dst, v[start:i+1]...)
			dst = append(dst, '/')
			start = i + 1
		}
	}
	dst = append(dst, v[start:]...)
	return append(dst, '"')
}
