package shape

import (
	"strconv"
	"sync"
	"testing"
	"time"

	"pgregory.net/rapid"
)

func TestHandleFormat(t *testing.T) {
	t.Parallel()
	d := baseDef()
	now := time.UnixMicro(1721812114261433)
	h := NewHandle(&d, now)
	want := strconv.FormatUint(d.Hash(), 10) + "-1721812114261433"
	if h.String() != want {
		t.Fatalf("handle %s, want %s", h, want)
	}
	back, err := ParseHandle(want)
	if err != nil || back != h {
		t.Fatalf("ParseHandle(%s) = %v, %v", want, back, err)
	}
	if h2, err := ParseHandle("3833821-1721812114261433"); err != nil || h2 != (Handle{Hash: 3833821, Micros: 1721812114261433}) {
		t.Fatalf("reference example: %v, %v", h2, err)
	}
}

func TestParseHandleRejects(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{
		"", "-", "1-", "-1", "1", "a-1", "1-a", "1-2-3", "01-2", "1-02", "+1-2", "1-+2", " 1-2", "1-2 ",
		"18446744073709551616-1", "1-9223372036854775808", "1--2", "1_2",
	} {
		if h, err := ParseHandle(bad); err == nil {
			t.Errorf("ParseHandle(%q) = %v, accepted", bad, h)
		}
	}
	if h, err := ParseHandle("0-0"); err != nil || h != (Handle{}) {
		t.Errorf("0-0: %v, %v", h, err)
	}
}

func TestHandleRoundTrip(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(t *rapid.T) {
		h := Handle{Hash: rapid.Uint64().Draw(t, "hash"), Micros: rapid.Int64Min(0).Draw(t, "us")}
		back, err := ParseHandle(h.String())
		if err != nil || back != h {
			t.Fatalf("round trip of %v: %v, %v", h, back, err)
		}
	})
}

// The minter never reissues a handle: its microseconds strictly increase
// even when the clock stalls or goes back, and a restarted minter continues
// after the persisted value.
func TestHandleMinterStrictlyIncreases(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(t *rapid.T) {
		start := rapid.Int64Range(0, 1<<52).Draw(t, "start")
		m := NewHandleMinter(start)
		d := baseDef()
		prev := start
		seen := map[string]bool{}
		clock := rapid.Int64Range(0, 1<<52).Draw(t, "clock")
		for i, n := 0, rapid.IntRange(1, 50).Draw(t, "n"); i < n; i++ {
			clock += rapid.Int64Range(-1000, 1000).Draw(t, "step") // may go back
			if i%7 == 6 {
				m = NewHandleMinter(m.LastMicros()) // restart with the persisted value
			}
			h := m.Mint(&d, time.UnixMicro(clock))
			if h.Micros <= prev {
				t.Fatalf("minted %d after %d", h.Micros, prev)
			}
			if h.Micros < clock {
				t.Fatalf("minted %d before the clock %d", h.Micros, clock)
			}
			if seen[h.String()] {
				t.Fatalf("handle %s reissued", h)
			}
			seen[h.String()] = true
			prev = h.Micros
			if m.LastMicros() != h.Micros {
				t.Fatalf("LastMicros %d, minted %d", m.LastMicros(), h.Micros)
			}
		}
	})
}

func TestHandleMinterConcurrent(t *testing.T) {
	t.Parallel()
	m := NewHandleMinter(0)
	d := baseDef()
	now := time.UnixMicro(1_700_000_000_000_000) // every goroutine sees the same instant
	const workers, each = 4, 200
	out := make(chan int64, workers*each)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				out <- m.Mint(&d, now).Micros
			}
		}()
	}
	wg.Wait()
	close(out)
	seen := map[int64]bool{}
	for us := range out {
		if seen[us] {
			t.Fatalf("microsecond %d minted twice", us)
		}
		seen[us] = true
	}
	if len(seen) != workers*each || m.LastMicros() != now.UnixMicro()+workers*each-1 {
		t.Fatalf("minted %d distinct, last %d", len(seen), m.LastMicros())
	}
}

func FuzzParseHandle(f *testing.F) {
	for _, s := range []string{"3833821-1721812114261433", "0-0", "01-1", "-", "1-2-3", "18446744073709551615-9223372036854775807"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, err := ParseHandle(s)
		if err == nil && h.String() != s {
			t.Fatalf("ParseHandle(%q) = %v, which prints as %q", s, h, h.String())
		}
	})
}
