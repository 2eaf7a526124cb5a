package protocol

import (
	"github.com/shapesync/shapesync/actors"
	"github.com/shapesync/shapesync/replication/lsn"
)

// CollectorReady tells the collector that every stored shape's consumer has
// been subscribed again (the registry sends it after its restore): from now
// on it takes events instead of answering NotReady, and reports the shapes
// condition to status.
type CollectorReady struct{}

// AbortTxn tells a consumer that the transaction it was receiving will not
// be continued (the stream restarted inside it; Postgres sends it again from
// its BEGIN): it forgets what it appended for it and answers Delivered.
type AbortTxn struct {
	Seq       uint64
	Xid       uint32
	CommitLSN lsn.LSN
}

// Rollback asks the store-writer to forget a shape's appends since its last
// commit (storage Batch.Rollback), so the transaction can be appended again
// from its start at the same offsets. Answered with Accepted.
type Rollback struct {
	Seq     uint64
	Shape   ShapeID
	ReplyTo *actors.PID
}

// ConsumerState asks the store-writer to store a consumer's opaque state
// (snapshot visibility, whether filtering ended) in the shape's metadata with
// its next batch. It is not answered: the writer handles messages in order, so
// the state is durable no later than any append the consumer sends after it.
type ConsumerState struct {
	Shape ShapeID
	State []byte
}

// ShapeInvalid reports a shape that cannot continue (its consumer died or
// found a TRUNCATE, a changed relation, an overfull buffer; its log rejected
// an append). The receiver (the registry, via the wiring) removes it, so its
// clients get 409. Reports may repeat; they must be handled idempotently.
type ShapeInvalid struct {
	Shape  ShapeID
	Handle string // may be empty when the reporter does not know it
	Reason string
}
