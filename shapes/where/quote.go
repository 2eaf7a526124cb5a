package where

import "strings"

// QuoteIdent renders an identifier for SQL text, always double-quoted with
// inner quotes doubled. Unlike Postgres's quote_ident it quotes even names
// that would not need it, which is equivalent for the server and leaves no
// keyword list to keep in sync. A NUL byte cannot appear in a Postgres
// identifier; ok is false for such input so callers reject it instead of
// sending it.
func QuoteIdent(name string) (quoted string, ok bool) {
	if name == "" || strings.IndexByte(name, 0) >= 0 {
		return "", false
	}
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`, true
}

// QualifiedName renders "schema"."name".
func QualifiedName(schema, name string) (string, bool) {
	s, ok := QuoteIdent(schema)
	if !ok {
		return "", false
	}
	n, ok := QuoteIdent(name)
	if !ok {
		return "", false
	}
	return s + "." + n, true
}
