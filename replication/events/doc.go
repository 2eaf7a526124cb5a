// Package events is the change model that flows from the replication stream
// to the shapes: relations, changes with text-form tuples, transaction
// fragments, and the idle-position marker.
//
// Layer 0 (leaf, pure): it imports only the standard library and
// replication/lsn. Every other layer may import it. Values are immutable once
// sent: a Fragment and the Relations it points to are shared by every shape
// that receives it.
package events
