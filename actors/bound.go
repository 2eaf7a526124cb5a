package actors

import (
	"errors"
	"fmt"
)

// Policy says what happens when an actor's mailbox reaches its declared
// bound (ARCHITECTURE §1.1).
type Policy int

const (
	// Credit: a protocol window between the stages makes overflow
	// impossible; depth above the bound is a bug, logged at error level and
	// counted, and the message is still delivered.
	Credit Policy = iota + 1
	// Shed: senders on this edge use Kit.TrySend, which refuses a message
	// once the bound is reached (the HTTP caller answers 503 + Retry-After).
	Shed
	// Coalesce: senders use Kit.Coalesce; at most one message per key is
	// pending and the latest value wins. Depth above the bound is a bug, as
	// for Credit.
	Coalesce
)

func (p Policy) String() string {
	switch p {
	case Credit:
		return "credit"
	case Shed:
		return "shed"
	case Coalesce:
		return "coalesce"
	}
	return fmt.Sprintf("Policy(%d)", int(p))
}

func (p Policy) validate() error {
	switch p {
	case Credit, Shed, Coalesce:
		return nil
	}
	return fmt.Errorf("invalid mailbox policy %d: use actors.Credit, actors.Shed or actors.Coalesce", int(p))
}

// boundUnit is what a bound counts.
type boundUnit int

const (
	unitMessages boundUnit = iota + 1
	unitBytes
)

// Bound is the declared capacity of an actor's mailbox: a count of
// messages (Count), bytes with a size function (Bytes), or a function of
// the actor's state (Dynamic). The zero Bound is invalid: every actor
// declares one.
type Bound struct {
	unit  boundUnit
	limit int64
	size  func(msg any) int64
	fn    func() int
}

// Count bounds the mailbox at n pending messages.
func Count(n int) Bound { return Bound{unit: unitMessages, limit: int64(n)} }

// Bytes bounds the mailbox at n bytes of pending messages, each weighed by
// size. size is called on the sender's goroutine at post time and again on
// the actor's goroutine when the message is taken, so it must be pure and
// safe for concurrent use; it sees every user message (including protoactor
// ones such as *actor.PoisonPill) and should return 0 for types it does not
// know.
func Bytes(n int64, size func(msg any) int64) Bound {
	return Bound{unit: unitBytes, limit: n, size: size}
}

// Dynamic bounds the mailbox at fn() pending messages, re-evaluated at each
// post (e.g. the collector's "#shapes + 64"). fn runs on sender goroutines,
// so it must only read state the actor publishes atomically.
func Dynamic(fn func() int) Bound { return Bound{unit: unitMessages, fn: fn} }

// Limit is the bound's current value in its unit.
func (b Bound) Limit() int64 {
	if b.fn != nil {
		return int64(b.fn())
	}
	return b.limit
}

// Unit names what the bound counts: "messages" or "bytes".
func (b Bound) Unit() string {
	if b.unit == unitBytes {
		return "bytes"
	}
	return "messages"
}

func (b Bound) String() string {
	if b.fn != nil {
		return fmt.Sprintf("dynamic(%d %s)", b.Limit(), b.Unit())
	}
	return fmt.Sprintf("%d %s", b.limit, b.Unit())
}

// weight is what msg adds to the bound's load.
func (b Bound) weight(msg any) int64 {
	if b.unit == unitBytes {
		return b.size(msg)
	}
	return 1
}

func (b Bound) validate() error {
	switch {
	case b.unit == 0:
		return errors.New("no mailbox bound: declare one with actors.Count, actors.Bytes or actors.Dynamic")
	case b.unit == unitBytes && b.size == nil:
		return errors.New("actors.Bytes bound without a size function")
	case b.fn == nil && b.limit <= 0:
		return fmt.Errorf("mailbox bound must be positive, got %d", b.limit)
	}
	return nil
}
