package publication

import (
	"fmt"
	"strings"
	"time"
)

// The SQLSTATEs the error types report, so that a caller can classify them
// without importing this package (pgconn.PgError has the same method).
const (
	sqlStateLockTimeout      = "55P03" // lock_not_available
	sqlStatePermission       = "42501" // insufficient_privilege
	sqlStateUndefinedTable   = "42P01" // undefined_table
	sqlStateUndefinedObject  = "42704" // undefined_object
	sqlStateDuplicateObject  = "42710" // duplicate_object
	sqlStateNotInPrereqState = "55000" // object_not_in_prerequisite_state
)

// LockTimeoutError reports that our DDL gave up waiting for a table lock
// after LockTimeout (RELIABILITY C7). It is transient: the request that
// needed the table answers 503 and succeeds on retry once the lock is free.
type LockTimeoutError struct {
	Table     string // quoted "schema"."name"
	Statement string // the statement that waited
	Lock      string // the lock mode it needs
	Timeout   time.Duration
	Err       error
}

func (e *LockTimeoutError) Error() string {
	return fmt.Sprintf("%s on table %s waited more than %s for a %s lock on it: another session holds a conflicting lock (a long transaction or DDL on that table); retry once it is released",
		e.Statement, e.Table, e.Timeout, e.Lock)
}

func (e *LockTimeoutError) Unwrap() error { return e.Err }

// SQLState is 55P03 (lock_not_available).
func (e *LockTimeoutError) SQLState() string { return sqlStateLockTimeout }

// Temporary reports that retrying can succeed.
func (e *LockTimeoutError) Temporary() bool { return true }

// PermissionError reports that the connection's role may not make the
// change (SHAPE_API §22.5): it names what to grant.
type PermissionError struct {
	Table       string // quoted "schema"."name"
	Publication string
	Role        string // current_user; "" when it could not be read
	// Missing names each privilege that is lacking, e.g. `ownership of
	// table "public"."items" (owned by "app")`.
	Missing []string
	Remedy  string
	Err     error
}

func (e *PermissionError) Error() string {
	role := "the connection's role"
	if e.Role != "" {
		role = "role " + quoteOrRaw(e.Role)
	}
	missing := "a privilege Postgres requires"
	if len(e.Missing) > 0 {
		missing = strings.Join(e.Missing, " and ")
	}
	msg := fmt.Sprintf("%s may not add table %s to publication %s or set its replica identity: it lacks %s", role, e.Table, quoteOrRaw(e.Publication), missing)
	if e.Remedy != "" {
		msg += "; remedy: " + e.Remedy
	}
	if e.Err != nil {
		msg += " (" + e.Err.Error() + ")"
	}
	return msg
}

func (e *PermissionError) Unwrap() error { return e.Err }

// SQLState is 42501 (insufficient_privilege).
func (e *PermissionError) SQLState() string { return sqlStatePermission }

// ManualSetupError is CheckTable's answer in manual mode
// (ELECTRIC_MANUAL_TABLE_PUBLISHING): what the operator still has to do.
type ManualSetupError struct {
	Table       string // quoted "schema"."name"
	Publication string
	// NotPublished: the table is not a member of the publication.
	NotPublished bool
	// NotFull lists the tables (the table itself, or partitions of a
	// partitioned table) whose replica identity is not FULL.
	NotFull []string
}

func (e *ManualSetupError) Error() string {
	var missing, remedy []string
	pub := quoteOrRaw(e.Publication)
	if e.NotPublished {
		missing = append(missing, fmt.Sprintf("table %s is not in publication %s", e.Table, pub))
		remedy = append(remedy, fmt.Sprintf("ALTER PUBLICATION %s ADD TABLE %s;", pub, e.Table))
	}
	if len(e.NotFull) > 0 {
		missing = append(missing, fmt.Sprintf("replica identity of %s is not FULL", strings.Join(e.NotFull, ", ")))
		for _, t := range e.NotFull {
			remedy = append(remedy, fmt.Sprintf("ALTER TABLE %s REPLICA IDENTITY FULL;", t))
		}
	}
	return fmt.Sprintf("manual table publishing is on and %s; run as the table owner: %s",
		strings.Join(missing, " and "), strings.Join(remedy, " "))
}

// SQLState is 55000 (object_not_in_prerequisite_state).
func (e *ManualSetupError) SQLState() string { return sqlStateNotInPrereqState }

// TableChangedError reports that the table a shape was defined on is gone:
// dropped, or dropped and recreated under the same name (a new OID is a new
// table, RELIABILITY C3). Shapes on it are invalid.
type TableChangedError struct {
	Table string // quoted "schema"."name"
	OID   uint32 // the OID the shape knows
	// NewOID is the OID the name resolves to now; 0 when nothing has it.
	NewOID uint32
}

func (e *TableChangedError) Error() string {
	if e.NewOID == 0 {
		return fmt.Sprintf("table %s (oid %d) no longer exists", e.Table, e.OID)
	}
	return fmt.Sprintf("table %s was dropped and recreated (oid %d, now %d)", e.Table, e.OID, e.NewOID)
}

// SQLState is 42P01 (undefined_table).
func (e *TableChangedError) SQLState() string { return sqlStateUndefinedTable }

// PublicationMissingError reports that the publication does not exist; the
// replication stream cannot continue either (pgwire classifies 42704 as
// slot-lost).
type PublicationMissingError struct {
	Publication string
}

func (e *PublicationMissingError) Error() string {
	return fmt.Sprintf("publication %s does not exist", quoteOrRaw(e.Publication))
}

// SQLState is 42704 (undefined_object).
func (e *PublicationMissingError) SQLState() string { return sqlStateUndefinedObject }
