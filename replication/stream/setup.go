package stream

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/shapesync/shapesync/replication/lsn"
	"github.com/shapesync/shapesync/replication/pgwire"
)

// System is what IDENTIFY_SYSTEM reports. The connection manager compares
// SystemID and Timeline with the stored ones to detect a different database
// behind the same URL (B12).
type System struct {
	SystemID string
	Timeline int32
	XLogPos  lsn.LSN
	DBName   string
}

// IdentifySystem runs IDENTIFY_SYSTEM on a replication connection.
func IdentifySystem(ctx context.Context, conn *pgconn.PgConn) (System, error) {
	r, err := pglogrepl.IdentifySystem(ctx, conn)
	if err != nil {
		return System{}, fmt.Errorf("IDENTIFY_SYSTEM: %w", err)
	}
	return System{SystemID: r.SystemID, Timeline: r.Timeline, XLogPos: lsn.LSN(r.XLogPos), DBName: r.DBName}, nil
}

// ServerSettings are the server facts the stream depends on.
type ServerSettings struct {
	// VersionNum is server_version_num, e.g. 150018.
	VersionNum int
	// WalSenderTimeout is wal_sender_timeout; 0 means the server never
	// times a silent client out.
	WalSenderTimeout time.Duration
}

const (
	maxKeepaliveInterval = 15 * time.Second
	minWatchdogTimeout   = 60 * time.Second
)

// KeepaliveInterval is min(wal_sender_timeout/3, 15 s): standby status
// updates go out at least this often, paused or not (B4).
func (s ServerSettings) KeepaliveInterval() time.Duration {
	if s.WalSenderTimeout <= 0 {
		return maxKeepaliveInterval
	}
	return min(s.WalSenderTimeout/3, maxKeepaliveInterval)
}

// WatchdogTimeout is max(2 × wal_sender_timeout, 60 s): nothing from the
// server for this long while reading means the connection is dead.
func (s ServerSettings) WatchdogTimeout() time.Duration {
	return max(2*s.WalSenderTimeout, minWatchdogTimeout)
}

// ReadServerSettings reads server_version_num and wal_sender_timeout. It
// runs a simple-protocol query, so it works on the replication connection
// (replication=database) and on a normal one.
func ReadServerSettings(ctx context.Context, conn *pgconn.PgConn) (ServerSettings, error) {
	rows, err := simpleQuery(ctx, conn,
		"SELECT current_setting('server_version_num'), setting, coalesce(unit, '') FROM pg_catalog.pg_settings WHERE name = 'wal_sender_timeout'")
	if err != nil {
		return ServerSettings{}, fmt.Errorf("read server settings: %w", err)
	}
	if len(rows) != 1 || len(rows[0]) != 3 {
		return ServerSettings{}, fmt.Errorf("read server settings: got %d rows", len(rows))
	}
	version, err := strconv.Atoi(string(rows[0][0]))
	if err != nil {
		return ServerSettings{}, fmt.Errorf("read server settings: server_version_num %q: %w", rows[0][0], err)
	}
	n, err := strconv.ParseInt(string(rows[0][1]), 10, 64)
	if err != nil || n < 0 {
		return ServerSettings{}, fmt.Errorf("read server settings: wal_sender_timeout %q is not a non-negative integer", rows[0][1])
	}
	unit := map[string]time.Duration{"ms": time.Millisecond, "s": time.Second, "min": time.Minute}[string(rows[0][2])]
	if unit == 0 {
		return ServerSettings{}, fmt.Errorf("read server settings: wal_sender_timeout has unknown unit %q", rows[0][2])
	}
	return ServerSettings{VersionNum: version, WalSenderTimeout: time.Duration(n) * unit}, nil
}

// ApplyDisplaySettings runs pgwire.DisplaySettings on conn, before
// START_REPLICATION, so pgoutput renders values as the snapshots do
// (SHAPE_API §12.6).
func ApplyDisplaySettings(ctx context.Context, conn *pgconn.PgConn) error {
	if _, err := simpleQuery(ctx, conn, strings.Join(pgwire.DisplaySettings(), "; ")); err != nil {
		return fmt.Errorf("apply display settings: %w", err)
	}
	return nil
}

// Start sends START_REPLICATION SLOT "<slot>" LOGICAL <start>
// (proto_version '1', publication_names '"<pub>"') and returns once the
// server answered CopyBothResponse; from then on only a Pump may use conn.
// A refusal because the slot is missing or invalidated comes back as a
// pgwire slot-lost error (B1, B2), decided from pg_replication_slots, not
// from the message text.
func Start(ctx context.Context, conn *pgconn.PgConn, slot, pub string, start lsn.LSN) error {
	if err := pgwire.ValidateSlotName(slot); err != nil {
		return err
	}
	if err := pgwire.ValidatePublicationName(pub); err != nil {
		return err
	}
	cmd := fmt.Sprintf("START_REPLICATION SLOT %s LOGICAL %s (proto_version '1', publication_names %s)",
		pgwire.QuoteIdentifier(slot), start, pgwire.QuoteLiteral(pgwire.QuoteIdentifier(pub)))
	// pglogrepl.StartReplication returns on an ErrorResponse without reading
	// the ReadyForQuery behind it, which would answer the next query on this
	// connection; this loop reads to the end.
	conn.Frontend().SendQuery(&pgproto3.Query{String: cmd})
	if err := conn.Frontend().Flush(); err != nil {
		return fmt.Errorf("send START_REPLICATION: %w", err)
	}
	var refusal *pgconn.PgError
	for {
		msg, err := conn.ReceiveMessage(ctx)
		if err != nil {
			return fmt.Errorf("START_REPLICATION: %w", err)
		}
		switch msg := msg.(type) {
		case *pgproto3.CopyBothResponse:
			return nil
		case *pgproto3.ErrorResponse:
			refusal = pgconn.ErrorResponseToPgError(msg)
		case *pgproto3.ReadyForQuery:
			if refusal == nil {
				return errors.New("START_REPLICATION: the server ended the command without streaming")
			}
			return startRefused(ctx, conn, slot, refusal)
		case *pgproto3.NoticeResponse, *pgproto3.ParameterStatus, *pgproto3.CommandComplete:
		default:
			return fmt.Errorf("START_REPLICATION: unexpected %T", msg)
		}
	}
}

func startRefused(ctx context.Context, conn *pgconn.PgConn, slot string, refusal *pgconn.PgError) error {
	err := fmt.Errorf("START_REPLICATION: %w", refusal)
	if refusal.Code != "55000" && refusal.Code != "42704" {
		return err
	}
	info, found, qerr := readSlot(ctx, conn, slot)
	switch {
	case qerr != nil:
		return errors.Join(err, qerr)
	case !found:
		return pgwire.NewSlotLost(slot, "does not exist", err)
	case info.walStatus == "lost":
		return pgwire.NewSlotLost(slot, "was invalidated (wal_status = 'lost'): it retained more WAL than max_slot_wal_keep_size allows", err)
	}
	return err
}

// simpleQuery runs sql with the simple query protocol (the only one a
// replication connection speaks) and returns the rows of its last result.
func simpleQuery(ctx context.Context, conn *pgconn.PgConn, sql string) ([][][]byte, error) {
	results, err := conn.Exec(ctx, sql).ReadAll()
	if err != nil {
		return nil, err
	}
	if len(results) == 0 {
		return nil, nil
	}
	return results[len(results)-1].Rows, nil
}
