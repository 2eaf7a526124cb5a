// Package log builds shapesync's zap logger (GO_STACK §1.5) and redacts
// secrets from the URLs and query strings that get logged (SHAPE_API §3).
//
// It owns: the encoder choice (JSON when the output is not a terminal,
// console in a terminal), ISO8601 timestamps, sampling turned off (a crash
// investigation needs every line), the level parsing that accepts the
// configuration's names (`error`, `warning`/`warn`, `info`, `debug`) and the
// redaction of the query parameters secret, api_secret, token, access_token,
// api_key and password.
//
// Layer 0 (leaf): it imports only the standard library and zap. Every other
// package may import it; it imports no project package.
package log
