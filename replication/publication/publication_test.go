package publication

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/shapesync/shapesync/replication/events"
)

func TestAddTable(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	f.exec(t, `CREATE TABLE "Mixed Case" (id int PRIMARY KEY, v text)`)
	tb := f.table(t, "public", "Mixed Case")
	if got := f.replident(t, tb.OID); got != "d" {
		t.Fatalf("fresh table has replica identity %q", got)
	}

	added, err := AddTable(ctx, f.admin, testPub, tb)
	if err != nil || !added {
		t.Fatalf("first AddTable = %v, %v; want added", added, err)
	}
	if !f.isMember(t, tb.OID) || f.replident(t, tb.OID) != "f" {
		t.Fatalf("after AddTable: member %v, replica identity %q", f.isMember(t, tb.OID), f.replident(t, tb.OID))
	}

	added, err = AddTable(ctx, f.admin, testPub, tb)
	if err != nil || added {
		t.Fatalf("second AddTable = %v, %v; want already a member, no error", added, err)
	}

	// Nothing is left locked or open: a strong lock is free at once.
	holdLock(t, f.dsn, `SET LOCAL lock_timeout = '1s'; LOCK TABLE "Mixed Case" IN ACCESS EXCLUSIVE MODE`)()
}

// A reader holds ACCESS SHARE, which conflicts only with ACCESS EXCLUSIVE:
// adding an already-FULL table must not wait for it (the ALTER TABLE is
// skipped), and a table that needs ALTER TABLE must fail within the lock
// timeout, naming table and lock, with nothing changed (C7).
func TestAddTableLockTimeout(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	f.exec(t, "CREATE TABLE full_already (id int PRIMARY KEY)")
	f.exec(t, "ALTER TABLE full_already REPLICA IDENTITY FULL")
	f.exec(t, "CREATE TABLE needs_full (id int PRIMARY KEY)")
	f.exec(t, "CREATE TABLE locked (id int PRIMARY KEY)")
	full, needs, locked := f.table(t, "public", "full_already"), f.table(t, "public", "needs_full"), f.table(t, "public", "locked")
	holdLock(t, f.dsn, "SELECT * FROM full_already, needs_full")
	holdLock(t, f.dsn, "LOCK TABLE locked IN ACCESS EXCLUSIVE MODE")

	t.Run("replica identity already full", func(t *testing.T) {
		t.Parallel()
		start := time.Now()
		added, err := AddTable(ctx, connect(t, f.dsn), testPub, full)
		if err != nil || !added {
			t.Fatalf("AddTable = %v, %v", added, err)
		}
		if d := time.Since(start); d > LockTimeout/2 {
			t.Errorf("AddTable took %s behind a reader: it must not take ACCESS EXCLUSIVE", d)
		}
	})
	// Each blocked case uses its own publication: concurrent edits of one
	// publication wait for each other, and the case is about the table lock.
	f.exec(t, "CREATE PUBLICATION electric_publication_other")
	for _, c := range []struct {
		name      string
		pub       string
		tb        *events.Table
		statement string
		lock      string
	}{
		{"replica identity blocked", testPub, needs, "REPLICA IDENTITY", "ACCESS EXCLUSIVE"},
		{"publication blocked", "electric_publication_other", locked, "ALTER PUBLICATION", "SHARE UPDATE EXCLUSIVE"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			tb := c.tb
			start := time.Now()
			added, err := AddTable(ctx, connect(t, f.dsn), c.pub, tb)
			elapsed := time.Since(start)
			var lt *LockTimeoutError
			if !errors.As(err, &lt) || added {
				t.Fatalf("AddTable = %v, %v; want *LockTimeoutError", added, err)
			}
			if !lt.Temporary() || lt.SQLState() != "55P03" {
				t.Errorf("lock timeout error not retryable: %+v", lt)
			}
			msg := err.Error()
			for _, want := range []string{`"public"."` + tb.Name + `"`, c.lock, c.statement, "5s"} {
				if !strings.Contains(msg, want) {
					t.Errorf("message %q lacks %q", msg, want)
				}
			}
			if elapsed < LockTimeout || elapsed > LockTimeout+2*time.Second {
				t.Errorf("failed after %s; want the lock timeout %s (+ at most 2s)", elapsed, LockTimeout)
			}
			if f.isMemberOf(t, c.pub, tb.OID) {
				t.Errorf("%s joined the publication although its transaction failed", tb.Name)
			}
		})
	}
}

func TestAddTablePermissions(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	f.exec(t, "CREATE TABLE items (id int PRIMARY KEY)")
	tb := f.table(t, "public", "items")
	role := f.newRole(t)
	conn := f.connectAs(t, role)

	_, err := AddTable(ctx, conn, testPub, tb)
	var pe *PermissionError
	if !errors.As(err, &pe) {
		t.Fatalf("AddTable as %s = %v; want *PermissionError", role, err)
	}
	if pe.Role != role || pe.SQLState() != "42501" {
		t.Errorf("role %q, SQLSTATE %s", pe.Role, pe.SQLState())
	}
	wantMissing := []string{
		`ownership of table "public"."items" (owned by "postgres")`,
		`ownership of publication "` + testPub + `" (owned by "postgres")`,
	}
	if !reflect.DeepEqual(pe.Missing, wantMissing) {
		t.Errorf("Missing = %q; want %q", pe.Missing, wantMissing)
	}
	if !strings.Contains(err.Error(), `ALTER TABLE "public"."items" OWNER TO "`+role+`"`) {
		t.Errorf("message lacks the remedy: %v", err)
	}

	// The operator grants what was named; the same call now succeeds
	// without reconnecting (C6).
	f.exec(t, "ALTER TABLE items OWNER TO "+role)
	_, err = AddTable(ctx, conn, testPub, tb)
	if !errors.As(err, &pe) || len(pe.Missing) != 1 || !strings.Contains(pe.Missing[0], "publication") {
		t.Fatalf("with the table owned, AddTable = %v; want only the publication missing", err)
	}
	f.exec(t, "GRANT CREATE ON DATABASE "+currentDB(t, f)+" TO "+role)
	f.exec(t, "ALTER PUBLICATION "+testPub+" OWNER TO "+role)
	if added, err := AddTable(ctx, conn, testPub, tb); err != nil || !added {
		t.Fatalf("after the grants, AddTable = %v, %v", added, err)
	}
}

func currentDB(t *testing.T, f *fixture) string {
	t.Helper()
	var db string
	if err := f.admin.QueryRow(context.Background(), "SELECT current_database()").Scan(&db); err != nil {
		t.Fatal(err)
	}
	return db
}

func TestAddTableChangedOrMissing(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	f.exec(t, "CREATE TABLE gone (id int)")
	gone := f.table(t, "public", "gone")
	f.exec(t, "DROP TABLE gone")
	f.exec(t, "CREATE TABLE again (id int)")
	old := f.table(t, "public", "again")
	f.exec(t, "DROP TABLE again")
	f.exec(t, "CREATE TABLE again (id int)")
	recreated := f.table(t, "public", "again")

	var tc *TableChangedError
	if _, err := AddTable(ctx, f.admin, testPub, gone); !errors.As(err, &tc) || tc.NewOID != 0 || tc.SQLState() != "42P01" {
		t.Errorf("dropped table: %v", err)
	}
	if _, err := AddTable(ctx, f.admin, testPub, old); !errors.As(err, &tc) || tc.NewOID != recreated.OID {
		t.Errorf("recreated table: %v", err)
	}
	if f.isMember(t, recreated.OID) || f.replident(t, recreated.OID) != "d" {
		t.Errorf("the new table of the same name was altered")
	}
	var pm *PublicationMissingError
	if _, err := AddTable(ctx, f.admin, "electric_publication_nope", recreated); !errors.As(err, &pm) {
		t.Errorf("missing publication: %v", err)
	}
	if _, err := AddTable(ctx, f.admin, `Bad"Name`, recreated); err == nil {
		t.Errorf("an invalid publication name was accepted")
	}
}

func TestAddTableForAllTablesPublication(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	f.exec(t, "CREATE PUBLICATION electric_publication_all FOR ALL TABLES")
	f.exec(t, "CREATE TABLE t1 (id int)")
	tb := f.table(t, "public", "t1")
	added, err := AddTable(ctx, f.admin, "electric_publication_all", tb)
	if err != nil || added {
		t.Fatalf("AddTable on a FOR ALL TABLES publication = %v, %v; want already published", added, err)
	}
	if f.replident(t, tb.OID) != "f" {
		t.Errorf("replica identity not set")
	}
}

func TestPartitionedTable(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	f.exec(t, "CREATE TABLE events (id int, at date, PRIMARY KEY (id, at)) PARTITION BY RANGE (at)")
	f.exec(t, "CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')")
	f.exec(t, "CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')")
	root := f.table(t, "public", "events")

	err := CheckTable(ctx, f.admin, testPub, root)
	var ms *ManualSetupError
	if !errors.As(err, &ms) || !ms.NotPublished {
		t.Fatalf("CheckTable before = %v", err)
	}
	if want := []string{`"public"."events"`, `"public"."events_2024"`, `"public"."events_2025"`}; !reflect.DeepEqual(ms.NotFull, want) {
		t.Errorf("NotFull = %q; want %q", ms.NotFull, want)
	}
	if added, err := AddTable(ctx, f.admin, testPub, root); err != nil || !added {
		t.Fatalf("AddTable = %v, %v", added, err)
	}
	for _, name := range []string{"events", "events_2024", "events_2025"} {
		if got := f.replident(t, f.table(t, "public", name).OID); got != "f" {
			t.Errorf("%s: replica identity %q", name, got)
		}
	}
	if err := CheckTable(ctx, f.admin, testPub, root); err != nil {
		t.Errorf("CheckTable after AddTable: %v", err)
	}
}

func TestCheckTable(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	f.exec(t, "CREATE TABLE m (id int PRIMARY KEY)")
	tb := f.table(t, "public", "m")

	err := CheckTable(ctx, f.admin, testPub, tb)
	var ms *ManualSetupError
	if !errors.As(err, &ms) || !ms.NotPublished || len(ms.NotFull) != 1 {
		t.Fatalf("CheckTable = %v", err)
	}
	for _, want := range []string{`ALTER PUBLICATION "` + testPub + `" ADD TABLE "public"."m";`, `ALTER TABLE "public"."m" REPLICA IDENTITY FULL;`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message %q lacks %q", err, want)
		}
	}
	f.exec(t, "ALTER PUBLICATION "+testPub+" ADD TABLE m")
	err = CheckTable(ctx, f.admin, testPub, tb)
	if !errors.As(err, &ms) || ms.NotPublished || len(ms.NotFull) != 1 {
		t.Fatalf("published, identity default: %v", err)
	}
	if strings.Contains(err.Error(), "ADD TABLE") {
		t.Errorf("asks to publish a published table: %v", err)
	}
	f.exec(t, "ALTER TABLE m REPLICA IDENTITY FULL")
	if err := CheckTable(ctx, f.admin, testPub, tb); err != nil {
		t.Fatalf("set up by hand: %v", err)
	}
	if f.isMember(t, tb.OID) != true {
		t.Fatal("membership lost")
	}

	// A schema-level publication counts as publishing the table.
	f.exec(t, "CREATE SCHEMA s")
	f.exec(t, "CREATE TABLE s.x (id int)")
	f.exec(t, "ALTER TABLE s.x REPLICA IDENTITY FULL")
	f.exec(t, "CREATE PUBLICATION electric_publication_schema FOR TABLES IN SCHEMA s")
	if err := CheckTable(ctx, f.admin, "electric_publication_schema", f.table(t, "s", "x")); err != nil {
		t.Errorf("table published through its schema: %v", err)
	}
}

func TestRemoveTableAndMembers(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	f.exec(t, "CREATE SCHEMA b")
	f.exec(t, "CREATE TABLE b.two (id int)")
	f.exec(t, "CREATE TABLE a_one (id int)")
	f.exec(t, "CREATE TABLE dropped (id int)")
	one, two, dropped := f.table(t, "public", "a_one"), f.table(t, "b", "two"), f.table(t, "public", "dropped")
	if _, err := AddTable(ctx, f.admin, testPub, one); err != nil {
		t.Fatal(err)
	}
	if _, err := AddTable(ctx, f.admin, testPub, two); err != nil {
		t.Fatal(err)
	}
	if _, err := AddTable(ctx, f.admin, testPub, dropped); err != nil {
		t.Fatal(err)
	}
	f.exec(t, "ALTER TABLE b.two REPLICA IDENTITY DEFAULT")

	members, err := Members(ctx, f.admin, testPub)
	if err != nil {
		t.Fatal(err)
	}
	want := []Member{
		{OID: two.OID, Schema: "b", Name: "two", ReplicaIdentity: 'd'},
		{OID: one.OID, Schema: "public", Name: "a_one", ReplicaIdentity: 'f'},
		{OID: dropped.OID, Schema: "public", Name: "dropped", ReplicaIdentity: 'f'},
	}
	if !reflect.DeepEqual(members, want) {
		t.Fatalf("Members = %+v\nwant %+v", members, want)
	}

	if removed, err := RemoveTable(ctx, f.admin, testPub, one); err != nil || !removed {
		t.Fatalf("RemoveTable = %v, %v", removed, err)
	}
	if removed, err := RemoveTable(ctx, f.admin, testPub, one); err != nil || removed {
		t.Fatalf("second RemoveTable = %v, %v; want nothing to do", removed, err)
	}
	f.exec(t, "DROP TABLE dropped")
	if removed, err := RemoveTable(ctx, f.admin, testPub, dropped); err != nil || removed {
		t.Fatalf("RemoveTable of a dropped table = %v, %v", removed, err)
	}
	// A new table under the old name is someone else's: left alone.
	f.exec(t, "CREATE TABLE dropped (id int)")
	newer := f.table(t, "public", "dropped")
	if _, err := AddTable(ctx, f.admin, testPub, newer); err != nil {
		t.Fatal(err)
	}
	if removed, err := RemoveTable(ctx, f.admin, testPub, dropped); err != nil || removed || !f.isMember(t, newer.OID) {
		t.Fatalf("RemoveTable by the old OID = %v, %v; new table member: %v", removed, err, f.isMember(t, newer.OID))
	}

	members, err = Members(ctx, f.admin, testPub)
	if err != nil {
		t.Fatal(err)
	}
	if len(members) != 2 || members[0].OID != two.OID || members[1].OID != newer.OID {
		t.Fatalf("Members after removals = %+v", members)
	}
	var pm *PublicationMissingError
	if _, err := Members(ctx, f.admin, "electric_publication_nope"); !errors.As(err, &pm) {
		t.Errorf("Members of a missing publication: %v", err)
	}
}

// Horizon is above the xid of a transaction that is still running, so a
// snapshot can pass it only once that transaction has ended.
//
// Not parallel: xmin is cluster-wide, and the lock tests hold transactions
// with xids for seconds. Sequential tests run before the parallel ones.
func TestHorizon(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	other := connect(t, f.dsn)
	tx, err := other.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	var running uint64
	if err := tx.QueryRow(ctx, "SELECT pg_current_xact_id()::text::int8").Scan(&running); err != nil {
		t.Fatal(err)
	}
	h1, err := Horizon(ctx, f.admin)
	if err != nil {
		t.Fatal(err)
	}
	h2, err := Horizon(ctx, f.admin)
	if err != nil {
		t.Fatal(err)
	}
	if h1 <= running || h2 <= h1 {
		t.Fatalf("running xid %d, horizons %d then %d: want strictly increasing", running, h1, h2)
	}
	var xmin uint64
	if err := f.admin.QueryRow(ctx, "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::int8").Scan(&xmin); err != nil {
		t.Fatal(err)
	}
	if xmin >= h1 {
		t.Fatalf("a snapshot's xmin %d passed the horizon %d while xid %d runs", xmin, h1, running)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	// Autovacuum and the like may hold an xid for a moment, so the horizon
	// is passed eventually rather than at once.
	checkFor(t, 10*time.Second, func() error {
		if err := f.admin.QueryRow(ctx, "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::int8").Scan(&xmin); err != nil {
			return err
		}
		if xmin < h2 {
			var who string
			_ = f.admin.QueryRow(ctx, "SELECT string_agg(datname || ' ' || coalesce(backend_xid::text,'-') || ' ' || state || ' ' || left(query, 60), '; ') FROM pg_stat_activity WHERE backend_xid IS NOT NULL").Scan(&who)
			return fmt.Errorf("xmin %d still below horizon %d: %s", xmin, h2, who)
		}
		return nil
	})
}
