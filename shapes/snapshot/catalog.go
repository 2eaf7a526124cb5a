package snapshot

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/shapesync/shapesync/replication/events"
	"github.com/shapesync/shapesync/shapes/where"
)

// Querier is what catalog lookups and snapshot queries need from a
// connection: a pool, a connection or a transaction.
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// ErrTableNotFound is what LookupTable's error wraps when no relation has
// the name (errors.Is finds it; the message names the table).
var ErrTableNotFound = errors.New("table not found")

// NotATableError is returned when the name exists but is not an ordinary or
// partitioned table (a view, a sequence, …).
type NotATableError struct {
	Schema, Name string
	Kind         string
}

func (e *NotATableError) Error() string {
	return fmt.Sprintf("%q.%q is not a table (relkind %s); shapes can only be defined on ordinary or partitioned tables", e.Schema, e.Name, e.Kind)
}

const lookupRelationSQL = `
SELECT c.oid, c.relkind::text, c.relreplident::text
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND c.relname = $2`

const lookupColumnsSQL = `
SELECT a.attname, a.atttypid, a.atttypmod, a.attndims, a.attnotnull, a.attgenerated::text,
       t.typname, t.typcategory = 'A' AND t.typelem <> 0, coalesce(et.typname, ''),
       CASE WHEN a.attcollation IN (0, 100) THEN ''
            WHEN co.collprovider = 'c' THEN coalesce(co.collcollate, co.collname)
            ELSE 'icu:' || co.collname END,
       CASE WHEN coalesce(et.typtype, t.typtype) IN ('d', 'e') THEN coalesce(base.typname, '') ELSE '' END,
       coalesce(base.typtype::text, '')
FROM pg_catalog.pg_attribute a
JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_catalog.pg_type et ON et.oid = t.typelem AND t.typcategory = 'A'
LEFT JOIN pg_catalog.pg_collation co ON co.oid = a.attcollation
LEFT JOIN LATERAL (
	WITH RECURSIVE chain(oid, depth) AS (
		SELECT coalesce(et.oid, t.oid), 0
		UNION ALL
		SELECT b.typbasetype, chain.depth + 1
		FROM chain JOIN pg_catalog.pg_type b ON b.oid = chain.oid
		WHERE b.typtype = 'd' AND chain.depth < 32)
	SELECT bt.typname, bt.typtype
	FROM chain JOIN pg_catalog.pg_type bt ON bt.oid = chain.oid
	WHERE bt.typtype <> 'd'
	LIMIT 1) base ON true
WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum`

// lookupDatabaseSQL reads the database's default text rules (Postgres 15:
// datlocprovider 'i' means ICU, whose locale is daticulocale).
const lookupDatabaseSQL = `
SELECT CASE WHEN datlocprovider = 'i' THEN 'icu:' || coalesce(daticulocale, '') ELSE datcollate END,
       CASE WHEN datlocprovider = 'i' THEN 'icu:' || coalesce(daticulocale, '') ELSE datctype END
FROM pg_catalog.pg_database WHERE datname = current_database()`

const lookupPrimaryKeySQL = `
SELECT a.attname
FROM pg_catalog.pg_index i
CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
WHERE i.indrelid = $1 AND i.indisprimary
ORDER BY k.ord`

// LookupTable reads what a shape needs to know about a table from the
// catalog. Names are bound as parameters, never spliced into SQL.
func LookupTable(ctx context.Context, q Querier, schema, name string) (*events.Table, error) {
	t := &events.Table{Schema: schema, Name: name}
	var kind, ident string
	err := q.QueryRow(ctx, lookupRelationSQL, schema, name).Scan(&t.OID, &kind, &ident)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("%s: %w", displayName(schema, name), ErrTableNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("look up table %q.%q: %w", schema, name, err)
	}
	if kind != "r" && kind != "p" {
		return nil, &NotATableError{Schema: schema, Name: name, Kind: kind}
	}
	t.ReplicaIdentityFull = ident == "f"
	if err := q.QueryRow(ctx, lookupDatabaseSQL).Scan(&t.DefaultCollation, &t.CType); err != nil {
		return nil, fmt.Errorf("read the database's collation and ctype: %w", err)
	}

	rows, err := q.Query(ctx, lookupColumnsSQL, t.OID)
	if err != nil {
		return nil, fmt.Errorf("read columns of %q.%q: %w", schema, name, err)
	}
	index := map[string]int{}
	for rows.Next() {
		var c events.TableColumn
		var generated, elem, baseKind string
		var dims int32
		if err := rows.Scan(&c.Name, &c.TypeOID, &c.TypeMod, &dims, &c.NotNull, &generated, &c.TypeName, &c.IsArray, &elem, &c.Collation, &c.BaseTypeName, &baseKind); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read columns of %q.%q: %w", schema, name, err)
		}
		c.Dims = int(dims)
		c.IsEnum = baseKind == "e"
		if generated != "" {
			c.Generated = generated[0]
		}
		switch {
		case c.IsArray && c.Dims == 0:
			// No dimensions in the catalog (CREATE TABLE AS, int2vector,
			// oidvector): SHAPE_API §13 describes the column by its own type
			// name, which is not always "_" + the element's (int2vector).
			c.IsArray = false
		case c.IsArray && elem != "":
			c.TypeName = elem
		}
		index[c.Name] = len(t.Columns)
		t.Columns = append(t.Columns, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read columns of %q.%q: %w", schema, name, err)
	}

	rows, err = q.Query(ctx, lookupPrimaryKeySQL, t.OID)
	if err != nil {
		return nil, fmt.Errorf("read primary key of %q.%q: %w", schema, name, err)
	}
	for rows.Next() {
		var col string
		if err := rows.Scan(&col); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read primary key of %q.%q: %w", schema, name, err)
		}
		i, ok := index[col]
		if !ok {
			rows.Close()
			return nil, fmt.Errorf("read primary key of %q.%q: column %q is not among its columns", schema, name, col)
		}
		t.PrimaryKey = append(t.PrimaryKey, i)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read primary key of %q.%q: %w", schema, name, err)
	}
	return t, nil
}

// IsUndefinedTable reports an error saying the table is gone (42P01).
func IsUndefinedTable(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "42P01"
}

// pgPublishesStoredGenerated is the first server_version_num whose pgoutput
// can publish stored generated columns (publish_generated_columns, 18).
const pgPublishesStoredGenerated = 180000

// CheckGeneratedColumns rejects a shape whose columns (indexes into
// t.Columns) include generated columns the replication stream cannot carry
// (SHAPE_API §5.3, RELIABILITY C8): every generated column before Postgres
// 18, virtual ones on any version. serverVersion is server_version_num; 0
// means unknown and is treated as older than 18. The message is the
// reference's, under errors.columns.
func CheckGeneratedColumns(t *events.Table, columns []int, serverVersion int) error {
	var names []string
	for _, ci := range columns {
		if ci < 0 || ci >= len(t.Columns) {
			continue // SelectSQL reports bad indexes
		}
		c := t.Columns[ci]
		switch {
		case c.Generated == 0:
		case c.Generated == 's' && serverVersion >= pgPublishesStoredGenerated:
		default:
			names = append(names, c.Name)
		}
	}
	if len(names) == 0 {
		return nil
	}
	return &Error{
		Kind:  KindInvalidColumns,
		Table: displayName(t.Schema, t.Name),
		Reason: "The following columns are generated and cannot be included in the shape: " + strings.Join(names, ", ") +
			". You can exclude them from the shape by explicitly listing which columns to fetch in the 'columns' query param",
	}
}

// displayName is "schema"."name" for messages; names that cannot be quoted
// (empty, NUL) are shown Go-quoted instead.
func displayName(schema, name string) string {
	if rel, ok := where.QualifiedName(schema, name); ok {
		return rel
	}
	return fmt.Sprintf("%q.%q", schema, name)
}
