package snapshot

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// Kind says how a failed snapshot is answered (SHAPE_API §16, §20.6). In
// every case the shape is removed; the kinds differ in what the client and
// the operator are told.
type Kind uint8

const (
	// KindInternal is an unexpected failure: 500 without details, logged.
	KindInternal Kind = iota
	// KindTransient is a known, transient reason: lock timeout, pool
	// exhausted, first row slower than the limit, connection lost, a
	// straddling transaction still open. 503 with retry-after: 10 and
	// electric-internal-known-error: true; the message is the reason.
	KindTransient
	// KindDataException is SQLSTATE class 22 from the snapshot query (an
	// overflow or division by zero in the where clause): 400 under
	// errors.where naming the SQLSTATE and Postgres's message.
	KindDataException
	// KindInvalidColumns is a shape that selects columns the stream cannot
	// carry (generated columns before Postgres 18): 400 under
	// errors.columns.
	KindInvalidColumns
	// KindTableChanged means the table is gone, was recreated, or lost a
	// selected column since the shape was defined: the shape is
	// invalidated (409 for its clients; new requests revalidate).
	KindTableChanged
	// KindSetup means the operator must act: a missing privilege, or manual
	// publishing with the table not set up. 503 naming what is missing.
	KindSetup
	// KindCanceled means the caller's context ended the snapshot (shutdown,
	// shape removed): nobody is waiting for an answer.
	KindCanceled
)

func (k Kind) String() string {
	switch k {
	case KindInternal:
		return "internal"
	case KindTransient:
		return "transient"
	case KindDataException:
		return "data-exception"
	case KindInvalidColumns:
		return "invalid-columns"
	case KindTableChanged:
		return "table-changed"
	case KindSetup:
		return "setup"
	case KindCanceled:
		return "canceled"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Error is every failure Run returns: it names the table, says how to
// answer (Kind) and, for server errors, carries the SQLSTATE.
type Error struct {
	Kind Kind
	// Table is the quoted "schema"."name".
	Table string
	// SQLState is the server's code, "" for failures of our own.
	SQLState string
	// Reason says what went wrong in words a client or operator can act on;
	// for server errors it is Postgres's message.
	Reason string
	Err    error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("snapshot of ")
	b.WriteString(e.Table)
	b.WriteString(": ")
	b.WriteString(e.Reason)
	if e.SQLState != "" {
		b.WriteString(" (SQLSTATE ")
		b.WriteString(e.SQLState)
		b.WriteString(")")
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// KindOf returns the Kind of an *Error in err's chain, KindInternal if
// there is none.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindInternal
}

// sqlStater is what pgconn.PgError and the typed errors of
// replication/publication have in common; matching on the method keeps this
// package from importing another layer-2 package.
type sqlStater interface{ SQLState() string }

// temporary is the conventional "retrying can help" method.
type temporary interface{ Temporary() bool }

// classify wraps err, which happened while doing step, into an *Error for
// table. ctx is the snapshot's own context: once it is done the failure is
// the caller's cancellation, whatever the driver reported.
func classify(ctx context.Context, table, step string, err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	if ctx.Err() != nil {
		return &Error{Kind: KindCanceled, Table: table, Reason: step + ": " + context.Cause(ctx).Error(), Err: err}
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return &Error{Kind: kindOfSQLState(pgErr.Code), Table: table, SQLState: pgErr.Code, Reason: pgErr.Message, Err: err}
	}
	var st sqlStater
	if errors.As(err, &st) {
		// A typed error from a dependency: its message is the reason.
		return &Error{Kind: kindOfSQLState(st.SQLState()), Table: table, SQLState: st.SQLState(), Reason: err.Error(), Err: err}
	}
	var tmp temporary
	if errors.As(err, &tmp) && tmp.Temporary() {
		return &Error{Kind: KindTransient, Table: table, Reason: step + ": " + err.Error(), Err: err}
	}
	if isConnectionFailure(err) {
		return &Error{Kind: KindTransient, Table: table, Reason: step + ": lost the database connection: " + err.Error(), Err: err}
	}
	return &Error{Kind: KindInternal, Table: table, Reason: step + ": " + err.Error(), Err: err}
}

// kindOfSQLState maps a server error to how the snapshot is answered.
func kindOfSQLState(code string) Kind {
	switch {
	case strings.HasPrefix(code, "22"):
		return KindDataException
	case code == "42P01", code == "42703": // undefined_table, undefined_column
		return KindTableChanged
	case code == "42501", code == "55000", code == "42704":
		// insufficient_privilege, manual publishing not set up, publication missing
		return KindSetup
	case code == "55P03", code == "57014", // lock_not_available, query_canceled
		code == "40001", code == "40P01", // serialization_failure, deadlock_detected
		strings.HasPrefix(code, "08"), strings.HasPrefix(code, "53"), strings.HasPrefix(code, "57P"):
		return KindTransient
	}
	return KindInternal
}

// isConnectionFailure reports failures of the connection rather than of the
// statement: the network, a closed connection, a timeout.
func isConnectionFailure(err error) bool {
	var netErr interface{ Timeout() bool }
	var connectErr *pgconn.ConnectError
	return pgconn.Timeout(err) || errors.As(err, &connectErr) || errors.As(err, &netErr) ||
		strings.Contains(err.Error(), "conn closed") || strings.Contains(err.Error(), "unexpected EOF")
}
