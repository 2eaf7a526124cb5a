package service

import (
	"bytes"
	"fmt"
	"sync"
)

// outputRing keeps the last cap bytes written to it: a chatty service must
// not grow the test's memory, and the end of the log is what explains a
// failure. Safe for concurrent use (stdout and stderr copy in parallel).
type outputRing struct {
	mu      sync.Mutex
	buf     []byte // len(buf) == capacity
	start   int    // index of the oldest byte
	size    int    // bytes held
	dropped int64  // bytes overwritten since the start
	// lineCut is whether the last dropped byte ended a line, so the oldest
	// byte held starts one.
	lineCut bool
}

func newOutputRing(capacity int) *outputRing {
	if capacity <= 0 {
		capacity = 1
	}
	return &outputRing{buf: make([]byte, capacity)}
}

// Write never fails, so a service's output never blocks on the harness.
func (r *outputRing) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := len(p)
	c := len(r.buf)
	if len(p) >= c {
		switch {
		case len(p) > c:
			r.lineCut = p[len(p)-c-1] == '\n'
		case r.size > 0:
			r.lineCut = r.buf[(r.start+r.size-1)%c] == '\n'
		}
		r.dropped += int64(r.size + len(p) - c)
		copy(r.buf, p[len(p)-c:])
		r.start, r.size = 0, c
		return n, nil
	}
	if over := r.size + len(p) - c; over > 0 {
		r.dropped += int64(over)
		r.lineCut = r.buf[(r.start+over-1)%c] == '\n'
		r.start = (r.start + over) % c
		r.size -= over
	}
	end := (r.start + r.size) % c
	k := copy(r.buf[end:], p)
	copy(r.buf, p[k:])
	r.size += len(p)
	return n, nil
}

// String returns the bytes held, oldest first. When older output was
// dropped it says how much and starts at a full line.
func (r *outputRing) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]byte, 0, r.size)
	first := min(r.size, len(r.buf)-r.start)
	out = append(out, r.buf[r.start:r.start+first]...)
	out = append(out, r.buf[:r.size-first]...)
	if r.dropped == 0 {
		return string(out)
	}
	dropped := r.dropped
	if i := bytes.IndexByte(out, '\n'); i >= 0 && !r.lineCut {
		dropped += int64(i + 1)
		out = out[i+1:]
	}
	return fmt.Sprintf("[… %d earlier bytes dropped …]\n%s", dropped, out)
}
