package shape

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxIdentifierLength is the longest identifier accepted, in characters
// (Postgres' NAMEDATALEN − 1).
const MaxIdentifierLength = 63

// DefaultSchema is the schema of a table named without one.
const DefaultSchema = "public"

// ParseError is a rejected request parameter. Its message is the protocol's
// text (SHAPE_API §5.2, §5.3) and goes into the 400 body as it is.
type ParseError struct{ Msg string }

func (e *ParseError) Error() string { return e.Msg }

func parseErrorf(format string, args ...any) error {
	return &ParseError{Msg: fmt.Sprintf(format, args...)}
}

// The parse errors whose text is fixed (compare with errors.Is).
var (
	ErrZeroLengthIdentifier error = &ParseError{"Invalid zero-length delimited identifier"}
	ErrIdentifierTooLong    error = &ParseError{fmt.Sprintf("Identifier is too long (max length is %d)", MaxIdentifierLength)}
	// ErrIdentifierEncoding is shapesync's own: Postgres cannot store NUL
	// or invalid UTF-8 in a name, so such a name could never match a table.
	ErrIdentifierEncoding error = &ParseError{"Invalid identifier contains a NUL byte or invalid UTF-8"}
)

// ParseIdentifier reads one identifier with Postgres' rules (SHAPE_API
// §5.2): "quoted" keeps its case and turns "" into ", anything else must
// match ^[\p{L}_][\p{L}\p{M}_0-9$]*$ and has ASCII A–Z lower-cased. The
// error texts are the protocol's.
func ParseIdentifier(s string) (string, error) {
	var name string
	if s != "" && s[0] == '"' && s[len(s)-1] == '"' {
		inner := ""
		if len(s) >= 2 {
			inner = s[1 : len(s)-1]
		}
		if inner == "" {
			return "", ErrZeroLengthIdentifier
		}
		var err error
		if name, err = unescapeQuoted(inner); err != nil {
			return "", err
		}
		if !utf8.ValidString(name) || strings.IndexByte(name, 0) >= 0 {
			return "", ErrIdentifierEncoding
		}
	} else {
		if s == "" {
			return "", ErrZeroLengthIdentifier
		}
		if !validUnquoted(s) {
			return "", parseErrorf("Invalid unquoted identifier contains special characters: %s", s)
		}
		name = lowerASCII(s)
	}
	if utf8.RuneCountInString(name) > MaxIdentifierLength {
		return "", ErrIdentifierTooLong
	}
	return name, nil
}

// unescapeQuoted turns each "" into " and rejects a lone ".
func unescapeQuoted(inner string) (string, error) {
	if strings.IndexByte(inner, '"') < 0 {
		return inner, nil
	}
	var b strings.Builder
	b.Grow(len(inner))
	for i := 0; i < len(inner); i++ {
		c := inner[i]
		if c == '"' {
			if i+1 >= len(inner) || inner[i+1] != '"' {
				return "", parseErrorf("Invalid identifier with unescaped quote: %s", inner)
			}
			i++
		}
		b.WriteByte(c)
	}
	return b.String(), nil
}

func validUnquoted(s string) bool {
	for i, r := range s {
		switch {
		case r == '_' || unicode.IsLetter(r):
		case i > 0 && (r >= '0' && r <= '9' || r == '$' || unicode.Is(unicode.M, r)):
		default:
			return false
		}
	}
	return true
}

// lowerASCII lower-cases A–Z only, as Postgres does for unquoted names in a
// UTF-8 database.
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] >= 'A' && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if b[j] >= 'A' && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// QuoteIdentifier writes name as a quoted identifier, the inverse of
// ParseIdentifier for every name it accepts. It is for messages and
// round-trips, not for building SQL (shapes/where owns that).
func QuoteIdentifier(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// ParseRelation reads the table parameter, "name" or "schema.name", split on
// a "." outside double quotes (SHAPE_API §5.2). Without a schema the table
// is in DefaultSchema.
func ParseRelation(s string) (schema, table string, err error) {
	parts := splitOutsideQuotes(s, '.')
	switch len(parts) {
	case 1:
		table, err = ParseIdentifier(parts[0])
		return DefaultSchema, table, err
	case 2:
		if schema, err = ParseIdentifier(parts[0]); err != nil {
			return "", "", err
		}
		if table, err = ParseIdentifier(parts[1]); err != nil {
			return "", "", err
		}
		return schema, table, nil
	}
	return "", "", parseErrorf("Invalid relation identifier, too many delimiters: %s", s)
}

// splitOutsideQuotes splits s at each sep that is not inside double quotes,
// toggling the state at every quote from the left (so "" inside a quoted
// name toggles twice and changes nothing).
func splitOutsideQuotes(s string, sep byte) []string {
	var parts []string
	in, start := false, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"':
			in = !in
		case sep:
			if !in {
				parts = append(parts, s[start:i])
				start = i + 1
			}
		}
	}
	return append(parts, s[start:])
}
