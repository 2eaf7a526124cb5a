// Package config turns shapesync's environment variables and command-line
// flags into one validated, typed Config (SHAPE_API §23, with the §26
// corrections and the §3 secret rules).
//
// It owns: the table of variables (name, aliases, flag, default,
// description) that drives parsing, --help and the README; the size and
// duration syntaxes; DATABASE_URL validation; alias precedence; embedded-mode
// defaults; and the redacted rendering of a Config that is safe to log.
//
// Precedence, lowest first: built-in default, alias variable, canonical
// variable, flag. An empty variable counts as unset; an empty flag value
// (`--secret=`) unsets the variable it mirrors. Invalid values are all
// reported at once, each naming its variable and the syntax it accepts.
// Reference variables shapesync does not implement never stop start-up:
// they come back as Warnings for main to log.
//
// Layer 4 (part of cmd/shapesync): it imports only the standard library and
// no project package; nothing but cmd/shapesync imports it. Load is pure
// apart from reading random bytes for the default instance id and checking
// that the CA certificate file exists.
package config
