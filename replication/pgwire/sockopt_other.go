//go:build !linux

package pgwire

import (
	"syscall"
	"time"
)

// userTimeoutControl does nothing outside Linux: TCP_USER_TIMEOUT is a Linux
// socket option; keepalive still applies.
func userTimeoutControl(time.Duration) func(network, address string, c syscall.RawConn) error {
	return nil
}
