// Package oracle is a protocol client for tests and the chaos harness: a
// Follower reads one shape through the Shape API exactly as the official
// client does (offset -1, chunks until up-to-date, then live long-polls,
// 409 ⇒ start again), materialises its rows, and audits the raw log as it
// goes: change offsets strictly increase per handle, no key is inserted
// twice without a delete between, and every (handle, offset, key) is seen
// once (RELIABILITY "The harness", the oracle checker).
//
// Layer 4: test and harness code; it imports only the standard library.
package oracle
