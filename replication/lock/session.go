package lock

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/shapesync/shapesync/actors"
	"github.com/shapesync/shapesync/replication/pgwire"
)

// Mode says what kind of session holds the lock.
type Mode string

const (
	// ModeReplication: a replication=database connection (a walsender).
	ModeReplication Mode = "replication"
	// ModePlain: a plain session, because the server refuses replication
	// connections for this role.
	ModePlain Mode = "plain"
)

// ErrHeartbeatsMissed ends a session whose heartbeats came back too late
// too often: the connection may still work, but nobody can tell whether the
// server still sees it, so the lock is treated as lost.
var ErrHeartbeatsMissed = errors.New("lock connection: heartbeats missed")

// Messages from the session goroutine to the actor.
type (
	waiting struct {
		epoch  actors.Epoch
		holder uint32 // backend pid of the session holding the lock; 0 if unknown
	}
	acquired struct {
		epoch   actors.Epoch
		mode    Mode
		backend uint32 // our backend's pid
		why     string // why a plain session was used
	}
	heartbeat struct {
		epoch   actors.Epoch
		at      time.Time
		took    time.Duration
		misses  int
		backend uint32
	}
)

// nextMisses counts consecutive missed heartbeats: an answer that took
// longer than timeout is one miss per timeout it overran, a timely answer
// clears the count.
func nextMisses(misses int, took, timeout time.Duration) int {
	late := int(took / timeout)
	if late == 0 {
		return 0
	}
	return misses + late
}

// session is the goroutine that owns the lock connection.
func session(cfg Config) func(t *actors.Task) error {
	return func(t *actors.Task) error {
		ctx := t.Context()
		conn, mode, why, err := dial(ctx, cfg)
		if err != nil {
			return err
		}
		t.SetCloser(conn.Conn()) // Kill closes the socket: every call below returns
		defer func() {
			closeCtx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			_ = conn.Close(closeCtx)
		}()
		wrap := func(err error) error {
			return pgwire.WrapConnError(pgwire.RoleLock, conn.Conn().RemoteAddr().String(), err)
		}

		key := pgwire.QuoteLiteral(cfg.Slot) // a validated slot name, quoted: no user text reaches SQL unquoted
		for {
			held, err := queryBool(ctx, conn, "SELECT pg_catalog.pg_try_advisory_lock(pg_catalog.hashtext("+key+"))")
			if err != nil {
				return wrap(fmt.Errorf("take the advisory lock: %w", err))
			}
			if held {
				break
			}
			holder, err := lockHolder(ctx, conn, key)
			if err != nil {
				return wrap(err)
			}
			t.Send(&waiting{epoch: t.Epoch, holder: holder})
			if err := sleep(ctx, cfg.PollMin+time.Duration(rand.Int64N(int64(cfg.PollMax-cfg.PollMin)+1))); err != nil {
				return err
			}
		}
		t.Send(&acquired{epoch: t.Epoch, mode: mode, backend: conn.PID(), why: why})

		misses := 0
		for {
			if err := sleep(ctx, cfg.HeartbeatEvery); err != nil {
				return err
			}
			start := time.Now()
			hctx, cancel := context.WithTimeout(ctx, time.Duration(cfg.MaxMisses-misses)*cfg.HeartbeatTimeout)
			_, err := conn.Exec(hctx, "SELECT 1").ReadAll()
			cancel()
			took := time.Since(start)
			if err != nil {
				if ctx.Err() == nil && errors.Is(hctx.Err(), context.DeadlineExceeded) {
					return wrap(fmt.Errorf("%w: no answer to SELECT 1 within %s: %w", ErrHeartbeatsMissed, took.Round(time.Millisecond), err))
				}
				return wrap(fmt.Errorf("lock connection heartbeat: %w", err))
			}
			misses = nextMisses(misses, took, cfg.HeartbeatTimeout)
			t.Send(&heartbeat{epoch: t.Epoch, at: time.Now(), took: took, misses: misses, backend: conn.PID()})
			if misses >= cfg.MaxMisses {
				return wrap(fmt.Errorf("%w: %d in a row, the last answered after %s", ErrHeartbeatsMissed, misses, took.Round(time.Millisecond)))
			}
		}
	}
}

// dial opens the lock connection: replication=database first, a plain
// session when the server refuses replication connections for this role.
func dial(ctx context.Context, cfg Config) (conn *pgconn.PgConn, mode Mode, why string, err error) {
	plain, err := pgwire.ParseConnConfig(cfg.DSN, pgwire.RoleLock, cfg.Dial)
	if err != nil {
		return nil, "", "", err
	}
	repl := plain.Copy()
	repl.RuntimeParams["replication"] = "database"
	conn, err = pgconn.ConnectConfig(ctx, repl)
	if err == nil {
		if _, err := pglogrepl.IdentifySystem(ctx, conn); err != nil {
			_ = conn.Close(ctx)
			return nil, "", "", pgwire.NewOperatorNeeded(
				"the lock connection is not a direct connection to Postgres (IDENTIFY_SYSTEM failed), so a session lock there may not be real",
				"point the database URL at Postgres itself, not at a pooler in transaction mode", err)
		}
		return conn, ModeReplication, "", nil
	}
	if !refusesReplication(err) {
		return nil, "", "", pgwire.WrapConnError(pgwire.RoleLock, plain.Host, err)
	}
	why = pgwire.Diagnose(err).String()
	conn, err = pgconn.ConnectConfig(ctx, plain)
	if err != nil {
		return nil, "", "", pgwire.WrapConnError(pgwire.RoleLock, plain.Host, err)
	}
	return conn, ModePlain, why, nil
}

// refusesReplication reports a server that will not open a replication
// connection for this role (but might a plain one): no REPLICATION
// attribute, max_wal_senders = 0, or pg_hba.conf without a replication line.
func refusesReplication(err error) bool {
	if pgwire.Classify(err) == pgwire.ReplicationImpossible {
		return true
	}
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "28000" && strings.Contains(strings.ToLower(pgErr.Message), "replication")
}

// lockHolder finds the backend holding the advisory lock on key (a quoted
// literal). A single-bigint advisory lock shows in pg_locks as classid =
// high 32 bits, objid = low 32 bits, objsubid = 1.
func lockHolder(ctx context.Context, conn *pgconn.PgConn, key string) (uint32, error) {
	rows, err := conn.Exec(ctx, "SELECT coalesce(min(pid), 0)::text FROM pg_catalog.pg_locks"+
		" WHERE locktype = 'advisory' AND granted AND objsubid = 1"+
		" AND database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = pg_catalog.current_database())"+
		" AND ((classid::int8 << 32) | objid::int8) = pg_catalog.hashtext("+key+")::int8").ReadAll()
	if err != nil {
		return 0, fmt.Errorf("find the advisory lock's holder: %w", err)
	}
	if len(rows) != 1 || len(rows[0].Rows) != 1 {
		return 0, errors.New("find the advisory lock's holder: no result")
	}
	pid, err := strconv.ParseUint(string(rows[0].Rows[0][0]), 10, 32)
	if err != nil {
		return 0, fmt.Errorf("find the advisory lock's holder: pid %q: %w", rows[0].Rows[0][0], err)
	}
	return uint32(pid), nil
}

func queryBool(ctx context.Context, conn *pgconn.PgConn, sql string) (bool, error) {
	rows, err := conn.Exec(ctx, sql).ReadAll()
	if err != nil {
		return false, err
	}
	if len(rows) != 1 || len(rows[0].Rows) != 1 || len(rows[0].Rows[0]) != 1 {
		return false, fmt.Errorf("%s: unexpected result", sql)
	}
	return string(rows[0].Rows[0][0]) == "t", nil
}

func sleep(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}
