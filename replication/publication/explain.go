package publication

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/shapesync/shapesync/replication/events"
)

// stepError records which DDL statement failed and the lock it needed, so
// that explain can name them.
type stepError struct {
	statement string
	lock      string
	table     string // quoted
	err       error
}

func (e *stepError) Error() string { return e.statement + " on " + e.table + ": " + e.err.Error() }
func (e *stepError) Unwrap() error { return e.err }

// explain turns the failure of a DDL step into the typed error an operator
// can act on. It runs after the transaction was rolled back, because the
// ownership questions need a working transaction.
func explain(ctx context.Context, q Querier, err error, publication, rel string, t *events.Table) error {
	var step *stepError
	if !errors.As(err, &step) {
		return err
	}
	switch sqlState(step.err) {
	case sqlStateLockTimeout:
		return &LockTimeoutError{Table: step.table, Statement: step.statement, Lock: step.lock, Timeout: LockTimeout, Err: step.err}
	case sqlStatePermission:
		return permissionError(ctx, q, publication, rel, step)
	case sqlStateUndefinedTable:
		return &TableChangedError{Table: rel, OID: t.OID}
	}
	return fmt.Errorf("publication %s: %w", quoteOrRaw(publication), step)
}

// ownershipSQL asks who owns the relation that failed ($1, a quoted name
// bound as text and resolved by to_regclass) and the publication ($2), and
// whether the current role has the owners' privileges.
const ownershipSQL = `
SELECT current_user::text,
  (SELECT pg_catalog.pg_has_role(current_user, c.relowner, 'USAGE') FROM pg_catalog.pg_class c WHERE c.oid = pg_catalog.to_regclass($1)),
  (SELECT pg_catalog.pg_get_userbyid(c.relowner)::text FROM pg_catalog.pg_class c WHERE c.oid = pg_catalog.to_regclass($1)),
  (SELECT pg_catalog.pg_has_role(current_user, p.pubowner, 'USAGE') FROM pg_catalog.pg_publication p WHERE p.pubname = $2),
  (SELECT pg_catalog.pg_get_userbyid(p.pubowner)::text FROM pg_catalog.pg_publication p WHERE p.pubname = $2)`

func permissionError(ctx context.Context, q Querier, publication, rel string, step *stepError) error {
	e := &PermissionError{Table: rel, Publication: publication, Err: step}
	var tableOK, pubOK *bool
	var tableOwner, pubOwner *string
	if err := q.QueryRow(ctx, ownershipSQL, step.table, publication).Scan(&e.Role, &tableOK, &tableOwner, &pubOK, &pubOwner); err != nil {
		e.Remedy = "grant the role ownership of the table and the publication (SHAPE_API §22.5), or set ELECTRIC_MANUAL_TABLE_PUBLISHING=true and publish the table yourself"
		return e
	}
	me := quoteOrRaw(e.Role)
	var remedies []string
	if tableOK != nil && !*tableOK {
		owner := "another role"
		if tableOwner != nil {
			owner = quoteOrRaw(*tableOwner)
		}
		e.Missing = append(e.Missing, fmt.Sprintf("ownership of table %s (owned by %s)", step.table, owner))
		remedies = append(remedies, fmt.Sprintf("ALTER TABLE %s OWNER TO %s (or GRANT %s TO %s)", step.table, me, owner, me))
	}
	if pubOK != nil && !*pubOK {
		owner := "another role"
		if pubOwner != nil {
			owner = quoteOrRaw(*pubOwner)
		}
		e.Missing = append(e.Missing, fmt.Sprintf("ownership of publication %s (owned by %s)", quoteOrRaw(publication), owner))
		remedies = append(remedies, fmt.Sprintf("ALTER PUBLICATION %s OWNER TO %s", quoteOrRaw(publication), me))
	}
	if len(remedies) == 0 {
		remedies = append(remedies, "grant the privilege Postgres names in the message (SHAPE_API §22.5)")
	}
	e.Remedy = strings.Join(remedies, "; ") + "; or set ELECTRIC_MANUAL_TABLE_PUBLISHING=true and publish the table yourself"
	return e
}
