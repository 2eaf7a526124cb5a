package pgwire

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// Class says what the connection manager does about a failure
// (ARCHITECTURE §1.4, error classes table).
type Class int

const (
	// Retryable failures heal by themselves: network trouble, a server
	// shutting down or starting, too many connections. Retry with backoff
	// 1 s → 10 s.
	Retryable Class = iota + 1
	// ReplicationImpossible means this server will not stream to us until its
	// configuration changes (no REPLICATION attribute, wal_level, no WAL
	// senders or slots allowed): enter fallback (G1), retry every 30–60 s.
	ReplicationImpossible
	// OperatorNeeded means nothing can connect until someone fixes the
	// configuration (password, database, host name, TLS): report the reason,
	// retry every 30–60 s, never exit (A9).
	OperatorNeeded
	// SlotLost means the stream's continuity is gone (slot missing or
	// invalidated, publication missing, new system id or timeline): recreate
	// the slot and purge every shape (B1, B2, B12).
	SlotLost
)

func (c Class) String() string {
	switch c {
	case Retryable:
		return "retryable"
	case ReplicationImpossible:
		return "replication-impossible"
	case OperatorNeeded:
		return "operator-needed"
	case SlotLost:
		return "slot-lost"
	}
	return fmt.Sprintf("Class(%d)", int(c))
}

// Diagnosis is the classification of one failure with what an operator can
// read and do about it.
type Diagnosis struct {
	Class Class
	// SQLState is the server's error code, "" when the server did not answer.
	SQLState string
	// Reason says in one line what went wrong.
	Reason string
	// Remedy says what the operator can change; "" when waiting is the cure.
	Remedy string
}

func (d Diagnosis) String() string {
	var b strings.Builder
	b.WriteString(d.Class.String())
	b.WriteString(": ")
	b.WriteString(d.Reason)
	if d.SQLState != "" {
		b.WriteString(" (SQLSTATE ")
		b.WriteString(d.SQLState)
		b.WriteString(")")
	}
	if d.Remedy != "" {
		b.WriteString("; remedy: ")
		b.WriteString(d.Remedy)
	}
	return b.String()
}

// ClassifiedError is a failure already diagnosed by the code that saw it,
// for conditions an error value alone cannot show (a slot whose wal_status is
// 'lost', a publication that does not publish deletes).
type ClassifiedError struct {
	Diagnosis Diagnosis
	Err       error // the cause, may be nil
}

func (e *ClassifiedError) Error() string {
	if e.Err == nil {
		return e.Diagnosis.String()
	}
	return e.Diagnosis.String() + ": " + e.Err.Error()
}

func (e *ClassifiedError) Unwrap() error { return e.Err }

// NewSlotLost reports that slot can no longer continue the stream.
func NewSlotLost(slot, reason string, cause error) *ClassifiedError {
	return &ClassifiedError{Err: cause, Diagnosis: Diagnosis{
		Class:    SlotLost,
		SQLState: sqlState(cause),
		Reason:   fmt.Sprintf("replication slot %q: %s", slot, reason),
		Remedy:   "none needed: the slot is recreated and every shape is purged (clients get 409); if this repeats, raise max_slot_wal_keep_size",
	}}
}

// NewOperatorNeeded reports a configuration problem only an operator can fix.
func NewOperatorNeeded(reason, remedy string, cause error) *ClassifiedError {
	return &ClassifiedError{Err: cause, Diagnosis: Diagnosis{
		Class: OperatorNeeded, SQLState: sqlState(cause), Reason: reason, Remedy: remedy,
	}}
}

func sqlState(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code
	}
	return ""
}

// ConnError names the connection a failure happened on, so that every log
// line and status reason carries the role, application_name, host, SQLSTATE
// and remedy (ARCHITECTURE §1.4).
type ConnError struct {
	Role      Role
	Host      string
	Diagnosis Diagnosis
	Err       error
}

// WrapConnError diagnoses err and attaches the connection it happened on; it
// returns nil for a nil err.
func WrapConnError(role Role, host string, err error) error {
	if err == nil {
		return nil
	}
	return &ConnError{Role: role, Host: host, Diagnosis: Diagnose(err), Err: err}
}

func (e *ConnError) Error() string {
	return fmt.Sprintf("%s connection (application_name=%s) to %s: %v [%s]",
		e.Role, e.Role.ApplicationName(), e.Host, e.Err, e.Diagnosis)
}

func (e *ConnError) Unwrap() error { return e.Err }

// Classify returns the class of err; see Diagnose.
func Classify(err error) Class { return Diagnose(err).Class }

// Diagnose classifies err. A ClassifiedError or ConnError in the chain keeps
// its diagnosis. Otherwise every leaf of the error tree is diagnosed (a
// failed connect joins one error per address tried); if the server answered
// anywhere, its SQLSTATEs decide, because a refusal from the server is
// definite while a client-side failure on another address (TLS refused under
// sslmode=prefer, an unreachable IPv6 address) is not. Among the candidates
// the strongest class wins: slot-lost, operator-needed,
// replication-impossible, retryable. Unknown failures are retryable.
func Diagnose(err error) Diagnosis {
	if err == nil {
		return Diagnosis{Class: Retryable, Reason: "no error"}
	}
	var ce *ClassifiedError
	if errors.As(err, &ce) {
		return ce.Diagnosis
	}
	var conn *ConnError
	if errors.As(err, &conn) {
		return conn.Diagnosis
	}
	t := target{}
	var connectErr *pgconn.ConnectError
	if errors.As(err, &connectErr) && connectErr.Config != nil {
		t = target{user: connectErr.Config.User, database: connectErr.Config.Database}
	}

	var server, client []Diagnosis
	for _, leaf := range leaves(err) {
		var pgErr *pgconn.PgError
		if errors.As(leaf, &pgErr) {
			server = append(server, diagnosePgError(pgErr, t))
			continue
		}
		client = append(client, diagnoseClientError(leaf))
	}
	candidates := server
	if len(candidates) == 0 {
		candidates = client
	}
	best := Diagnosis{Class: Retryable, Reason: err.Error()}
	for i, d := range candidates {
		if i == 0 || rank(d.Class) > rank(best.Class) {
			best = d
		}
	}
	return best
}

func rank(c Class) int {
	switch c {
	case SlotLost:
		return 4
	case OperatorNeeded:
		return 3
	case ReplicationImpossible:
		return 2
	}
	return 1
}

// leaves returns the errors at the ends of err's Unwrap tree; a *PgError is a
// leaf even when it wraps something.
func leaves(err error) []error {
	if _, ok := err.(*pgconn.PgError); ok {
		return []error{err}
	}
	switch e := err.(type) {
	case interface{ Unwrap() []error }:
		var out []error
		for _, inner := range e.Unwrap() {
			if inner != nil {
				out = append(out, leaves(inner)...)
			}
		}
		if len(out) > 0 {
			return out
		}
	case interface{ Unwrap() error }:
		if inner := e.Unwrap(); inner != nil {
			return leaves(inner)
		}
	}
	return []error{err}
}

type target struct{ user, database string }

func (t target) role() string {
	if t.user == "" {
		return "the role in the connection URL"
	}
	return "role " + QuoteIdentifier(t.user)
}

func (t target) roleIdent() string {
	if t.user == "" {
		return "<role>"
	}
	return QuoteIdentifier(t.user)
}

func diagnosePgError(e *pgconn.PgError, t target) Diagnosis {
	d := Diagnosis{Class: Retryable, SQLState: e.Code, Reason: e.Message}
	msg := strings.ToLower(e.Message)
	switch e.Code {
	case "57P01", "57P02", "57P03":
		d.Reason = "the server is shutting down or starting up: " + e.Message
	case "53300":
		// Both "too many clients" and "number of requested standby connections
		// exceeds max_wal_senders" use 53300; only max_wal_senders = 0 is a
		// configuration that never heals. The message is the only place the
		// current value shows; a localized message falls back to retryable.
		switch {
		case strings.Contains(msg, "max_wal_senders") && strings.Contains(msg, "(currently 0)"):
			d.Class = ReplicationImpossible
			d.Remedy = "set max_wal_senders to at least 2 (one for the stream, one for the lock) and restart Postgres"
		case strings.Contains(msg, "max_wal_senders"):
			d.Remedy = "all WAL senders are in use: raise max_wal_senders or stop other replication clients"
		default:
			d.Remedy = "raise max_connections or lower the pool sizes"
		}
	case "53400":
		if strings.Contains(msg, "replication slot") {
			d.Remedy = "all replication slots are in use: raise max_replication_slots or drop unused slots"
		}
	case "55006":
		d.Remedy = "another client is using the replication slot; it is retried until that client lets go"
	case "42501":
		d.Class = ReplicationImpossible
		if strings.Contains(msg, "replication") || strings.Contains(msg, "wal sender") || strings.Contains(msg, "walsender") {
			d.Remedy = fmt.Sprintf("grant REPLICATION to %s: ALTER ROLE %s WITH REPLICATION", t.role(), t.roleIdent())
		} else {
			d.Remedy = fmt.Sprintf("grant %s the privilege the message names (REPLICATION, CREATE on the database, table ownership; SHAPE_API §22.5)", t.role())
		}
	case "55000":
		d.Class = ReplicationImpossible
		switch {
		case strings.Contains(msg, "wal_level"):
			d.Remedy = "set wal_level=logical and restart Postgres"
		case strings.Contains(msg, "max_replication_slots"):
			d.Remedy = "set max_replication_slots to at least 1 and restart Postgres"
		default:
			d.Remedy = "make the server accept logical replication (wal_level=logical, max_replication_slots and max_wal_senders above 0, a primary rather than a standby)"
		}
	case "28P01":
		d.Class = OperatorNeeded
		d.Reason = "password authentication failed: " + e.Message
		d.Remedy = fmt.Sprintf("fix the password of %s in the connection URL", t.role())
	case "28000":
		d.Class = OperatorNeeded
		d.Remedy = fmt.Sprintf("allow %s from this host in pg_hba.conf, or connect with the TLS setting the server requires", t.role())
	case "3D000":
		d.Class = OperatorNeeded
		if t.database != "" {
			d.Remedy = fmt.Sprintf("create database %s or fix the database name in the connection URL", QuoteIdentifier(t.database))
		} else {
			d.Remedy = "create the database or fix the database name in the connection URL"
		}
	case "42704":
		// Reading from a slot or publication that no longer exists: the stream
		// cannot continue where it left off.
		d.Class = SlotLost
		d.Remedy = "none needed: the slot and publication are recreated and every shape is purged (clients get 409)"
	default:
		// Connection exceptions (08), insufficient resources (53), operator
		// intervention (57), system errors (58), internal errors (XX), and
		// anything unknown: retry with backoff.
		if strings.HasPrefix(e.Code, "08") || strings.HasPrefix(e.Code, "53") || strings.HasPrefix(e.Code, "57") {
			d.Reason = "the server refused the connection for now: " + e.Message
		}
	}
	return d
}

func diagnoseClientError(err error) Diagnosis {
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		if dnsErr.IsNotFound {
			return Diagnosis{Class: OperatorNeeded,
				Reason: fmt.Sprintf("host %q cannot be resolved", dnsErr.Name),
				Remedy: "fix the host name in the connection URL or the DNS record"}
		}
		return Diagnosis{Class: Retryable, Reason: "name resolution failed: " + err.Error()}
	}
	var verifyErr *tls.CertificateVerificationError
	var unknownAuth x509.UnknownAuthorityError
	var hostnameErr x509.HostnameError
	var invalidCert x509.CertificateInvalidError
	var recordErr tls.RecordHeaderError
	switch {
	case errors.As(err, &verifyErr), errors.As(err, &unknownAuth), errors.As(err, &hostnameErr), errors.As(err, &invalidCert):
		return Diagnosis{Class: OperatorNeeded,
			Reason: "the server's TLS certificate was not accepted: " + err.Error(),
			Remedy: "give the server's CA in sslrootcert, or use sslmode=require to encrypt without verifying"}
	case errors.As(err, &recordErr):
		return Diagnosis{Class: OperatorNeeded,
			Reason: "the server did not answer in TLS: " + err.Error(),
			Remedy: "check the host and port, or turn TLS off with sslmode=disable"}
	case strings.Contains(err.Error(), "server refused TLS connection"):
		// pgconn's own message (not localized): sslmode=require or verify-*
		// against a server without ssl=on.
		return Diagnosis{Class: OperatorNeeded,
			Reason: "the server refused TLS",
			Remedy: "enable ssl on the server, or allow plain connections with sslmode=prefer or sslmode=disable"}
	case errors.Is(err, context.DeadlineExceeded) || pgconn.Timeout(err):
		return Diagnosis{Class: Retryable, Reason: "timed out: " + err.Error()}
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		return Diagnosis{Class: Retryable, Reason: "network error: " + err.Error()}
	}
	return Diagnosis{Class: Retryable, Reason: err.Error()}
}
