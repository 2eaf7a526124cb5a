// Package lsn holds the positions shapesync reasons about: Postgres WAL
// positions (LSN), shape-log offsets (LogOffset, SHAPE_API §7) and 32-bit
// transaction ids compared against 64-bit snapshot bounds with wraparound.
//
// Layer 0 (leaf, pure): it imports only the standard library, and every
// other package may import it.
package lsn
