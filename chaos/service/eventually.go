package service

import (
	"testing"
	"time"
)

// Eventually calls fn every poll until it returns nil, and fails t with
// fn's last error when timeout passes first. fn runs at least once, even
// with a zero timeout. Like t.Fatalf, it must be called from the test's
// goroutine.
func Eventually(t testing.TB, timeout, poll time.Duration, fn func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := fn()
		if err == nil {
			return
		}
		left := time.Until(deadline)
		if left <= 0 {
			t.Fatalf("condition not met within %v: %v", timeout, err)
			return // for a testing.TB whose Fatalf does not stop the goroutine
		}
		time.Sleep(min(poll, left))
	}
}
