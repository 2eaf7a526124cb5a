package stream

import (
	"testing"
	"time"
)

// An idle but healthy server stays quiet: Postgres pings only a client it
// has not heard from for half of wal_sender_timeout, and the pump reports
// more often. So once nothing has arrived for a keepalive interval the pump
// asks for a reply, and a server that answers keeps the stream alive past
// the watchdog. Catches: status updates that never request a reply (the
// watchdog then kills a healthy idle stream every 2 × wal_sender_timeout).
func TestIdleStreamAsksForRepliesAndOutlivesTheWatchdog(t *testing.T) {
	t.Parallel()
	const watchdog = 150 * time.Millisecond
	h := startPump(t, Config{StartAcked: 0x10, KeepaliveInterval: 10 * time.Millisecond, WatchdogTimeout: watchdog})
	began := time.Now()
	requested := 0
	for time.Since(began) < 4*watchdog {
		st := h.srv.nextStatus()
		if st.replyRequested {
			requested++
			h.srv.send(keepalive(0x10, false)) // what Postgres does at once
		}
		select {
		case err := <-h.runErr:
			t.Fatalf("Run ended after %s on an idle server that answers replies: %v", time.Since(began), err)
		default:
		}
	}
	if requested == 0 {
		t.Fatal("no status update asked for a reply while the server was silent")
	}
}
