package api

import (
	"math"
	"strconv"
	"testing"
	"time"

	"pgregory.net/rapid"
)

func TestNextCursorTable(t *testing.T) {
	t.Parallel()
	at := func(sec int64) time.Time { return time.Unix(cursorEpoch+sec, 0) }
	one := func() int64 { return 1 }
	cases := []struct {
		now     time.Time
		timeout time.Duration
		prev    string
		want    string
	}{
		{at(1), 20 * time.Second, "", "20"},
		{at(20), 20 * time.Second, "", "20"},
		{at(21), 20 * time.Second, "garbage", "40"},
		{at(21), 20 * time.Second, "40", "41"}, // not past prev: step
		{at(21), 20 * time.Second, "1000", "1001"},
		{at(21), 20 * time.Second, "-5", "40"},
		{at(5), 0, "7", "0"},
		{at(5), 500 * time.Millisecond, "", "0"}, // whole seconds of the timeout
		{at(5), 1500 * time.Millisecond, "", "5"},
		{at(21), 20 * time.Second, strconv.FormatInt(math.MaxInt64, 10), "40"},
	}
	for _, c := range cases {
		if got := nextCursor(c.now, c.timeout, c.prev, one); got != c.want {
			t.Errorf("nextCursor(%v, %v, %q) = %q; want %q", c.now.Unix()-cursorEpoch, c.timeout, c.prev, got, c.want)
		}
	}
}

// A client that echoes each cursor: for non-decreasing time the cursor never
// goes backwards and changes on every response (RELIABILITY: the 1.6.4
// refetch loop).
func TestNextCursorMonotonic(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(t *rapid.T) {
		timeout := time.Duration(rapid.IntRange(1, 60).Draw(t, "timeout")) * time.Second
		now := time.Unix(cursorEpoch+rapid.Int64Range(-1000, 1e9).Draw(t, "start"), 0)
		jitter := func() int64 { return rapid.Int64Range(1, maxCursorJitter).Draw(t, "jitter") }
		prev := rapid.SampledFrom([]string{"", "0", "x"}).Draw(t, "first")
		last := int64(math.MinInt64)
		for i := range rapid.IntRange(1, 30).Draw(t, "steps") {
			now = now.Add(time.Duration(rapid.Int64Range(0, 90).Draw(t, "advance")) * time.Second)
			cur := nextCursor(now, timeout, prev, jitter)
			v, err := strconv.ParseInt(cur, 10, 64)
			if err != nil {
				t.Fatalf("cursor %q is not an integer", cur)
			}
			if i > 0 && v <= last {
				t.Fatalf("step %d: cursor %d after %d", i, v, last)
			}
			last, prev = v, cur
		}
	})
}
