package stream

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/shapesync/shapesync/actors"
	"github.com/shapesync/shapesync/actors/actortest"
	"github.com/shapesync/shapesync/replication/lsn"
	"github.com/shapesync/shapesync/replication/pgwire"
	"github.com/shapesync/shapesync/shapes/protocol"
)

// actorWait bounds every wait of the actor tests.
const actorWait = 30 * time.Second

func newTestKit(t *testing.T) *actors.Kit {
	t.Helper()
	k := actors.NewKit(zaptest.NewLogger(t, zaptest.Level(zap.InfoLevel)), actors.ForTesting(),
		actors.WithSlowReceive(actors.DefaultSlowReceive, func(s actors.SlowReceive) { t.Errorf("slow receive: %+v", s) }))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), actorWait)
		defer cancel()
		if stuck := k.Shutdown(ctx); stuck != nil {
			t.Errorf("shutdown left actors running: %v", stuck)
		}
	})
	return k
}

// streamDB is one test's database with a table in a publication and a
// slot made by Setup; the slot is dropped at cleanup, once the stream that
// used it is gone (register it before the kit, so it runs after).
type streamDB struct {
	dsn   string
	admin *pgx.Conn
	info  SetupInfo
}

func newStreamDB(t *testing.T, dsn string) *streamDB {
	t.Helper()
	slot, pub := names(t, randomStreamID(t))
	admin := adminConn(t, dsn)
	t.Cleanup(func() { dropSlotWhenInactive(t, admin, slot) })
	ctx, cancel := context.WithTimeout(context.Background(), actorWait)
	defer cancel()
	info, err := Setup(ctx, SetupConfig{DSN: dsn, Slot: slot, Publication: pub})
	if err != nil {
		t.Fatalf("Setup: %v", err)
	}
	exec(t, admin, "CREATE TABLE items (id int PRIMARY KEY, v text)")
	exec(t, admin, "ALTER TABLE items REPLICA IDENTITY FULL")
	exec(t, admin, "ALTER PUBLICATION "+pgwire.QuoteIdentifier(pub)+" ADD TABLE items")
	return &streamDB{dsn: dsn, admin: admin, info: info}
}

func (db *streamDB) config(k *actors.Kit, builder, status *actors.PID, pos Positions) ActorConfig {
	return ActorConfig{Kit: k, DSN: db.dsn, Slot: db.info.Slot, Publication: db.info.Publication,
		StartLSN: db.info.StartLSN, WalSenderTimeout: db.info.WalSenderTimeout,
		Builder: builder, Status: status, Positions: pos}
}

// insert commits one transaction inserting ids.
func (db *streamDB) insert(t *testing.T, ids ...int) {
	t.Helper()
	ctx := context.Background()
	tx, err := db.admin.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	for _, id := range ids {
		if _, err := tx.Exec(ctx, "INSERT INTO items VALUES ($1, $2)", id, fmt.Sprint("v", id)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
}

func (db *streamDB) confirmedFlush(t *testing.T) lsn.LSN {
	t.Helper()
	return slotConfirmedFlush(t, db.admin, db.info.Slot)
}

// walsenderPID is the backend streaming our slot, 0 when none.
func (db *streamDB) walsenderPID(t *testing.T) int32 {
	t.Helper()
	var pid *int32
	if err := db.admin.QueryRow(context.Background(),
		"SELECT active_pid FROM pg_replication_slots WHERE slot_name = $1", db.info.Slot).Scan(&pid); err != nil {
		t.Fatal(err)
	}
	if pid == nil {
		return 0
	}
	return *pid
}

// dropSlotWhenInactive drops slot once no walsender holds it: a killed
// stream's backend lets go of it a moment after its socket closed.
func dropSlotWhenInactive(t *testing.T, admin *pgx.Conn, slot string) {
	deadline := time.Now().Add(actorWait)
	for {
		_, err := admin.Exec(context.Background(),
			"SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1", slot)
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("drop slot %s: %v", slot, err)
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// countConditions is how many times the recorded status saw c.
func countConditions(s *actortest.StatusRecorder, c protocol.Condition) int {
	n := 0
	for _, got := range s.All() {
		if got == c {
			n++
		}
	}
	return n
}

// positionsRecorder plays supervisor/status.View.
type positionsRecorder struct {
	received atomic.Uint64
	mu       sync.Mutex
	acked    []lsn.LSN
}

func (p *positionsRecorder) SetReceived(l lsn.LSN) { p.received.Store(uint64(l)) }

func (p *positionsRecorder) SetAcked(l lsn.LSN) {
	p.mu.Lock()
	p.acked = append(p.acked, l)
	p.mu.Unlock()
}

func (p *positionsRecorder) ackedSeen() []lsn.LSN {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.acked)
}

// spawnSupervised runs spec as the only child of a kit supervisor
// (one-for-one, quick backoff) and returns the child's PID id.
func spawnSupervised(t *testing.T, k *actors.Kit, spec actors.ChildSpec) string {
	t.Helper()
	sup, err := k.SpawnRoot(actors.ChildSpec{Label: "pipeline", Bound: actors.Count(64), Policy: actors.Credit,
		Producer: actors.Supervisor(actors.SupervisorSpec{
			Strategy: actors.OneForOne,
			Backoff:  actors.Backoff(10*time.Millisecond, 100*time.Millisecond, 0, time.Minute),
			Children: []actors.ChildSpec{spec},
		})})
	if err != nil {
		t.Fatal(err)
	}
	return sup.Id + "/" + spec.Label
}

// replicationStat is our walsender's row of pg_stat_replication.
type replicationStat struct {
	pid          int32
	write, flush lsn.LSN
	replyTime    time.Time
}

// replicationStat reads it; false while there is none or it has not sent a
// status update yet.
func (db *streamDB) replicationStat(t *testing.T) (replicationStat, bool) {
	t.Helper()
	var s replicationStat
	var write, flush string
	var reply *time.Time
	err := db.admin.QueryRow(context.Background(),
		`SELECT s.pid, coalesce(s.write_lsn::text, ''), coalesce(s.flush_lsn::text, ''), s.reply_time
		   FROM pg_stat_replication s JOIN pg_replication_slots r ON r.active_pid = s.pid
		  WHERE r.slot_name = $1`, db.info.Slot).Scan(&s.pid, &write, &flush, &reply)
	if err != nil {
		return s, false
	}
	if write == "" || flush == "" || reply == nil {
		return s, false
	}
	var perr error
	if s.write, perr = lsn.ParseLSN(write); perr != nil {
		t.Fatal(perr)
	}
	if s.flush, perr = lsn.ParseLSN(flush); perr != nil {
		t.Fatal(perr)
	}
	s.replyTime = *reply
	return s, true
}

// waitStatusUpdates waits for n new status updates from our walsender's
// client (reply_time moving) and hands each new state to check.
func waitStatusUpdates(t *testing.T, db *streamDB, n int, check func(replicationStat)) {
	t.Helper()
	var last time.Time
	seen := -1 // the first observation is not an update we waited for
	checkFor(t, actorWait, func() error {
		s, ok := db.replicationStat(t)
		if !ok {
			return errors.New("no walsender with a status update")
		}
		if !s.replyTime.Equal(last) {
			last = s.replyTime
			seen++
			check(s)
		}
		if seen < n {
			return fmt.Errorf("%d of %d status updates", max(seen, 0), n)
		}
		return nil
	})
}
