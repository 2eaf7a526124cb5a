package api

import (
	"math"
	"strconv"
	"time"
)

// cursorEpoch is 2024-10-09T00:00:00Z, the origin of live cursors (§11.4).
const cursorEpoch = 1728432000

// maxCursorJitter bounds the random step used when the clock has not moved
// past the client's cursor.
const maxCursorJitter = 3600

// nextCursor computes electric-cursor (SHAPE_API §11.4): the end of the
// current long-poll window, so every live request for one URL in a window
// shares a cursor (CDN collapsing), unless that would not move past the
// client's previous cursor, in which case it moves by a random step in
// [1, 3600] so the next URL always differs. jitter must return a value in
// [1, 3600]. A previous cursor within 3600 of MaxInt64 cannot be stepped
// past; the window value is returned then (it still differs from prev).
func nextCursor(now time.Time, timeout time.Duration, prev string, jitter func() int64) string {
	interval := int64(timeout / time.Second)
	if interval <= 0 {
		return "0"
	}
	elapsed := now.Unix() - cursorEpoch
	next := ceilDiv(elapsed, interval) * interval
	p, err := strconv.ParseInt(prev, 10, 64)
	if err != nil {
		p = 0
	}
	if next > p || p > math.MaxInt64-maxCursorJitter {
		return strconv.FormatInt(next, 10)
	}
	return strconv.FormatInt(p+jitter(), 10)
}

// ceilDiv rounds towards +inf for any sign of a (b > 0).
func ceilDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a > 0 {
		q++
	}
	return q
}
