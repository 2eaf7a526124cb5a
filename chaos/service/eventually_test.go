package service_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/shapesync/shapesync/chaos/service"
)

func TestEventuallyReturnsOnceTheConditionHolds(t *testing.T) {
	t.Parallel()
	calls := 0
	service.Eventually(t, 5*time.Second, time.Millisecond, func() error {
		calls++
		if calls < 3 {
			return fmt.Errorf("call %d", calls)
		}
		return nil
	})
	if calls != 3 {
		t.Errorf("fn called %d times, want 3 (it stops at the first nil)", calls)
	}
}

func TestEventuallyFailsWithTheLastError(t *testing.T) {
	t.Parallel()
	tb := &fakeTB{TB: t}
	calls := 0
	returned := false
	start := time.Now()
	tb.run(func(tb testing.TB) {
		service.Eventually(tb, 100*time.Millisecond, 10*time.Millisecond, func() error {
			calls++
			return fmt.Errorf("attempt %d: not yet", calls)
		})
		returned = true
	})
	elapsed := time.Since(start)
	msgs := tb.fatalMessages()
	want := fmt.Sprintf("condition not met within 100ms: attempt %d: not yet", calls)
	if len(msgs) != 1 || msgs[0] != want {
		t.Fatalf("fatal messages %q, want [%q]", msgs, want)
	}
	if returned {
		t.Error("Eventually returned normally after failing")
	}
	if calls < 2 || elapsed < 100*time.Millisecond || elapsed > 2*time.Second {
		t.Errorf("%d calls in %v: want polling for about 100ms", calls, elapsed)
	}
}

func TestEventuallyCallsOnceWithZeroTimeout(t *testing.T) {
	t.Parallel()
	tb := &fakeTB{TB: t}
	calls := 0
	tb.run(func(tb testing.TB) {
		service.Eventually(tb, 0, time.Second, func() error { calls++; return errors.New("no") })
	})
	if msgs := tb.fatalMessages(); calls != 1 || len(msgs) != 1 || !strings.HasSuffix(msgs[0], ": no") {
		t.Errorf("zero timeout: %d calls, fatal %q; want 1 call and the error", calls, msgs)
	}
}

func TestFreePortIsBindable(t *testing.T) {
	t.Parallel()
	port, err := service.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	if port <= 0 || port > 65535 {
		t.Fatalf("FreePort = %d", port)
	}
	l, err := netListen(port)
	if err != nil {
		t.Fatalf("port %d from FreePort is not bindable: %v", port, err)
	}
	l.Close()
}
