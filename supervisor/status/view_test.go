package status

import (
	"testing"

	"github.com/shapesync/shapesync/replication/lsn"
)

// Positions never go backwards: a restarted component re-reporting where it
// started must not make /v1/status claim less than was already durable.
func TestViewPositionsOnlyGrow(t *testing.T) {
	t.Parallel()
	v := NewView()
	v.SetDurable(100)
	v.SetDurable(40)
	v.SetAcked(90)
	v.SetAcked(0)
	v.SetReceived(120)
	v.SetReceived(110)
	r, d, a := v.Positions()
	if r != lsn.LSN(120) || d != lsn.LSN(100) || a != lsn.LSN(90) {
		t.Fatalf("positions = %v %v %v; want 0/78 0/64 0/5A", r, d, a)
	}
}
