package status

import (
	"time"

	"github.com/shapesync/shapesync/shapes/protocol"
)

// State is the service state shown by /v1/health and /v1/status.
type State string

// The states of SHAPE_API §19.
const (
	Starting State = "starting"
	Waiting  State = "waiting"
	Live     State = "live"
	Fallback State = "fallback"
)

// Condition names, re-exported from shapes/protocol where reporters find
// them.
const (
	CondStoreOpen         = protocol.CondStoreOpen
	CondMetadataLoaded    = protocol.CondMetadataLoaded
	CondDatabase          = protocol.CondDatabase
	CondLock              = protocol.CondLock
	CondReplication       = protocol.CondReplication
	CondShapes            = protocol.CondShapes
	CondReplicationUsable = protocol.CondReplicationUsable
)

// required lists the conditions that must all hold for the service to be
// live, in the order their absence is explained.
func required() []string {
	return []string{CondStoreOpen, CondMetadataLoaded, CondDatabase, CondLock, CondReplication, CondShapes}
}

// Report is the latest word on one condition.
type Report struct {
	OK     bool
	Reason string // why it does not hold, and what the operator can do
	Since  time.Time
}

// Derive computes the state and the reasons behind it from the latest
// reports. A condition never reported counts as not holding.
func Derive(reports map[string]Report) (State, []string) {
	var reasons []string
	missing := map[string]bool{}
	for _, name := range required() {
		r, ok := reports[name]
		if ok && r.OK {
			continue
		}
		missing[name] = true
		reason := name + ": not yet reported"
		if ok && r.Reason != "" {
			reason = name + ": " + r.Reason
		}
		reasons = append(reasons, reason)
	}
	if len(missing) == 0 {
		return Live, nil
	}
	if r, ok := reports[CondReplicationUsable]; ok && !r.OK && !missing[CondDatabase] && !missing[CondStoreOpen] && !missing[CondMetadataLoaded] {
		return Fallback, append(reasons, CondReplicationUsable+": "+r.Reason)
	}
	// The database answers and the lock holder has reported that someone
	// else holds the lock: waiting, not starting.
	if r, ok := reports[CondLock]; ok && !r.OK && !missing[CondDatabase] {
		return Waiting, reasons
	}
	return Starting, reasons
}
