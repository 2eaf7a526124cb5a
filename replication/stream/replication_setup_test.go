package stream

import (
	"context"
	"strings"
	"testing"

	"github.com/shapesync/shapesync/replication/pgcluster"
	"github.com/shapesync/shapesync/replication/pgcluster/pgtest"
	"github.com/shapesync/shapesync/replication/pgwire"
)

// Setup on a fresh database creates publication and slot at a consistent
// point that the slot reports; a second run reuses both; RecreateSlot makes
// a new slot and says why; connection failures are classified and name the
// replication connection.
func testSetup(t *testing.T, c *pgcluster.Cluster) {
	dsn := pgtest.CreateDatabase(t, c)
	slot, pub := names(t, randomStreamID(t))
	admin := adminConn(t, dsn)
	t.Cleanup(func() { dropSlotWhenInactive(t, admin, slot) })
	ctx, cancel := context.WithTimeout(context.Background(), actorWait)
	defer cancel()
	cfg := SetupConfig{DSN: dsn, Slot: slot, Publication: pub}

	first, err := Setup(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !first.SlotCreated || !first.PublicationCreated || first.SlotReason != "the slot did not exist" ||
		first.Slot != slot || first.Publication != pub || first.StartLSN == 0 || first.SystemID == "" ||
		first.Timeline < 1 || first.XLogPos == 0 || first.ServerVersion < 100000 ||
		first.WalSenderTimeout != senderTimeout || !strings.HasPrefix(first.DBName, "t_") {
		t.Fatalf("first Setup = %+v", first)
	}
	if got := slotConfirmedFlush(t, admin, slot); got != first.StartLSN {
		t.Fatalf("slot at %v; Setup said %v", got, first.StartLSN)
	}

	again, err := Setup(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if again.SlotCreated || again.PublicationCreated || again.StartLSN != first.StartLSN || again.SystemID != first.SystemID {
		t.Fatalf("second Setup = %+v; want the slot and publication reused at %v", again, first.StartLSN)
	}

	cfg.RecreateSlot, cfg.Reason = true, "slot invalidated"
	fresh, err := Setup(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !fresh.SlotCreated || fresh.PublicationCreated || fresh.SlotReason != "the stream lost continuity: slot invalidated" {
		t.Fatalf("Setup with RecreateSlot = %+v", fresh)
	}

	t.Run("error - missing database is operator-needed on the replication connection", func(t *testing.T) {
		bad := c.DSN("no_such_database")
		_, err := Setup(ctx, SetupConfig{DSN: bad, Slot: slot, Publication: pub})
		ce := connErrorOf(t, err)
		if d := pgwire.Diagnose(err); ce.Role != pgwire.RoleReplication || d.Class != pgwire.OperatorNeeded || d.SQLState != "3D000" {
			t.Fatalf("got %v (%v)", d, err)
		}
	})
	t.Run("error - an unparsable URL is operator-needed", func(t *testing.T) {
		_, err := Setup(ctx, SetupConfig{DSN: "postgres://%zz", Slot: slot, Publication: pub})
		if d := pgwire.Diagnose(err); d.Class != pgwire.OperatorNeeded {
			t.Fatalf("got %v (%v)", d, err)
		}
	})
}
