package builder

import (
	"errors"
	"fmt"

	"github.com/shapesync/shapesync/replication/decode"
	"github.com/shapesync/shapesync/replication/pgwire"
)

// classifyDecodeError gives a decode error the class conn-manager acts on
// (ARCHITECTURE §1.4, error classes): a table without REPLICA IDENTITY FULL
// needs the operator (B13), a transaction past max_txn_size means the slot
// must be recreated past it and the shapes purged (B7c). Anything else
// (a garbled or out-of-protocol frame) is retried: the stream restarts from
// the acknowledged position.
func classifyDecodeError(err error) error {
	var identity *decode.ReplicaIdentityError
	var tooLarge *decode.TxnTooLargeError
	switch {
	case errors.As(err, &identity):
		return pgwire.NewOperatorNeeded("txn-builder: "+err.Error(), identity.Remedy(), err)
	case errors.As(err, &tooLarge):
		return &pgwire.ClassifiedError{Err: err, Diagnosis: pgwire.Diagnosis{
			Class:  pgwire.SlotLost,
			Reason: "txn-builder: " + err.Error(),
			Remedy: "none needed: the slot is recreated past the transaction and every shape is purged (clients get 409); raise ELECTRIC_EXPERIMENTAL_MAX_TXN_SIZE if this repeats",
		}}
	}
	return fmt.Errorf("txn-builder: decoding the replication stream: %w", err)
}
