package stream

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/shapesync/shapesync/replication/lsn"
	"github.com/shapesync/shapesync/replication/pgwire"
)

// publishAll is what our publication must publish; narrower and the stream
// silently misses changes (B3).
const publishAll = "insert, update, delete, truncate"

// EnsurePublication creates the publication pub with no tables (tables are
// added per shape, SHAPE_API §22.3). conn is the replication connection or
// an admin connection; serverVersionNum decides whether generated columns
// are published (Postgres 18+).
//
// created is true when the publication is new, and also when an existing one
// had been narrowed and was widened again to insert, update, delete and
// truncate: either way the slot's past stream cannot be trusted and the
// caller must recreate the slot (EnsureSlot's publicationCreated) and purge.
// An existing publication is fine. Without the privilege to create it, the
// publication must already exist and publish all four operations; otherwise
// the error is operator-needed and names the fix.
func EnsurePublication(ctx context.Context, conn *pgconn.PgConn, pub string, serverVersionNum int) (created bool, err error) {
	if err := pgwire.ValidatePublicationName(pub); err != nil {
		return false, err
	}
	cmd := "CREATE PUBLICATION " + pgwire.QuoteIdentifier(pub)
	if serverVersionNum >= 180000 {
		cmd += " WITH (publish_generated_columns = stored)"
	}
	_, err = simpleQuery(ctx, conn, cmd)
	var pgErr *pgconn.PgError
	switch {
	case err == nil:
		return true, nil
	case errors.As(err, &pgErr) && pgErr.Code == "42710": // duplicate_object
		return widenPublication(ctx, conn, pub)
	case errors.As(err, &pgErr) && pgErr.Code == "42501": // insufficient_privilege
		missing, found, qerr := publicationGaps(ctx, conn, pub)
		switch {
		case qerr != nil:
			return false, errors.Join(fmt.Errorf("create publication %q: %w", pub, err), qerr)
		case !found:
			return false, pgwire.NewOperatorNeeded(
				fmt.Sprintf("publication %q does not exist and the role may not create it", pub),
				fmt.Sprintf("GRANT CREATE ON DATABASE to the role, or create it: CREATE PUBLICATION %s", pgwire.QuoteIdentifier(pub)), err)
		case len(missing) > 0:
			return false, narrowedError(pub, missing, err)
		}
		return false, nil
	}
	return false, fmt.Errorf("create publication %q: %w", pub, err)
}

// widenPublication makes an existing publication publish all four
// operations; changed reports that it had to.
func widenPublication(ctx context.Context, conn *pgconn.PgConn, pub string) (changed bool, err error) {
	missing, found, err := publicationGaps(ctx, conn, pub)
	if err != nil {
		return false, err
	}
	if !found {
		return false, fmt.Errorf("publication %q: reported as existing but not in pg_publication (dropped concurrently?)", pub)
	}
	if len(missing) == 0 {
		return false, nil
	}
	_, err = simpleQuery(ctx, conn, fmt.Sprintf("ALTER PUBLICATION %s SET (publish = %s)",
		pgwire.QuoteIdentifier(pub), pgwire.QuoteLiteral(publishAll)))
	if err != nil {
		return false, narrowedError(pub, missing, err)
	}
	return true, nil
}

func narrowedError(pub string, missing []string, cause error) error {
	return pgwire.NewOperatorNeeded(
		fmt.Sprintf("publication %q does not publish %s", pub, strings.Join(missing, ", ")),
		fmt.Sprintf("ALTER PUBLICATION %s SET (publish = %s)", pgwire.QuoteIdentifier(pub), pgwire.QuoteLiteral(publishAll)), cause)
}

// publicationGaps lists the operations pub does not publish.
func publicationGaps(ctx context.Context, conn *pgconn.PgConn, pub string) (missing []string, found bool, err error) {
	rows, err := simpleQuery(ctx, conn,
		"SELECT pubinsert, pubupdate, pubdelete, pubtruncate FROM pg_catalog.pg_publication WHERE pubname = "+pgwire.QuoteLiteral(pub))
	if err != nil {
		return nil, false, fmt.Errorf("read publication %q: %w", pub, err)
	}
	if len(rows) == 0 {
		return nil, false, nil
	}
	for i, op := range []string{"insert", "update", "delete", "truncate"} {
		if string(rows[0][i]) != "t" {
			missing = append(missing, op)
		}
	}
	return missing, true, nil
}

// Slot is the replication slot the stream reads from.
type Slot struct {
	Name string
	// Start is where acknowledging starts: the confirmed_flush_lsn of an
	// existing slot, the consistent point of a new one. Never 0; it is the
	// Pump's StartAcked.
	Start lsn.LSN
	// Created reports a new slot: whatever was stored before no longer
	// continues this stream, so the caller purges every shape.
	Created bool
	// Reason says why the slot is new, for the log.
	Reason string
}

// EnsureSlot makes slot exist as a pgoutput logical slot on this database
// (SHAPE_API §22.2 step 4) using the replication connection conn. An
// existing slot is reused, unless publicationCreated (a new publication
// means the slot's history cannot be trusted) or the slot was invalidated;
// then it is dropped and created again. A slot of another kind, plugin or
// database under our name is an operator-needed error: it is not ours to
// drop. Creation waits for transactions running at that moment to end; the
// caller bounds that with ctx and warns meanwhile (A7).
func EnsureSlot(ctx context.Context, conn *pgconn.PgConn, slot string, publicationCreated bool) (Slot, error) {
	recreate := ""
	if publicationCreated {
		recreate = reasonPublicationNew
	}
	return ensureSlot(ctx, conn, slot, recreate)
}

// reasonPublicationNew is why a slot is recreated after its publication
// was created or widened.
const reasonPublicationNew = "the publication was new, so the existing slot's stream cannot be trusted"

// ensureSlot is EnsureSlot with the reason to recreate an existing slot
// ("" reuses it when it is valid).
func ensureSlot(ctx context.Context, conn *pgconn.PgConn, slot, recreate string) (Slot, error) {
	if err := pgwire.ValidateSlotName(slot); err != nil {
		return Slot{}, err
	}
	info, found, err := readSlot(ctx, conn, slot)
	if err != nil {
		return Slot{}, err
	}
	if !found {
		return createSlot(ctx, conn, slot, "the slot did not exist")
	}
	if info.slotType != "logical" || info.plugin != "pgoutput" || !info.sameDatabase {
		return Slot{}, pgwire.NewOperatorNeeded(
			fmt.Sprintf("replication slot %q exists but is a %s slot (plugin %q) on another database or plugin than ours", slot, info.slotType, info.plugin),
			fmt.Sprintf("drop it (SELECT pg_drop_replication_slot(%s)) or choose another ELECTRIC_REPLICATION_STREAM_ID", pgwire.QuoteLiteral(slot)), nil)
	}
	var reason string
	switch {
	case recreate != "":
		reason = recreate
	case info.walStatus == "lost":
		reason = "the existing slot was invalidated (wal_status = 'lost'); raise max_slot_wal_keep_size if this repeats"
	case info.confirmedFlush == 0:
		reason = "the existing slot has no confirmed_flush_lsn"
	default:
		return Slot{Name: slot, Start: info.confirmedFlush}, nil
	}
	if _, err := simpleQuery(ctx, conn, "DROP_REPLICATION_SLOT "+pgwire.QuoteIdentifier(slot)); err != nil {
		return Slot{}, fmt.Errorf("drop replication slot %q (%s): %w", slot, reason, err)
	}
	return createSlot(ctx, conn, slot, reason)
}

func createSlot(ctx context.Context, conn *pgconn.PgConn, slot, reason string) (Slot, error) {
	r, err := pglogrepl.ParseCreateReplicationSlot(conn.Exec(ctx,
		"CREATE_REPLICATION_SLOT "+pgwire.QuoteIdentifier(slot)+" LOGICAL pgoutput NOEXPORT_SNAPSHOT"))
	if err != nil {
		return Slot{}, fmt.Errorf("create replication slot %q: %w", slot, err)
	}
	start, err := lsn.ParseLSN(r.ConsistentPoint)
	if err != nil {
		return Slot{}, fmt.Errorf("create replication slot %q: consistent point: %w", slot, err)
	}
	if start == 0 {
		return Slot{}, fmt.Errorf("create replication slot %q: consistent point is 0/0", slot)
	}
	return Slot{Name: slot, Start: start, Created: true, Reason: reason}, nil
}

type slotInfo struct {
	slotType       string
	plugin         string
	sameDatabase   bool
	confirmedFlush lsn.LSN
	walStatus      string
}

// readSlot reads slot's row of pg_replication_slots with a simple query, so
// it works on the replication connection too. slot is a validated name,
// quoted as a literal.
func readSlot(ctx context.Context, conn *pgconn.PgConn, slot string) (slotInfo, bool, error) {
	rows, err := simpleQuery(ctx, conn, "SELECT slot_type, coalesce(plugin, ''), coalesce(database = current_database(), false), "+
		"coalesce(confirmed_flush_lsn::text, ''), coalesce(wal_status, '') FROM pg_catalog.pg_replication_slots WHERE slot_name = "+
		pgwire.QuoteLiteral(slot))
	if err != nil {
		return slotInfo{}, false, fmt.Errorf("read replication slot %q: %w", slot, err)
	}
	if len(rows) == 0 {
		return slotInfo{}, false, nil
	}
	r := rows[0]
	info := slotInfo{slotType: string(r[0]), plugin: string(r[1]), sameDatabase: string(r[2]) == "t", walStatus: string(r[4])}
	if s := string(r[3]); s != "" {
		if info.confirmedFlush, err = lsn.ParseLSN(s); err != nil {
			return slotInfo{}, false, fmt.Errorf("read replication slot %q: confirmed_flush_lsn: %w", slot, err)
		}
	}
	return info, true, nil
}
