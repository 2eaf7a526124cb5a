package stream

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/shapesync/shapesync/actors/actortest"
	"github.com/shapesync/shapesync/replication/pgcluster"
	"github.com/shapesync/shapesync/replication/pgcluster/pgtest"
	"github.com/shapesync/shapesync/replication/pgwire"
	"github.com/shapesync/shapesync/shapes/protocol"
)

// pg_terminate_backend of the walsender: the actor fails with the
// server's 57P01 on the replication connection (retryable), conn-manager's
// stand-in sees it as the typed failure reason, and the re-spawned actor
// streams under a newer epoch from the acknowledged position, replaying
// the unacknowledged commit only, and reports ready from the new PID.
func testTerminatedBackend(t *testing.T, c *pgcluster.Cluster) {
	db := newStreamDB(t, pgtest.CreateDatabase(t, c))
	k := newTestKit(t)
	b := newFakeBuilder(false)
	st := &actortest.StatusRecorder{}
	m := spawnConnManagerStandIn(t, k, ChildSpec(db.config(k, b.spawn(t, k), st.Spawn(t, k), nil)), 100*time.Millisecond)
	checkFor(t, actorWait, func() error {
		if from, _ := m.ready(); len(from) != 1 {
			return errors.New("replication_ready not reported to the parent")
		}
		return nil
	})

	db.insert(t, 1)
	checkFor(t, actorWait, func() error {
		if len(b.epochs()) == 0 {
			return errors.New("no batch yet")
		}
		return nil
	})
	e1 := b.epochs()[0]
	b.waitInserted(t, e1, "1")
	end1 := b.commitsIn(e1)[0].endLSN
	first := m.current()
	k.Coalesce(first, &protocol.AckLSN{LSN: end1})
	checkFor(t, actorWait, func() error {
		if got := db.confirmedFlush(t); got != end1 {
			return fmt.Errorf("confirmed_flush_lsn %v; want %v", got, end1)
		}
		return nil
	})
	db.insert(t, 2) // received, never acknowledged
	b.waitInserted(t, e1, "1", "2")
	end2 := b.commitsIn(e1)[1].endLSN

	exec(t, db.admin, "SELECT pg_terminate_backend($1)", db.walsenderPID(t))
	err := m.failure(t, 1)
	ce := connErrorOf(t, err)
	d := pgwire.Diagnose(err)
	if ce.Role != pgwire.RoleReplication || d.Class != pgwire.Retryable || d.SQLState != "57P01" {
		t.Fatalf("failure %v: role %s, diagnosis %v; want the replication connection, retryable, SQLSTATE 57P01", err, ce.Role, d)
	}

	// The next incarnation streams under a newer epoch from the ack: the
	// unacknowledged commit comes again, the acknowledged one does not.
	checkFor(t, actorWait, func() error {
		if e := b.epochs(); len(e) < 2 {
			return fmt.Errorf("epochs %v; waiting for the re-spawned stream", e)
		}
		return nil
	})
	e2 := b.epochs()[1]
	if e2 <= e1 {
		t.Fatalf("epoch %d after %d: epochs must grow across incarnations", e2, e1)
	}
	b.waitInserted(t, e2, "2")
	db.insert(t, 3)
	b.waitInserted(t, e2, "2", "3")
	second := b.checkSeqs(t, e2)
	if second == first || second.Id != first.Id {
		t.Fatalf("second stream from %v (%p), first from %v (%p); want a new incarnation under the same id", second, second, first, first)
	}
	if replayed := b.commitsIn(e2)[0].endLSN; replayed != end2 {
		t.Fatalf("first commit of the new stream ends at %v; want the unacknowledged %v", replayed, end2)
	}
	from, strangers := m.ready()
	if len(from) != 2 || from[1] != second || strangers != 0 {
		t.Fatalf("replication_ready from %v (%d from others); want once per incarnation, from the current one", from, strangers)
	}
	if n := countConditions(st, streamReady); n != 2 {
		t.Fatalf("status heard replication_ready %d times; want once per incarnation", n)
	}
	// Only "slot still active" may follow, while the killed walsender lets go.
	for _, r := range m.allFailures()[1:] {
		if err, _ := r.(error); pgwire.Diagnose(err).SQLState != "55006" {
			t.Fatalf("unexpected further failure: %v", r)
		}
	}

	// The respawn was configured with the setup's (older) StartLSN, yet its
	// status updates report the acknowledged position, never an older one
	// (which older Postgres releases would store, moving the slot back).
	waitStatusUpdates(t, db, 3, func(s replicationStat) {
		if s.flush != end1 {
			t.Fatalf("flush_lsn %v reported after the restart; want the acknowledged %v", s.flush, end1)
		}
	})
	if got := db.confirmedFlush(t); got != end1 {
		t.Fatalf("confirmed_flush_lsn %v after the restart; want %v", got, end1)
	}
	k.Coalesce(second, &protocol.AckLSN{LSN: end2})
	checkFor(t, actorWait, func() error {
		if got := db.confirmedFlush(t); got != end2 {
			return fmt.Errorf("confirmed_flush_lsn %v; want %v", got, end2)
		}
		return nil
	})
}

// A batch that bounces (no txn-builder behind the PID) leaves a gap in the
// stream, so the actor fails rather than stream on.
func testUnreachableBuilder(t *testing.T, c *pgcluster.Cluster) {
	db := newStreamDB(t, pgtest.CreateDatabase(t, c))
	k := newTestKit(t)
	nobody := actor.NewPID(k.System().Address(), "no-such-builder")
	m := spawnConnManagerStandIn(t, k, ChildSpec(db.config(k, nobody, nil, nil)), -1)
	// Under load the first keepalive marker can bounce before the stream
	// reports ready; either way the stream must be up or already failed
	// before the insert.
	checkFor(t, actorWait, func() error {
		if from, _ := m.ready(); len(from) == 0 && len(m.allFailures()) == 0 {
			return errors.New("replication_ready not reported to the parent, and no failure either")
		}
		return nil
	})
	db.insert(t, 1)
	err := m.failure(t, 1)
	if !strings.Contains(err.Error(), "could not be delivered to the txn-builder") {
		t.Fatalf("failure %v; want the undeliverable batch named", err)
	}
	if d := pgwire.Diagnose(err); d.Class != pgwire.Retryable {
		t.Fatalf("diagnosis %v; want retryable", d)
	}
}
