package decode

import (
	"errors"
	"fmt"
	"strings"

	"github.com/shapesync/shapesync/replication/events"
	"github.com/shapesync/shapesync/replication/lsn"
)

// ErrProtocol marks a message sequence pgoutput v1 never produces: a change
// outside a transaction, a nested BEGIN, a COMMIT that does not match its
// BEGIN, an unknown relation, a tuple that does not fit its relation.
var ErrProtocol = errors.New("pgoutput protocol violation")

func protocolErrorf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrProtocol, fmt.Sprintf(format, args...))
}

// ReplicaIdentityError reports a change that arrived without the complete old
// row: the table's REPLICA IDENTITY is not FULL (B13, SHAPE_API §22.2). The
// change cannot be applied as if it were whole, so the stream must stop until
// the operator fixes the table and its shapes are invalidated.
type ReplicaIdentityError struct {
	// Relation is the table as the stream last announced it.
	Relation *events.Relation
	// Kind is the change that lacked the old row (Update or Delete).
	Kind events.ChangeKind
	// Got says what came instead: "no old row" or "only the key columns".
	Got string
}

func (e *ReplicaIdentityError) Error() string {
	return fmt.Sprintf("%s on %s arrived with %s (replica identity %s), but shapesync needs the complete old row: run %s",
		e.Kind, QualifiedName(e.Relation), e.Got, replicaIdentityName(e.Relation.ReplicaIdentity), e.Remedy())
}

// Remedy is the statement that fixes the table.
func (e *ReplicaIdentityError) Remedy() string {
	return "ALTER TABLE " + QualifiedName(e.Relation) + " REPLICA IDENTITY FULL"
}

// TxnTooLargeError reports a transaction whose row data passed the configured
// maximum (ELECTRIC_EXPERIMENTAL_MAX_TXN_SIZE, B7c). The connection manager
// classifies it as slot-lost: recreate the slot past the transaction and purge.
type TxnTooLargeError struct {
	Xid       uint32
	CommitLSN lsn.LSN
	// Limit is the configured maximum; Size the bytes seen when it was passed.
	Limit int64
	Size  int64
}

func (e *TxnTooLargeError) Error() string {
	return fmt.Sprintf("transaction %d (commit %s) has more than %d bytes of row data (%d so far): raise ELECTRIC_EXPERIMENTAL_MAX_TXN_SIZE or split the transaction",
		e.Xid, e.CommitLSN, e.Limit, e.Size)
}

// QualifiedName renders "schema"."table" with identifier quoting, the form an
// operator can paste into psql.
func QualifiedName(r *events.Relation) string {
	return quoteIdent(r.Schema) + "." + quoteIdent(r.Name)
}

func quoteIdent(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

func replicaIdentityName(c byte) string {
	switch c {
	case 'd':
		return "DEFAULT"
	case 'n':
		return "NOTHING"
	case 'f':
		return "FULL"
	case 'i':
		return "USING INDEX"
	}
	return fmt.Sprintf("%q", rune(c))
}
