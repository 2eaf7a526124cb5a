// Package shape owns shape definitions (SHAPE_API §6.1): the parsing of the
// table and column-list parameters (§5.2, §5.3), the Definition itself with
// its JSON form for storage, its canonical byte encoding and hash, and shape
// handles "<hash>-<unix µs>" (§6.2) with a minter that never reissues one.
//
// The canonical form and Hash are part of the on-disk contract: the registry
// stores definitions under their hash (D|<hash>|<handle>) and handles embed
// it, so both must give the same result in every process and every version.
// Changing either needs a new canonical version prefix and a migration.
//
// Layer 1 (pure logic): it imports only the standard library (and may import
// replication/lsn and replication/events). It must never import protoactor,
// badger, fasthttp, actors or shapes/protocol, and it starts no goroutines.
// The registry, the HTTP handlers and the consumers import it; no layer-0
// package may.
package shape
