package publication

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/shapesync/shapesync/replication/events"
)

// Member is one table listed in a publication (pg_publication_rel).
type Member struct {
	OID    uint32
	Schema string
	Name   string
	// ReplicaIdentity is relreplident: 'd' default, 'n' nothing, 'f' full,
	// 'i' index.
	ReplicaIdentity byte
}

const membersSQL = `
SELECT c.oid, n.nspname, c.relname, c.relreplident::text
FROM pg_catalog.pg_publication_rel r
JOIN pg_catalog.pg_class c ON c.oid = r.prrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE r.prpubid = $1
ORDER BY n.nspname, c.relname`

// Members lists the tables explicitly in publication, ordered by schema and
// name, for the periodic reconciliation (SHAPE_API §22.3).
func Members(ctx context.Context, q Querier, publication string) ([]Member, error) {
	var pubOID uint32
	err := q.QueryRow(ctx, "SELECT oid FROM pg_catalog.pg_publication WHERE pubname = $1", publication).Scan(&pubOID)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, &PublicationMissingError{Publication: publication}
	}
	if err != nil {
		return nil, fmt.Errorf("list members of publication %s: %w", quoteOrRaw(publication), err)
	}
	rows, err := q.Query(ctx, membersSQL, pubOID)
	if err != nil {
		return nil, fmt.Errorf("list members of publication %s: %w", quoteOrRaw(publication), err)
	}
	var out []Member
	for rows.Next() {
		var m Member
		var ident string
		if err := rows.Scan(&m.OID, &m.Schema, &m.Name, &ident); err != nil {
			rows.Close()
			return nil, fmt.Errorf("list members of publication %s: %w", quoteOrRaw(publication), err)
		}
		if ident != "" {
			m.ReplicaIdentity = ident[0]
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list members of publication %s: %w", quoteOrRaw(publication), err)
	}
	return out, nil
}

// Horizon returns a transaction id assigned after every change made so far
// has been assigned its own: call it right after AddTable committed with
// added = true. A snapshot whose xmin is at or above it was taken when
// every transaction that could have written to the table before the ALTER
// had finished, so each of them is visible in it (shapes/snapshot's
// straddle guard).
//
// Why not the xmax of pg_current_snapshot(): xmax is latestCompletedXid+1,
// and a transaction that got its xid (and wrote) before the ALTER committed
// can still have an xid at or above it while nothing newer has completed.
// Such a transaction is decoded under the old publication when it commits,
// so its changes reach neither the stream nor, if it commits after the
// snapshot, the snapshot. An xid assigned now is above all of those; the
// cost is one burnt xid per newly published table.
//
// q must not be inside a transaction that stays open: the xid belongs to
// the transaction that runs the query, and a snapshot's xmin cannot pass a
// transaction that is still running. A pool runs it in its own.
func Horizon(ctx context.Context, q Querier) (uint64, error) {
	var text string
	if err := q.QueryRow(ctx, "SELECT pg_catalog.pg_current_xact_id()::text").Scan(&text); err != nil {
		return 0, fmt.Errorf("read the transaction horizon: %w", err)
	}
	xid, err := strconv.ParseUint(text, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("read the transaction horizon: pg_current_xact_id() = %q: %w", text, err)
	}
	return xid, nil
}

// CheckTable is the manual-mode check (ELECTRIC_MANUAL_TABLE_PUBLISHING):
// it alters nothing and returns a *ManualSetupError naming what the operator
// must still do when t is not published or any relation whose changes the
// stream carries lacks REPLICA IDENTITY FULL.
func CheckTable(ctx context.Context, q Querier, publication string, t *events.Table) error {
	pub, rel, err := names(publication, t)
	if err != nil {
		return err
	}
	state, err := readTableState(ctx, q, publication, t)
	if err != nil {
		return fmt.Errorf("check table %s in publication %s: %w", rel, pub, err)
	}
	if err := state.checkSame(publication, rel, t); err != nil {
		return err
	}
	e := &ManualSetupError{Table: rel, Publication: publication, NotPublished: !state.published()}
	if *state.replident != "f" {
		e.NotFull = append(e.NotFull, rel)
	}
	if state.relkind != nil && *state.relkind == "p" {
		parts, err := partitionsNeedingFull(ctx, q, t.OID)
		if err != nil {
			return fmt.Errorf("check table %s in publication %s: list partitions: %w", rel, pub, err)
		}
		e.NotFull = append(e.NotFull, parts...)
	}
	if e.NotPublished || len(e.NotFull) > 0 {
		return e
	}
	return nil
}
