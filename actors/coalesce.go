package actors

import (
	"sync"

	"github.com/asynkron/protoactor-go/actor"
)

// Coalescable is a message whose newer value replaces an older pending one
// with the same key (a status Condition per name, a Touch per handle, an
// AckLSN).
type Coalescable interface {
	CoalesceKey() string
}

// coalesceSlots holds, per key, the latest value not yet handed to the
// actor. One set per incarnation, so a re-spawned actor starts empty.
type coalesceSlots struct {
	mu      sync.Mutex
	pending map[string]any
}

func newCoalesceSlots() *coalesceSlots {
	return &coalesceSlots{pending: make(map[string]any)}
}

// offer stores msg as the latest value for key and reports whether a token
// must be posted (true when none is pending for key).
func (s *coalesceSlots) offer(key string, msg any) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, pending := s.pending[key]
	s.pending[key] = msg
	return !pending
}

// take hands out the latest value for key and clears the slot.
func (s *coalesceSlots) take(key string) (any, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.pending[key]
	delete(s.pending, key)
	return v, ok
}

// coalesced is the token that sits in the mailbox for a key. The kit's
// receiver middleware swaps it for the latest value before the actor sees
// it, so actors never handle tokens. The token names its slot set, so a
// token that reaches a newer incarnation (PIDs re-resolve by id) still
// finds its value.
type coalesced struct {
	slots  *coalesceSlots
	key    string
	weight int64
}

// Coalesce sends msg to pid so that at most one message per
// msg.CoalesceKey() is pending there; a newer value replaces the pending
// one in place (it is handled at the position of the first). It never
// blocks or sheds. A pid the kit did not spawn gets msg as a plain send.
func (k *Kit) Coalesce(pid *PID, msg Coalescable) {
	inc := k.reg.current(pid.Id)
	if inc == nil {
		k.sys.Root.Send(pid, msg)
		return
	}
	key := msg.CoalesceKey()
	if inc.slots.offer(key, msg) {
		k.sys.Root.Send(pid, &coalesced{slots: inc.slots, key: key, weight: inc.gauge.bound.weight(msg)})
	}
}

// uncoalesce replaces a token in env by its latest value; false when the
// slot was already emptied (nothing to deliver).
func uncoalesce(env *actor.MessageEnvelope) bool {
	c, ok := env.Message.(*coalesced)
	if !ok {
		return true
	}
	v, ok := c.slots.take(c.key)
	if !ok {
		return false
	}
	env.Message = v
	return true
}
