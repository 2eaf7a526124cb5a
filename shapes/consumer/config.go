package consumer

import (
	"errors"

	"github.com/asynkron/protoactor-go/actor"
	"go.uber.org/zap"

	"github.com/shapesync/shapesync/actors"
	"github.com/shapesync/shapesync/replication/events"
	"github.com/shapesync/shapesync/replication/lsn"
	"github.com/shapesync/shapesync/shapes/logitems"
	"github.com/shapesync/shapesync/shapes/protocol"
)

// DefaultBufferLimit bounds the change data a consumer buffers while its
// snapshot's visibility is unknown (ARCHITECTURE §1.4); past it the shape is
// invalidated.
const DefaultBufferLimit = 64 << 20

// BoundMessages is the consumer's mailbox bound: the collector has one
// Deliver in flight to it, the writer one Accepted; the rest is snapshot
// messages.
const BoundMessages = 64

// StoredLog is the durable state of a shape's log that a consumer resumes
// from; storage's *ShapeView implements it.
type StoredLog interface {
	// Committed is the offset of the last durable commit (0_inf if none).
	Committed() lsn.LogOffset
	// ConsumerMeta is the state last stored through ConsumerState.
	ConsumerMeta() []byte
}

// Config is what the producer of one consumer is given.
type Config struct {
	Shape  protocol.ShapeID
	Handle string
	// Table is the shape's table as the catalog described it at creation.
	Table *events.Table
	// Columns are the shape's columns as indexes into Table.Columns, in
	// output order; nil selects every column the stream carries (all but
	// generated ones). The primary key (every column without one) keys rows.
	Columns []int
	Replica logitems.Replica
	// Match is the shape's where clause on a row as the stream carries it
	// (every published column, in relation order); nil: every row matches.
	// Updates that change the verdict become move-ins and move-outs
	// (SHAPE_API §12.3).
	Match func(row events.Tuple) bool
	// Writer is the store-writer (Append, Rollback, ConsumerState). Required.
	Writer *actors.PID
	// Collector receives Delivered when a Deliver arrives without a sender.
	Collector *actors.PID
	// Invalidate receives protocol.ShapeInvalid when the shape cannot
	// continue. Optional: otherwise only logged (the collector notices the
	// consumer's stop either way).
	Invalidate *actors.PID
	// Resume reads the shape's durable log state; called in Started, so a
	// consumer always resumes from what is synced. Nil, or false: a new
	// shape (nothing stored, visibility unknown).
	Resume func() (StoredLog, bool)
	// BufferLimit overrides DefaultBufferLimit (bytes of change text).
	BufferLimit int64
	Log         *zap.Logger
}

// Label is the consumer's label: consumer-<handle>.
func Label(handle string) string { return "consumer-" + handle }

// ChildSpec is a consumer's spec for its partition supervisor: temporary
// (a consumer is never restarted in place; its end invalidates the shape),
// bound 64, credit.
func ChildSpec(cfg Config) actors.ChildSpec {
	return actors.ChildSpec{Label: Label(cfg.Handle), Producer: Producer(cfg), Bound: actors.Count(BoundMessages), Policy: actors.Credit, Restart: actors.Temporary}
}

// Producer returns the consumer's producer.
func Producer(cfg Config) actor.Producer {
	if cfg.BufferLimit <= 0 {
		cfg.BufferLimit = DefaultBufferLimit
	}
	if cfg.Log == nil {
		cfg.Log = zap.NewNop()
	}
	return func() actor.Actor { return &consumer{cfg: cfg} }
}

// resume builds the converter from the injected config and stored state.
func (cfg *Config) resume() (*converter, error) {
	if cfg.Writer == nil {
		return nil, errors.New("consumer: Config.Writer is nil (the wiring must give the store-writer's PID)")
	}
	l, err := newLayout(cfg.Table, cfg.Columns, cfg.Replica)
	if err != nil {
		return nil, err
	}
	var (
		floor lsn.LSN
		vis   Visibility
	)
	if cfg.Resume != nil {
		if st, ok := cfg.Resume(); ok && st != nil {
			if c := st.Committed(); !c.Before && c.Tx > 0 {
				floor = lsn.LSN(c.Tx)
			}
			if vis, err = DecodeState(st.ConsumerMeta()); err != nil {
				return nil, err
			}
		}
	}
	c := newConverter(l, floor, vis)
	c.match = cfg.Match
	return c, nil
}
