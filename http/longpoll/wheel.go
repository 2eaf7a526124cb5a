package longpoll

import (
	"container/heap"
	"sync"
	"time"
)

// DefaultTick is the bucket width ARCHITECTURE §1.4 asks for.
const DefaultTick = 100 * time.Millisecond

// Wheel hands out deadline channels rounded up to a coarse tick. All
// deadlines that fall into one tick share one channel and one timer entry;
// a single runtime timer is armed for the earliest pending bucket. There is
// nothing to cancel: a waiter that stops caring simply stops selecting on its
// channel, and the bucket is dropped when it fires.
type Wheel struct {
	tick  time.Duration
	start time.Time // monotonic base of bucket numbers

	mu      sync.Mutex
	buckets map[int64]chan struct{}
	order   bucketHeap // bucket numbers in buckets, earliest first
	timer   *time.Timer
	armed   int64 // bucket the timer is armed for; 0 = not armed
	stopped bool
}

// NewWheel returns a wheel with the given bucket width (DefaultTick when
// tick <= 0).
func NewWheel(tick time.Duration) *Wheel {
	if tick <= 0 {
		tick = DefaultTick
	}
	return &Wheel{tick: tick, start: time.Now(), buckets: make(map[int64]chan struct{})}
}

// After returns a channel that is closed no earlier than d from now and at
// most one tick later (plus scheduling delay). After Stop it returns a closed
// channel.
func (w *Wheel) After(d time.Duration) <-chan struct{} {
	if d < 0 {
		d = 0
	}
	// Round up so the channel never fires before the requested deadline; +1
	// because bucket b fires at start+b*tick and b must lie strictly after now
	// for a zero d to still wait for the next tick boundary.
	b := int64(time.Since(w.start)+d)/int64(w.tick) + 1
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stopped {
		ch := make(chan struct{})
		close(ch)
		return ch
	}
	ch, ok := w.buckets[b]
	if !ok {
		ch = make(chan struct{})
		w.buckets[b] = ch
		heap.Push(&w.order, b)
		w.armLocked()
	}
	return ch
}

// Pending reports how many buckets are waiting to fire.
func (w *Wheel) Pending() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.buckets)
}

// Stop fires every pending bucket at once and makes later After calls return
// closed channels. Parked requests therefore end promptly at shutdown.
func (w *Wheel) Stop() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stopped {
		return
	}
	w.stopped = true
	if w.timer != nil {
		w.timer.Stop()
	}
	for b, ch := range w.buckets {
		close(ch)
		delete(w.buckets, b)
	}
	w.order = w.order[:0]
	w.armed = 0
}

// armLocked points the single timer at the earliest pending bucket.
func (w *Wheel) armLocked() {
	if len(w.order) == 0 {
		return
	}
	first := w.order[0]
	if w.armed == first {
		return
	}
	wait := time.Until(w.start.Add(time.Duration(first) * w.tick))
	if w.timer == nil {
		w.timer = time.AfterFunc(wait, w.fire)
	} else {
		w.timer.Reset(wait)
	}
	w.armed = first
}

// fire closes every bucket whose time has come and re-arms for the next.
// It is idempotent, so a Reset racing with a running callback is harmless.
func (w *Wheel) fire() {
	now := int64(time.Since(w.start)) / int64(w.tick)
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stopped {
		return
	}
	for len(w.order) > 0 && w.order[0] <= now {
		b := heap.Pop(&w.order).(int64)
		close(w.buckets[b])
		delete(w.buckets, b)
	}
	w.armed = 0
	w.armLocked()
}

type bucketHeap []int64

func (h bucketHeap) Len() int           { return len(h) }
func (h bucketHeap) Less(i, j int) bool { return h[i] < h[j] }
func (h bucketHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *bucketHeap) Push(x any)        { *h = append(*h, x.(int64)) }
func (h *bucketHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
