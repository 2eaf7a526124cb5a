package publication

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/shapesync/shapesync/replication/events"
	"github.com/shapesync/shapesync/replication/pgwire"
	"github.com/shapesync/shapesync/shapes/where"
)

// LockTimeout bounds every lock wait of our DDL (RELIABILITY C7): a
// request blocked by someone else's lock fails fast and is retried instead
// of hanging, and our ACCESS EXCLUSIVE request does not queue every other
// session of the table behind it for long.
const LockTimeout = 5 * time.Second

// setLockTimeoutSQL is LockTimeout in SQL; SET LOCAL ends with the
// transaction, so the pooled session keeps its own setting.
const setLockTimeoutSQL = "SET LOCAL lock_timeout = '5s'"

// Querier is what read-only checks need: a pool, a connection or a
// transaction.
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Conn is what the altering procedures need: a Querier that can begin a
// transaction (*pgx.Conn, *pgxpool.Conn, *pgxpool.Pool).
type Conn interface {
	Querier
	Begin(ctx context.Context) (pgx.Tx, error)
}

// tableStateSQL reads, in one round trip, everything AddTable, RemoveTable
// and CheckTable decide on. $1 publication, $2 schema, $3 name, $4 the OID
// the shape knows. The name is resolved again because the table may have
// been dropped or recreated since the shape looked it up; the OID check
// makes sure we never alter a different table of the same name.
//
// A table counts as published when it is listed explicitly (pg_publication_rel,
// which is also where a partitioned root appears), when the publication is
// FOR ALL TABLES, or when pg_publication_tables lists it (FOR TABLES IN
// SCHEMA; a DBA's choice in manual mode).
const tableStateSQL = `
SELECT
  (SELECT c.oid FROM pg_catalog.pg_class c
     JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = $2 AND c.relname = $3),
  (SELECT c.relreplident::text FROM pg_catalog.pg_class c WHERE c.oid = $4),
  (SELECT c.relkind::text FROM pg_catalog.pg_class c WHERE c.oid = $4),
  p.oid IS NOT NULL,
  coalesce(p.puballtables, false),
  EXISTS (SELECT 1 FROM pg_catalog.pg_publication_rel r WHERE r.prpubid = p.oid AND r.prrelid = $4),
  EXISTS (SELECT 1 FROM pg_catalog.pg_publication_tables pt
           WHERE pt.pubname = $1 AND pt.schemaname = $2 AND pt.tablename = $3)
FROM (SELECT 1) AS one
LEFT JOIN pg_catalog.pg_publication p ON p.pubname = $1`

type tableState struct {
	oid        *uint32 // what the name resolves to now
	replident  *string // of the OID the shape knows
	relkind    *string
	pubExists  bool
	allTables  bool
	explicit   bool // listed in pg_publication_rel
	listedView bool // listed in pg_publication_tables
}

func (s tableState) published() bool { return s.allTables || s.explicit || s.listedView }

func readTableState(ctx context.Context, q Querier, publication string, t *events.Table) (tableState, error) {
	var s tableState
	err := q.QueryRow(ctx, tableStateSQL, publication, t.Schema, t.Name, t.OID).
		Scan(&s.oid, &s.replident, &s.relkind, &s.pubExists, &s.allTables, &s.explicit, &s.listedView)
	return s, err
}

// checkSame turns a table that is gone or replaced, or a missing
// publication, into its typed error.
func (s tableState) checkSame(publication, rel string, t *events.Table) error {
	if s.oid == nil || *s.oid != t.OID || s.replident == nil {
		e := &TableChangedError{Table: rel, OID: t.OID}
		if s.oid != nil && *s.oid != t.OID {
			e.NewOID = *s.oid
		}
		return e
	}
	if !s.pubExists {
		return &PublicationMissingError{Publication: publication}
	}
	return nil
}

// partitionsSQL lists the leaf partitions of a partitioned table that still
// lack REPLICA IDENTITY FULL, in OID order so that concurrent callers lock
// them in the same order (RELIABILITY C7: a fixed order, no deadlocks).
// Changes of a partitioned table are logged by its partitions, so their
// replica identity is the one the stream sees.
const partitionsSQL = `
SELECT n.nspname, c.relname
FROM pg_catalog.pg_partition_tree($1::regclass) pt
JOIN pg_catalog.pg_class c ON c.oid = pt.relid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE pt.isleaf AND c.relkind = 'r' AND c.relreplident <> 'f'
ORDER BY c.oid`

// AddTable makes sure publication publishes t and that t has REPLICA
// IDENTITY FULL (SHAPE_API §22.3), in one transaction whose lock waits are
// bounded by LockTimeout. The publication is changed first, replica
// identity second and only where it is not FULL already: ALTER TABLE …
// REPLICA IDENTITY takes an ACCESS EXCLUSIVE lock even when nothing
// changes (RELIABILITY C7). added reports that the table joined the
// publication in this call; a table already published is not an error.
//
// The caller must apply the straddle guard (Horizon) when added is true:
// transactions that wrote to t before this commit are decoded under the old
// publication and never reach the stream.
func AddTable(ctx context.Context, conn Conn, publication string, t *events.Table) (added bool, err error) {
	pub, rel, err := names(publication, t)
	if err != nil {
		return false, err
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		return false, fmt.Errorf("add table %s to publication %s: begin: %w", rel, pub, err)
	}
	defer func() {
		rollback(tx) // a no-op after Commit; ends the paths that change nothing
		if err != nil {
			err = explain(ctx, conn, err, publication, rel, t)
		}
	}()
	if _, err = tx.Exec(ctx, setLockTimeoutSQL); err != nil {
		return false, fmt.Errorf("add table %s to publication %s: %w", rel, pub, err)
	}
	state, err := readTableState(ctx, tx, publication, t)
	if err != nil {
		return false, fmt.Errorf("add table %s to publication %s: read catalog: %w", rel, pub, err)
	}
	if err = state.checkSame(publication, rel, t); err != nil {
		return false, err
	}

	if !state.published() {
		added, err = addMember(ctx, tx, pub, rel)
		if err != nil {
			return false, err
		}
	}

	targets := []string{}
	if *state.replident != "f" {
		targets = append(targets, rel)
	}
	if state.relkind != nil && *state.relkind == "p" {
		parts, err := partitionsNeedingFull(ctx, tx, t.OID)
		if err != nil {
			return false, fmt.Errorf("add table %s to publication %s: list partitions: %w", rel, pub, err)
		}
		targets = append(targets, parts...)
	}
	for _, target := range targets {
		if _, err = tx.Exec(ctx, "ALTER TABLE "+target+" REPLICA IDENTITY FULL"); err != nil {
			return false, &stepError{statement: "ALTER TABLE … REPLICA IDENTITY FULL", lock: "ACCESS EXCLUSIVE", table: target, err: err}
		}
	}
	if err = tx.Commit(ctx); err != nil {
		return false, fmt.Errorf("add table %s to publication %s: commit: %w", rel, pub, err)
	}
	return added, nil
}

// addMember runs ALTER PUBLICATION … ADD TABLE in a savepoint, so that a
// concurrent add by someone else (duplicate_object) leaves the transaction
// usable for the replica identity step.
func addMember(ctx context.Context, tx pgx.Tx, pub, rel string) (bool, error) {
	sp, err := tx.Begin(ctx)
	if err != nil {
		return false, fmt.Errorf("add table %s to publication %s: savepoint: %w", rel, pub, err)
	}
	_, err = sp.Exec(ctx, "ALTER PUBLICATION "+pub+" ADD TABLE "+rel)
	if sqlState(err) == sqlStateDuplicateObject {
		if rbErr := sp.Rollback(ctx); rbErr != nil {
			return false, fmt.Errorf("add table %s to publication %s: rollback to savepoint: %w", rel, pub, rbErr)
		}
		return false, nil
	}
	if err != nil {
		return false, &stepError{statement: "ALTER PUBLICATION … ADD TABLE", lock: "SHARE UPDATE EXCLUSIVE", table: rel, err: err}
	}
	if err := sp.Commit(ctx); err != nil {
		return false, fmt.Errorf("add table %s to publication %s: release savepoint: %w", rel, pub, err)
	}
	return true, nil
}

func partitionsNeedingFull(ctx context.Context, q Querier, oid uint32) ([]string, error) {
	rows, err := q.Query(ctx, partitionsSQL, oid)
	if err != nil {
		return nil, err
	}
	var out []string
	for rows.Next() {
		var schema, name string
		if err := rows.Scan(&schema, &name); err != nil {
			rows.Close()
			return nil, err
		}
		rel, ok := where.QualifiedName(schema, name)
		if !ok {
			rows.Close()
			return nil, fmt.Errorf("partition name %q.%q cannot be quoted", schema, name)
		}
		out = append(out, rel)
	}
	return out, rows.Err()
}

// RemoveTable drops t from publication when no shape needs it any more.
// removed is false when there was nothing to do: the table is not an
// explicit member, or it is gone (dropping a table removes it from every
// publication), or its name now belongs to a different table, which is
// left alone.
func RemoveTable(ctx context.Context, conn Conn, publication string, t *events.Table) (removed bool, err error) {
	pub, rel, err := names(publication, t)
	if err != nil {
		return false, err
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		return false, fmt.Errorf("drop table %s from publication %s: begin: %w", rel, pub, err)
	}
	defer func() {
		rollback(tx) // a no-op after Commit; ends the paths that change nothing
		if err != nil {
			err = explain(ctx, conn, err, publication, rel, t)
		}
	}()
	if _, err = tx.Exec(ctx, setLockTimeoutSQL); err != nil {
		return false, fmt.Errorf("drop table %s from publication %s: %w", rel, pub, err)
	}
	state, err := readTableState(ctx, tx, publication, t)
	if err != nil {
		return false, fmt.Errorf("drop table %s from publication %s: read catalog: %w", rel, pub, err)
	}
	var changed *TableChangedError
	if err = state.checkSame(publication, rel, t); errors.As(err, &changed) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	if !state.explicit {
		return false, nil
	}
	_, err = tx.Exec(ctx, "ALTER PUBLICATION "+pub+" DROP TABLE "+rel)
	if code := sqlState(err); code == sqlStateUndefinedObject || code == sqlStateUndefinedTable {
		return false, nil // removed or dropped concurrently
	}
	if err != nil {
		return false, &stepError{statement: "ALTER PUBLICATION … DROP TABLE", lock: "SHARE UPDATE EXCLUSIVE", table: rel, err: err}
	}
	if err = tx.Commit(ctx); err != nil {
		return false, fmt.Errorf("drop table %s from publication %s: commit: %w", rel, pub, err)
	}
	return true, nil
}

// names validates and quotes the publication and table names.
func names(publication string, t *events.Table) (pub, rel string, err error) {
	if t == nil {
		return "", "", errors.New("publication: no table given")
	}
	if err := pgwire.ValidatePublicationName(publication); err != nil {
		return "", "", err
	}
	pub, _ = where.QuoteIdent(publication) // valid names always quote
	rel, ok := where.QualifiedName(t.Schema, t.Name)
	if !ok {
		return "", "", fmt.Errorf("table name %q.%q cannot be quoted (empty or contains NUL)", t.Schema, t.Name)
	}
	return pub, rel, nil
}

func quoteOrRaw(name string) string {
	if q, ok := where.QuoteIdent(name); ok {
		return q
	}
	return fmt.Sprintf("%q", name)
}

// rollback ends a transaction that was not committed. It uses its own
// short deadline: the caller's context may be the reason for the failure,
// and a connection left inside a transaction would poison the pool.
func rollback(tx pgx.Tx) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = tx.Rollback(ctx) // on failure pgx closes the connection, which ends the transaction too
}

func sqlState(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code
	}
	return ""
}
