package longpoll

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// checkFor polls fn until it returns nil or the timeout passes.
func checkFor(t *testing.T, timeout time.Duration, fn func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := fn()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestNotifierWakesEveryEarlierWaiterOnce(t *testing.T) {
	t.Parallel()
	var n Notifier
	before := []<-chan struct{}{n.Changed(), n.Changed(), n.Changed()}
	if before[0] != before[1] {
		t.Fatal("waiters before one Notify must share a channel")
	}
	if closed(before[0]) {
		t.Fatal("channel closed before Notify")
	}
	n.Notify()
	for i, ch := range before {
		if !closed(ch) {
			t.Fatalf("waiter %d not woken", i)
		}
	}
	after := n.Changed()
	if closed(after) {
		t.Fatal("a waiter registered after Notify was woken by it")
	}
	n.Notify()
	n.Notify() // a second notify with no new waiter must not panic (double close)
	if !closed(after) {
		t.Fatal("second Notify did not wake the later waiter")
	}
}

// The E1 protocol under concurrency: a producer publishes then notifies; a
// waiter takes the channel then re-reads. The waiter must never end up
// parked on an open channel while the published value is newer than what it
// read.
func TestNotifierNoLostWakeup(t *testing.T) {
	t.Parallel()
	var (
		n     Notifier
		mu    sync.Mutex
		value int
	)
	const rounds = 2000
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 1; i <= rounds; i++ {
			mu.Lock()
			value = i
			mu.Unlock()
			n.Notify()
		}
	}()
	seen := 0
	for seen < rounds {
		ch := n.Changed()
		mu.Lock()
		v := value
		mu.Unlock()
		if v > seen {
			seen = v
			continue
		}
		select {
		case <-ch:
		case <-time.After(10 * time.Second):
			t.Fatalf("lost wake-up: parked at %d", seen)
		}
	}
	<-done
}

func TestWheelNeverEarlyAtMostOneTickLate(t *testing.T) {
	t.Parallel()
	const tick = 20 * time.Millisecond
	w := NewWheel(tick)
	defer w.Stop()
	for _, d := range []time.Duration{0, 5 * time.Millisecond, 25 * time.Millisecond, 60 * time.Millisecond, 130 * time.Millisecond} {
		start := time.Now()
		<-w.After(d)
		got := time.Since(start)
		if got < d {
			t.Errorf("After(%v) fired after %v: early", d, got)
		}
		// One tick of rounding plus generous scheduling slack for a loaded CI box.
		if got > d+tick+200*time.Millisecond {
			t.Errorf("After(%v) fired after %v: more than a tick late", d, got)
		}
	}
}

func TestWheelSharesBucketsAndDropsFiredOnes(t *testing.T) {
	t.Parallel()
	w := NewWheel(time.Hour) // nothing fires during the test
	defer w.Stop()
	a, b := w.After(time.Millisecond), w.After(2*time.Millisecond)
	if a != b {
		t.Fatal("deadlines in one bucket must share a channel")
	}
	c := w.After(3 * time.Hour)
	if c == a || w.Pending() != 2 {
		t.Fatalf("want 2 distinct buckets, have %d", w.Pending())
	}

	w2 := NewWheel(10 * time.Millisecond)
	defer w2.Stop()
	for i := range 50 {
		w2.After(time.Duration(i) * time.Millisecond)
	}
	checkFor(t, 5*time.Second, func() error {
		if p := w2.Pending(); p != 0 {
			return fmt.Errorf("%d buckets still pending", p)
		}
		return nil
	})
}

func TestWheelEarlierDeadlineRearms(t *testing.T) {
	t.Parallel()
	w := NewWheel(10 * time.Millisecond)
	defer w.Stop()
	late := w.After(time.Hour)
	start := time.Now()
	<-w.After(30 * time.Millisecond) // must not wait behind the hour-long bucket
	if time.Since(start) > 2*time.Second {
		t.Fatal("an earlier deadline did not re-arm the timer")
	}
	if closed(late) {
		t.Fatal("the later bucket fired early")
	}
}

func TestWheelStopReleasesEveryWaiter(t *testing.T) {
	t.Parallel()
	w := NewWheel(time.Hour)
	chans := []<-chan struct{}{w.After(time.Minute), w.After(time.Hour), w.After(48 * time.Hour)}
	w.Stop()
	for i, ch := range chans {
		if !closed(ch) {
			t.Fatalf("waiter %d still parked after Stop", i)
		}
	}
	if !closed(w.After(time.Hour)) {
		t.Fatal("After on a stopped wheel must return a closed channel")
	}
	w.Stop() // idempotent
}
