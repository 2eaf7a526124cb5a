package stream

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/shapesync/shapesync/replication/lsn"
	"github.com/shapesync/shapesync/replication/pgwire"
)

// SetupConfig is what one replication setup runs with.
type SetupConfig struct {
	// DSN is the direct database URL; Setup connects with the replication
	// role.
	DSN  string
	Dial pgwire.DialOptions
	// Slot and Publication name the stream (pgwire.SlotName,
	// pgwire.PublicationName).
	Slot, Publication string
	// RecreateSlot drops and creates the slot again even when it could be
	// reused: the stream lost continuity (slot invalidated, a transaction
	// past max_txn_size).
	RecreateSlot bool
	// Reason says why RecreateSlot, for the slot's SlotReason and the log.
	Reason string
}

// SetupInfo is what the replication setup learned and decided (SHAPE_API
// §22.2 steps 1, 3 and 4); the wiring hands it to conn-manager as its
// SetupResult, field for field.
type SetupInfo struct {
	// IDENTIFY_SYSTEM, compared with the stored ones by the continuity
	// check (B12).
	SystemID string
	Timeline int32
	XLogPos  lsn.LSN
	DBName   string
	// Server facts the stream depends on.
	ServerVersion    int
	WalSenderTimeout time.Duration
	// Names in use.
	Publication string
	Slot        string
	// StartLSN is where the stream and acknowledging start: the slot's
	// confirmed_flush_lsn, or a new slot's consistent point. Never 0.
	StartLSN lsn.LSN
	// SlotCreated reports a new slot (stored shapes no longer continue the
	// stream and are purged); SlotReason says why it is new.
	SlotCreated bool
	SlotReason  string
	// PublicationCreated reports a new or widened publication.
	PublicationCreated bool
}

// Setup runs the replication setup on a replication connection of its own
// and closes it: IDENTIFY_SYSTEM, server settings, publication, then the
// slot — created when missing, and recreated when the publication is new
// (its history cannot be trusted) or cfg.RecreateSlot asks for it. Creating
// a slot waits for the transactions running at that moment; ctx bounds the
// wait (A7). Errors name the connection and carry their classification
// (pgwire.WrapConnError; pgwire.Diagnose reads it).
func Setup(ctx context.Context, cfg SetupConfig) (SetupInfo, error) {
	connCfg, err := pgwire.ParseConnConfig(cfg.DSN, pgwire.RoleReplication, cfg.Dial)
	if err != nil {
		return SetupInfo{}, err // already classified: operator-needed
	}
	wrap := func(err error) error { return pgwire.WrapConnError(pgwire.RoleReplication, connCfg.Host, err) }
	conn, err := pgconn.ConnectConfig(ctx, connCfg)
	if err != nil {
		return SetupInfo{}, wrap(err)
	}
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.Background(), closeTimeout)
		defer cancel()
		_ = conn.Close(closeCtx)
	}()

	sys, err := IdentifySystem(ctx, conn)
	if err != nil {
		return SetupInfo{}, wrap(err)
	}
	settings, err := ReadServerSettings(ctx, conn)
	if err != nil {
		return SetupInfo{}, wrap(err)
	}
	pubCreated, err := EnsurePublication(ctx, conn, cfg.Publication, settings.VersionNum)
	if err != nil {
		return SetupInfo{}, wrap(err)
	}
	recreate := ""
	switch {
	case pubCreated:
		recreate = reasonPublicationNew
	case cfg.RecreateSlot && cfg.Reason != "":
		recreate = "the stream lost continuity: " + cfg.Reason
	case cfg.RecreateSlot:
		recreate = "the stream lost continuity"
	}
	slot, err := ensureSlot(ctx, conn, cfg.Slot, recreate)
	if err != nil {
		return SetupInfo{}, wrap(err)
	}
	return SetupInfo{
		SystemID: sys.SystemID, Timeline: sys.Timeline, XLogPos: sys.XLogPos, DBName: sys.DBName,
		ServerVersion: settings.VersionNum, WalSenderTimeout: settings.WalSenderTimeout,
		Publication: cfg.Publication, Slot: slot.Name, StartLSN: slot.Start,
		SlotCreated: slot.Created, SlotReason: slot.Reason, PublicationCreated: pubCreated,
	}, nil
}
