package pgwire

import (
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// userTimeoutControl sets TCP_USER_TIMEOUT on the socket before it connects:
// without it a write to a blackholed peer sits in the send queue for the
// kernel's full retransmission time (about 15 minutes), and keepalive probes
// are not sent while data is outstanding.
func userTimeoutControl(timeout time.Duration) func(network, address string, c syscall.RawConn) error {
	if timeout <= 0 {
		return nil
	}
	ms := int(timeout / time.Millisecond)
	return func(network, _ string, c syscall.RawConn) error {
		if network != "tcp" && network != "tcp4" && network != "tcp6" {
			return nil
		}
		var sockErr error
		if err := c.Control(func(fd uintptr) {
			sockErr = unix.SetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_USER_TIMEOUT, ms)
		}); err != nil {
			return err
		}
		return sockErr
	}
}
