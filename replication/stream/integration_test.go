package stream

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/shapesync/shapesync/replication/lsn"
	"github.com/shapesync/shapesync/replication/pgcluster"
	"github.com/shapesync/shapesync/replication/pgcluster/pgtest"
	"github.com/shapesync/shapesync/replication/pgwire"
)

// pg is the cluster the integration tests share; each test gets its own
// database and its own stream id (slots are cluster-wide).
var pg pgtest.Shared

func randomStreamID(t *testing.T) string {
	t.Helper()
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "it_" + hex.EncodeToString(b)
}

func names(t *testing.T, streamID string) (slot, pub string) {
	t.Helper()
	slot, err := pgwire.SlotName(streamID)
	if err != nil {
		t.Fatal(err)
	}
	pub, err = pgwire.PublicationName(streamID)
	if err != nil {
		t.Fatal(err)
	}
	return slot, pub
}

func connectRole(t *testing.T, dsn string, role pgwire.Role, edit func(*pgconn.Config)) (*pgconn.PgConn, error) {
	t.Helper()
	cfg, err := pgwire.ParseConnConfig(dsn, role, pgwire.DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(cfg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgconn.ConnectConfig(ctx, cfg)
	if err == nil {
		t.Cleanup(func() { conn.Close(context.Background()) })
	}
	return conn, err
}

func mustConnectRole(t *testing.T, dsn string, role pgwire.Role) *pgconn.PgConn {
	t.Helper()
	conn, err := connectRole(t, dsn, role, nil)
	if err != nil {
		t.Fatalf("connect %s: %v", role, err)
	}
	return conn
}

func adminConn(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func exec(t *testing.T, conn *pgx.Conn, sql string, args ...any) {
	t.Helper()
	if _, err := conn.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// dropSlotAtCleanup drops slot when the test ends, before its database is
// dropped (a database with a logical slot cannot be dropped).
func dropSlotAtCleanup(t *testing.T, admin *pgx.Conn, slot string) {
	t.Cleanup(func() {
		_, err := admin.Exec(context.Background(),
			"SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1", slot)
		if err != nil {
			t.Errorf("drop slot %s: %v", slot, err)
		}
	})
}

// checkFor polls fn until it returns nil, failing the test with fn's last
// error after timeout.
func checkFor(t *testing.T, timeout time.Duration, fn func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := fn()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %v", timeout, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func slotConfirmedFlush(t *testing.T, admin *pgx.Conn, slot string) lsn.LSN {
	t.Helper()
	var s string
	if err := admin.QueryRow(context.Background(),
		"SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = $1", slot).Scan(&s); err != nil {
		t.Fatal(err)
	}
	l, err := lsn.ParseLSN(s)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// commitCollector decodes what the pump delivers just far enough to find
// commits, returning credit for every batch.
type commitCollector struct {
	t       *testing.T
	batches chan Batch
	pump    *Pump
	inserts int
}

func (c *commitCollector) nextCommit() (commitLSN, endLSN lsn.LSN, startOfCommitItem lsn.LSN) {
	c.t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case b := <-c.batches:
			c.pump.Credit()
			for _, it := range b.Items {
				if it.Kind != KindXLogData {
					continue
				}
				msg, err := pglogrepl.Parse(it.Data)
				if err != nil {
					c.t.Fatalf("pgoutput message: %v", err)
				}
				switch m := msg.(type) {
				case *pglogrepl.InsertMessage:
					c.inserts++
				case *pglogrepl.CommitMessage:
					return lsn.LSN(m.CommitLSN), lsn.LSN(m.TransactionEndLSN), it.WALStart
				}
			}
		case <-timeout:
			c.t.Fatal("no commit received within 30 s")
		}
	}
}

// The whole start-up sequence against a real server, then the ack fence:
// confirmed_flush_lsn becomes exactly what SetAcked gave and does not move
// past it while later data is received but not acknowledged.
func TestIntegrationStreamAndAck(t *testing.T) {
	t.Parallel()
	dsn := pg.CreateDatabase(t)
	slot, pub := names(t, randomStreamID(t))
	admin := adminConn(t, dsn)
	dropSlotAtCleanup(t, admin, slot)
	exec(t, admin, "CREATE TABLE items (id int PRIMARY KEY, v text)")
	exec(t, admin, "ALTER TABLE items REPLICA IDENTITY FULL")

	ctx := context.Background()
	repl := mustConnectRole(t, dsn, pgwire.RoleReplication)
	sys, err := IdentifySystem(ctx, repl)
	if err != nil || sys.SystemID == "" || sys.Timeline < 1 || sys.XLogPos == 0 || !strings.HasPrefix(sys.DBName, "t_") {
		t.Fatalf("IdentifySystem = %+v, %v", sys, err)
	}
	settings, err := ReadServerSettings(ctx, repl)
	if err != nil || settings.VersionNum < 100000 || settings.WalSenderTimeout != time.Minute {
		t.Fatalf("ReadServerSettings = %+v, %v", settings, err)
	}

	created, err := EnsurePublication(ctx, repl, pub, settings.VersionNum)
	if err != nil || !created {
		t.Fatalf("EnsurePublication = %v, %v; want created", created, err)
	}
	if again, err := EnsurePublication(ctx, repl, pub, settings.VersionNum); err != nil || again {
		t.Fatalf("second EnsurePublication = %v, %v; want existing", again, err)
	}
	exec(t, admin, "ALTER PUBLICATION "+pgwire.QuoteIdentifier(pub)+" ADD TABLE items")

	s, err := EnsureSlot(ctx, repl, slot, created)
	if err != nil || !s.Created || s.Start == 0 {
		t.Fatalf("EnsureSlot = %+v, %v", s, err)
	}
	if got := slotConfirmedFlush(t, admin, slot); got != s.Start {
		t.Fatalf("new slot's confirmed_flush_lsn %v; EnsureSlot said %v", got, s.Start)
	}
	if err := ApplyDisplaySettings(ctx, repl); err != nil {
		t.Fatal(err)
	}
	rows, err := simpleQuery(ctx, repl, "SELECT current_setting('DateStyle'), current_setting('IntervalStyle')")
	if err != nil || string(rows[0][0]) != "ISO, DMY" || string(rows[0][1]) != "iso_8601" {
		t.Fatalf("display settings not in effect: %q, %v", rows, err)
	}
	if err := Start(ctx, repl, slot, pub, s.Start); err != nil {
		t.Fatal(err)
	}

	col := &commitCollector{t: t, batches: make(chan Batch, 64)}
	pump, err := NewPump(Config{Conn: repl, StartAcked: s.Start,
		Deliver:           func(b Batch) { col.batches <- b },
		KeepaliveInterval: 50 * time.Millisecond, WatchdogTimeout: settings.WatchdogTimeout()})
	if err != nil {
		t.Fatal(err)
	}
	col.pump = pump
	runCtx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	runErr := make(chan error, 1)
	wg.Go(func() { runErr <- pump.Run(runCtx) })
	defer func() { stop(); wg.Wait() }()

	tx, err := admin.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 3; i++ {
		if _, err := tx.Exec(ctx, "INSERT INTO items VALUES ($1, $2)", i, fmt.Sprint("v", i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	commit1, end1, itemStart := col.nextCommit()
	if col.inserts != 3 || end1 <= commit1 || itemStart != end1 {
		t.Fatalf("inserts %d, commit %v, end %v, commit item WALStart %v", col.inserts, commit1, end1, itemStart)
	}
	select {
	case <-pump.Streaming():
	default:
		t.Fatal("Streaming() not closed after data arrived")
	}

	pump.SetAcked(end1)
	checkFor(t, 10*time.Second, func() error {
		if got := slotConfirmedFlush(t, admin, slot); got != end1 {
			return fmt.Errorf("confirmed_flush_lsn %v; want %v", got, end1)
		}
		return nil
	})

	// Received but not acknowledged: the server hears about the receipt
	// (write_lsn) while the slot stays at end1.
	exec(t, admin, "INSERT INTO items VALUES (4, 'v4')")
	_, end2, _ := col.nextCommit()
	checkFor(t, 10*time.Second, func() error {
		var write, flush string
		err := admin.QueryRow(ctx, "SELECT write_lsn::text, flush_lsn::text FROM pg_stat_replication WHERE pid = $1", repl.PID()).Scan(&write, &flush)
		if err != nil {
			return err
		}
		if w, _ := lsn.ParseLSN(write); w < end2 {
			return fmt.Errorf("write_lsn %s; waiting for %v", write, end2)
		}
		if f, _ := lsn.ParseLSN(flush); f != end1 {
			t.Fatalf("flush_lsn %s reported; only %v was acknowledged", flush, end1)
		}
		return nil
	})
	if got := slotConfirmedFlush(t, admin, slot); got != end1 {
		t.Fatalf("confirmed_flush_lsn %v moved past the acknowledged %v (received up to %v)", got, end1, end2)
	}
	if pump.Acked() != end1 || pump.Received() < end2 {
		t.Fatalf("Acked %v Received %v; want %v and ≥ %v", pump.Acked(), pump.Received(), end1, end2)
	}

	stop()
	if err := <-runErr; !errors.Is(err, context.Canceled) {
		t.Fatalf("Run returned %v", err)
	}
	repl.Conn().Close()

	// Reconnect: the slot continues at the acknowledged position; a new
	// publication would force a new slot.
	repl2 := mustConnectRole(t, dsn, pgwire.RoleReplication)
	checkFor(t, 10*time.Second, func() error { // the old walsender lets go of the slot
		var active bool
		if err := admin.QueryRow(ctx, "SELECT active FROM pg_replication_slots WHERE slot_name = $1", slot).Scan(&active); err != nil {
			return err
		}
		if active {
			return errors.New("slot still active")
		}
		return nil
	})
	again, err := EnsureSlot(ctx, repl2, slot, false)
	if err != nil || again.Created || again.Start != end1 {
		t.Fatalf("EnsureSlot on reconnect = %+v, %v; want existing at %v", again, err, end1)
	}
	fresh, err := EnsureSlot(ctx, repl2, slot, true)
	if err != nil || !fresh.Created || !strings.Contains(fresh.Reason, "publication") || fresh.Start < end2 {
		t.Fatalf("EnsureSlot after a new publication = %+v, %v", fresh, err)
	}
}

// Real refusals land in the right class with a remedy.
func TestIntegrationClassifiesRefusals(t *testing.T) {
	t.Parallel()
	dsn := pg.CreateDatabase(t)
	admin := adminConn(t, dsn)
	role := "norepl_" + randomStreamID(t)
	exec(t, admin, "CREATE ROLE "+pgwire.QuoteIdentifier(role)+" LOGIN")
	t.Cleanup(func() { _, _ = admin.Exec(context.Background(), "DROP ROLE "+pgwire.QuoteIdentifier(role)) })

	t.Run("ok - role without REPLICATION", func(t *testing.T) {
		_, err := connectRole(t, dsn, pgwire.RoleReplication, func(c *pgconn.Config) { c.User = role })
		d := pgwire.Diagnose(err)
		if d.Class != pgwire.ReplicationImpossible || d.SQLState != "42501" || !strings.Contains(d.Remedy, role) {
			t.Fatalf("got %v (%v)", d, err)
		}
	})
	t.Run("ok - missing database", func(t *testing.T) {
		_, err := connectRole(t, dsn, pgwire.RoleAdmin, func(c *pgconn.Config) { c.Database = "no_such_database" })
		if d := pgwire.Diagnose(err); d.Class != pgwire.OperatorNeeded || d.SQLState != "3D000" {
			t.Fatalf("got %v (%v)", d, err)
		}
	})
	t.Run("ok - START_REPLICATION on a missing slot is slot-lost", func(t *testing.T) {
		repl := mustConnectRole(t, dsn, pgwire.RoleReplication)
		slot, pub := names(t, randomStreamID(t))
		err := Start(context.Background(), repl, slot, pub, 0x1000000)
		if pgwire.Classify(err) != pgwire.SlotLost {
			t.Fatalf("got %v (%v)", pgwire.Diagnose(err), err)
		}
		// The refusal was read to its end: the connection still answers.
		if _, err := IdentifySystem(context.Background(), repl); err != nil {
			t.Fatalf("connection unusable after the refusal: %v", err)
		}
	})
}

// wal_level=replica: creating the slot is replication-impossible and says
// which setting to change.
func TestIntegrationWalLevelReplica(t *testing.T) {
	t.Parallel()
	c := pgtest.Start(t, pgcluster.Options{Settings: map[string]string{"wal_level": "replica"}})
	dsn := pgtest.CreateDatabase(t, c)
	repl := mustConnectRole(t, dsn, pgwire.RoleReplication)
	slot, _ := names(t, randomStreamID(t))
	_, err := EnsureSlot(context.Background(), repl, slot, false)
	d := pgwire.Diagnose(err)
	if d.Class != pgwire.ReplicationImpossible || d.Remedy != "set wal_level=logical and restart Postgres" {
		t.Fatalf("got %v (%v)", d, err)
	}
}

// A slot invalidated for retaining too much WAL (B2): START_REPLICATION is
// slot-lost, decided from wal_status, and EnsureSlot replaces the slot and
// says why.
func TestIntegrationInvalidatedSlot(t *testing.T) {
	t.Parallel()
	c := pgtest.Start(t, pgcluster.Options{WalSegSizeMB: 1, Settings: map[string]string{"max_slot_wal_keep_size": "1MB"}})
	dsn := pgtest.CreateDatabase(t, c)
	slot, pub := names(t, randomStreamID(t))
	admin := adminConn(t, dsn)
	dropSlotAtCleanup(t, admin, slot)
	ctx := context.Background()
	repl := mustConnectRole(t, dsn, pgwire.RoleReplication)
	settings, err := ReadServerSettings(ctx, repl)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := EnsurePublication(ctx, repl, pub, settings.VersionNum); err != nil {
		t.Fatal(err)
	}
	if _, err := EnsureSlot(ctx, repl, slot, false); err != nil {
		t.Fatal(err)
	}
	exec(t, admin, "CREATE TABLE filler (v text)")
	checkFor(t, 30*time.Second, func() error {
		for range 4 {
			exec(t, admin, "INSERT INTO filler SELECT repeat('x', 1000) FROM generate_series(1, 200)")
			exec(t, admin, "SELECT pg_switch_wal()")
		}
		exec(t, admin, "CHECKPOINT")
		var status string
		if err := admin.QueryRow(ctx, "SELECT coalesce(wal_status, '') FROM pg_replication_slots WHERE slot_name = $1", slot).Scan(&status); err != nil {
			return err
		}
		if status != "lost" {
			return fmt.Errorf("wal_status %q", status)
		}
		return nil
	})

	err = Start(ctx, repl, slot, pub, 0x1000000)
	if d := pgwire.Diagnose(err); d.Class != pgwire.SlotLost || !strings.Contains(d.Reason, "invalidated") {
		t.Fatalf("Start on a lost slot: %v (%v)", d, err)
	}
	s, err := EnsureSlot(ctx, repl, slot, false)
	if err != nil || !s.Created || !strings.Contains(s.Reason, "invalidated") {
		t.Fatalf("EnsureSlot on a lost slot = %+v, %v", s, err)
	}
}
