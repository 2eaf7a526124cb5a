package api

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxIdentifierLength is Postgres' NAMEDATALEN-1, counted in characters as
// the reference does (SHAPE_API §5.2).
const maxIdentifierLength = 63

// ParseRelation reads a relation identifier (SHAPE_API §5.2): "name" or
// "schema.name", each part unquoted (lower-cased, ASCII only) or double-quoted
// (case kept, "" for one quote). Without a schema, "public" is assumed. The
// error's text is the protocol's message for errors.table.
//
// It also rejects NUL bytes and invalid UTF-8 inside quoted parts, which
// Postgres could not accept as a name anyway (RELIABILITY F4: bad parameters
// are refused before any query runs).
func ParseRelation(s string) (schema, table string, err error) {
	parts, err := splitRelation(s)
	if err != nil {
		return "", "", err
	}
	names := make([]string, len(parts))
	for i, p := range parts {
		if names[i], err = parseIdentifier(p); err != nil {
			return "", "", err
		}
	}
	if len(names) == 1 {
		return "public", names[0], nil
	}
	return names[0], names[1], nil
}

// relationError carries one of the protocol's identifier messages verbatim
// (they are capitalised sentences, as clients and tests compare them).
type relationError string

func (e relationError) Error() string { return string(e) }

// splitRelation splits on dots outside double quotes. A doubled quote inside
// a quoted part toggles the state twice, so it needs no special case.
func splitRelation(s string) ([]string, error) {
	var parts []string
	inQuotes, start := false, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"':
			inQuotes = !inQuotes
		case '.':
			if !inQuotes {
				parts = append(parts, s[start:i])
				start = i + 1
			}
		}
	}
	parts = append(parts, s[start:])
	if len(parts) > 2 {
		return nil, relationError("Invalid relation identifier, too many delimiters: " + s)
	}
	return parts, nil
}

func parseIdentifier(p string) (string, error) {
	if len(p) >= 2 && p[0] == '"' && p[len(p)-1] == '"' {
		return parseQuoted(p[1 : len(p)-1])
	}
	if !validUnquoted(p) {
		return "", relationError("Invalid unquoted identifier contains special characters: " + p)
	}
	if utf8.RuneCountInString(p) > maxIdentifierLength {
		return "", relationError("Identifier is too long (max length is 63)")
	}
	return lowerASCII(p), nil
}

func parseQuoted(inner string) (string, error) {
	if inner == "" {
		return "", relationError("Invalid zero-length delimited identifier")
	}
	var b strings.Builder
	for i := 0; i < len(inner); i++ {
		c := inner[i]
		if c == '"' {
			if i+1 < len(inner) && inner[i+1] == '"' {
				i++
			} else {
				return "", relationError("Invalid identifier with unescaped quote: " + inner)
			}
		}
		b.WriteByte(c)
	}
	name := b.String()
	if strings.IndexByte(name, 0) >= 0 || !utf8.ValidString(name) {
		return "", relationError("Invalid identifier contains a NUL byte or invalid UTF-8: " + strings.ToValidUTF8(strings.ReplaceAll(name, "\x00", `\0`), "\uFFFD"))
	}
	if utf8.RuneCountInString(name) > maxIdentifierLength {
		return "", relationError("Identifier is too long (max length is 63)")
	}
	return name, nil
}

// validUnquoted matches ^[\p{L}_][\p{L}\p{M}_0-9$]*$ rune by rune; invalid
// UTF-8 decodes to RuneError, which is no letter, so it is refused.
func validUnquoted(p string) bool {
	if p == "" {
		return false
	}
	for i, r := range p {
		switch {
		case unicode.IsLetter(r) || r == '_':
		case i > 0 && (unicode.IsMark(r) || r == '$' || (r >= '0' && r <= '9')):
		default:
			return false
		}
	}
	return true
}

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
