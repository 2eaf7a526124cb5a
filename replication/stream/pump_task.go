package stream

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/shapesync/shapesync/actors"
	"github.com/shapesync/shapesync/replication/lsn"
	"github.com/shapesync/shapesync/replication/pgwire"
)

// closeTimeout bounds the polite close of a connection (Terminate, then
// close); after a Kill the socket is already closed and it returns at once.
const closeTimeout = time.Second

// runPump is the replication actor's wal-pump goroutine: connect with the
// replication role, apply the display settings, start streaming and run
// the pump until it fails. Every error names the connection and carries its
// classification (pgwire.WrapConnError), so conn-manager can act on it.
// Batches and the started pump reach the actor through t.Send, tagged with
// t.Epoch; after a Kill they are dropped.
func runPump(cfg ActorConfig) func(t *actors.Task) error {
	return func(t *actors.Task) error {
		ctx := t.Context()
		connCfg, err := pgwire.ParseConnConfig(cfg.DSN, pgwire.RoleReplication, cfg.Dial)
		if err != nil {
			return err // already classified: operator-needed
		}
		wrap := func(err error) error { return pgwire.WrapConnError(pgwire.RoleReplication, connCfg.Host, err) }
		conn, err := pgconn.ConnectConfig(ctx, connCfg)
		if err != nil {
			return wrap(err)
		}
		// Kill closes the socket: that ends a blocked receive; pgconn.Close
		// must never run while the pump uses the connection.
		t.SetCloser(conn.Conn())
		defer func() {
			closeCtx, cancel := context.WithTimeout(context.Background(), closeTimeout)
			defer cancel()
			_ = conn.Close(closeCtx)
		}()

		if err := ApplyDisplaySettings(ctx, conn); err != nil {
			return wrap(err)
		}
		start, err := resumePoint(ctx, conn, cfg.Slot, cfg.StartLSN)
		if err != nil {
			return wrap(err)
		}
		if err := Start(ctx, conn, cfg.Slot, cfg.Publication, start); err != nil {
			return wrap(err)
		}
		settings := ServerSettings{WalSenderTimeout: cfg.WalSenderTimeout}
		epoch := t.Epoch
		pump, err := NewPump(Config{
			Conn:       conn,
			StartAcked: start,
			Deliver:    func(b Batch) { t.Send(&pumpBatch{epoch: epoch, batch: b}) },
			Window:     cfg.Window,

			KeepaliveInterval: settings.KeepaliveInterval(),
			WatchdogTimeout:   settings.WatchdogTimeout(),
		})
		if err != nil {
			return err
		}
		t.Send(&pumpReady{epoch: epoch, pump: pump, start: start})
		return wrap(pump.Run(ctx))
	}
}

// resumePoint is where this connection starts streaming and acknowledging:
// the later of the configured start and the slot's confirmed_flush_lsn.
// Postgres streams from the confirmed position anyway, but the flush
// position the pump reports starts at its StartAcked: from a stale
// StartLSN (a re-spawn without a new setup) it would report a flush older
// than the slot's, which current minor releases ignore, older ones store
// (moving the slot back), and pg_stat_replication shows either way. The
// confirmed position is safe to report: Postgres already holds it. A
// missing slot is left for Start to classify as slot-lost.
func resumePoint(ctx context.Context, conn *pgconn.PgConn, slot string, configured lsn.LSN) (lsn.LSN, error) {
	info, found, err := readSlot(ctx, conn, slot)
	if err != nil || !found {
		return configured, err
	}
	return max(configured, info.confirmedFlush), nil
}
