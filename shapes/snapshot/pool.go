package snapshot

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/shapesync/shapesync/replication/pgwire"
)

// cancelDeadlineDelay is how long a canceled query may take to stop after
// the cancel request before the socket is cut.
const cancelDeadlineDelay = 3 * time.Second

// ConfigurePool prepares the snapshot pool's configuration:
//
//   - AfterConnect runs pgwire's display settings on every new connection
//     (after any AfterConnect already set), so snapshot values are rendered
//     exactly as the replication connection renders them (SHAPE_API §12.6).
//     They are session settings: every transaction on the connection, the
//     snapshot included, runs under them.
//   - A canceled context (the first-row timeout, an abandoned snapshot)
//     sends a cancel request and waits for the server to stop the query,
//     instead of pgx's default of cutting the socket at once: the query
//     ends on the server, the transaction is rolled back and the connection
//     goes back to the pool instead of being replaced. The socket is cut only
//     if the server has not answered within cancelDeadlineDelay.
//
// The caller still applies the connection role (pgwire.ApplyRole with
// pgwire.RoleSnapshot) and the pool sizes.
func ConfigurePool(cfg *pgxpool.Config) {
	settings := strings.Join(pgwire.DisplaySettings(), "; ")
	prev := cfg.AfterConnect
	cfg.AfterConnect = func(ctx context.Context, conn *pgx.Conn) error {
		if prev != nil {
			if err := prev(ctx, conn); err != nil {
				return err
			}
		}
		// One simple-protocol round trip for all of them.
		if err := conn.PgConn().Exec(ctx, settings).Close(); err != nil {
			return fmt.Errorf("apply display settings: %w", err)
		}
		return nil
	}
	cfg.ConnConfig.BuildContextWatcherHandler = func(c *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.CancelRequestContextWatcherHandler{Conn: c, DeadlineDelay: cancelDeadlineDelay}
	}
}
