package longpoll

import "sync"

// Notifier broadcasts "something changed" to every current waiter of one
// shape. The zero value is ready to use; a Notifier must not be copied after
// first use.
//
// Protocol (RELIABILITY E1): a waiter takes the channel from Changed BEFORE
// it re-reads the state it waits on, and then waits on the channel only if
// that state shows nothing new. A producer publishes its new state BEFORE it
// calls Notify. Whatever the interleaving, a change made after the waiter's
// Changed call either is visible to its re-read or closes its channel.
type Notifier struct {
	mu sync.Mutex
	ch chan struct{} // nil until someone waits: a Notify with no waiters allocates nothing
}

// Changed returns the channel that the next Notify closes.
func (n *Notifier) Changed() <-chan struct{} {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.ch == nil {
		n.ch = make(chan struct{})
	}
	return n.ch
}

// Notify wakes every waiter that called Changed before it. Later callers of
// Changed get a fresh channel.
func (n *Notifier) Notify() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.ch != nil {
		close(n.ch)
		n.ch = nil
	}
}
