package api

import (
	"errors"
	"sort"
	"strconv"
	"strings"
	"time"
)

// ErrShapeInvalidated is wrapped by backend errors that mean "this
// incarnation is gone"; the handler answers 409 must-refetch.
var ErrShapeInvalidated = errors.New("shape invalidated")

// InvalidRequestError is a 400 "Invalid request" (SHAPE_API §5.6): Errors maps
// a parameter name to its messages, in the protocol's exact texts.
type InvalidRequestError struct {
	Errors map[string][]string
}

func (e *InvalidRequestError) Error() string {
	fields := make([]string, 0, len(e.Errors))
	for field := range e.Errors {
		fields = append(fields, field)
	}
	sort.Strings(fields)
	s := "invalid request:"
	for _, field := range fields {
		s += " " + field + ": " + strings.Join(e.Errors[field], ", ") + ";"
	}
	return s
}

// InvalidParam builds a one-field InvalidRequestError.
func InvalidParam(field string, messages ...string) *InvalidRequestError {
	return &InvalidRequestError{Errors: map[string][]string{field: messages}}
}

// TableNotFound is the 400 for a relation that does not exist or is not an
// ordinary or partitioned table (SHAPE_API §5.2), with the exact text.
func TableNotFound(schema, table string) *InvalidRequestError {
	return InvalidParam("table", `Table "`+schema+`"."`+table+`" does not exist. If the table name contains capitals or special characters you must quote it.`)
}

// UnavailableError is a 503 (SHAPE_API §16). The JSON body holds the
// non-empty fields among Code, ErrorText (key "error") and Message.
type UnavailableError struct {
	Code       string
	ErrorText  string
	Message    string
	RetryAfter time.Duration // sent as whole seconds, at least 1
	// KnownError adds electric-internal-known-error: true (admission,
	// known snapshot failures).
	KnownError bool
}

func (e *UnavailableError) Error() string {
	s := "service unavailable"
	for _, part := range []string{e.Code, e.ErrorText, e.Message} {
		if part != "" {
			s += ": " + part
		}
	}
	return s + " (retry after " + strconv.Itoa(e.retryAfterSeconds()) + "s)"
}

func (e *UnavailableError) retryAfterSeconds() int {
	s := int(e.RetryAfter / time.Second)
	if s < 1 {
		s = 1
	}
	return s
}

// Unavailable is a generic 503 {"message": message}.
func Unavailable(message string, retryAfter time.Duration) *UnavailableError {
	return &UnavailableError{Message: message, RetryAfter: retryAfter}
}

// DatabaseUnreachable is the 503 for a database that cannot be reached.
func DatabaseUnreachable() *UnavailableError {
	return &UnavailableError{Code: "database_unreachable", ErrorText: "Database is unreachable", RetryAfter: 10 * time.Second}
}

// CannotVerifyShape is the 503 for a table check without a DB connection.
func CannotVerifyShape() *UnavailableError {
	return Unavailable("Cannot connect to the database to verify the shape. Please try again later.", time.Second)
}

// ShapeCreateFailed is the 503 for a shape that could not be created.
func ShapeCreateFailed() *UnavailableError {
	return Unavailable("Failed to create shape, please retry", time.Second)
}

// SnapshotFailed is the 503 for a snapshot that failed for a known,
// transient reason (lock timeout, pool exhausted, slow first row).
func SnapshotFailed(reason string) *UnavailableError {
	return &UnavailableError{Message: reason, RetryAfter: 10 * time.Second, KnownError: true}
}
