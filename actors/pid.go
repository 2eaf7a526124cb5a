package actors

import "github.com/asynkron/protoactor-go/actor"

// PID addresses an actor. It is protoactor's PID, re-exported so that
// message packages (shapes/protocol) can name actors without importing
// protoactor themselves.
type PID = actor.PID
