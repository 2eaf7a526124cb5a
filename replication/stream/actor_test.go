package stream

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shapesync/shapesync/actors/actortest"
	"github.com/shapesync/shapesync/replication/lsn"
	"github.com/shapesync/shapesync/replication/pgcluster"
	"github.com/shapesync/shapesync/replication/pgcluster/pgtest"
	"github.com/shapesync/shapesync/shapes/protocol"
)

// senderTimeout is the actor tests' wal_sender_timeout: short, so a stream
// whose status updates stopped would be cut within the test, and the
// keepalive interval (timeout/3 = 1 s) makes status updates frequent.
const senderTimeout = 3 * time.Second

var streamReady = protocol.Condition{Name: protocol.CondReplication, OK: true}

// The replication actor against a real server whose wal_sender_timeout is
// 3 s; each subtest has its own database and slot.
func TestActor(t *testing.T) {
	t.Parallel()
	c := pgtest.Start(t, pgcluster.Options{Settings: map[string]string{"wal_sender_timeout": "3s"}})
	t.Run("ok - batches carry the inserts in order, one epoch, seq 1, 2, 3, …", func(t *testing.T) {
		t.Parallel()
		testStreamsInOrder(t, c)
	})
	t.Run("ok - an ack reaches confirmed_flush_lsn and the slot never passes it", func(t *testing.T) {
		t.Parallel()
		testAckFence(t, c)
	})
	t.Run("ok - withheld credit pauses reading; status updates keep the walsender", func(t *testing.T) {
		t.Parallel()
		testPauseKeepsConnection(t, c)
	})
	t.Run("error - a terminated backend fails the actor classified; the next one replays from the ack", func(t *testing.T) {
		t.Parallel()
		testTerminatedBackend(t, c)
	})
	t.Run("error - a batch the txn-builder never got fails the stream", func(t *testing.T) {
		t.Parallel()
		testUnreachableBuilder(t, c)
	})
	t.Run("ok - Setup creates the slot, reuses it, recreates it on request", func(t *testing.T) {
		t.Parallel()
		testSetup(t, c)
	})
}

// Under a kit supervisor: ready goes to status, the inserts arrive in
// commit order in one epoch with seq 1, 2, 3, … from the replication actor,
// payload positions only grow, and the received position reaches the last
// commit's end.
func testStreamsInOrder(t *testing.T, c *pgcluster.Cluster) {
	db := newStreamDB(t, pgtest.CreateDatabase(t, c))
	k := newTestKit(t)
	b := newFakeBuilder(false)
	st := &actortest.StatusRecorder{}
	pos := &positionsRecorder{}
	id := spawnSupervised(t, k, ChildSpec(db.config(k, b.spawn(t, k), st.Spawn(t, k), pos)))
	checkFor(t, actorWait, func() error {
		if countConditions(st, streamReady) != 1 {
			return errors.New("replication_ready not reported to status")
		}
		return nil
	})

	db.insert(t, 1)
	db.insert(t, 2, 3)
	db.insert(t, 4)
	checkFor(t, actorWait, func() error {
		if len(b.epochs()) == 0 {
			return errors.New("no batch yet")
		}
		return nil
	})
	epoch := b.epochs()[0]
	b.waitInserted(t, epoch, "1", "2", "3", "4")
	if e := b.epochs(); len(e) != 1 {
		t.Fatalf("epochs %v; want one", e)
	}
	sender := b.checkSeqs(t, epoch)
	if sender.Id != id {
		t.Fatalf("batches sent by %s; want the replication actor %s", sender.Id, id)
	}

	// WAL positions only grow, payloads and markers never mix, commits are
	// in order with their end past their start.
	var last lsn.LSN
	for _, r := range b.all() {
		for _, it := range r.items {
			if it.WalEnd != 0 && (it.Data != nil || it.WALStart != 0) {
				t.Fatalf("batch %d: marker %v carries payload fields", r.seq, it)
			}
			if it.WALStart != 0 {
				if it.WALStart < last {
					t.Fatalf("batch %d: WAL position %v after %v", r.seq, it.WALStart, last)
				}
				last = it.WALStart
			}
		}
	}
	commits := b.commitsIn(epoch)
	if len(commits) != 3 {
		t.Fatalf("commits %v; want 3", commits)
	}
	for i, cm := range commits {
		if cm.endLSN <= cm.commitLSN || (i > 0 && cm.commitLSN <= commits[i-1].endLSN) {
			t.Fatalf("commits out of order: %v", commits)
		}
	}
	lastEnd := commits[2].endLSN
	checkFor(t, actorWait, func() error {
		if got := lsn.LSN(pos.received.Load()); got < lastEnd {
			return fmt.Errorf("received position %v; want ≥ %v", got, lastEnd)
		}
		return nil
	})
	if acked := pos.ackedSeen(); len(acked) != 0 {
		t.Fatalf("acked positions %v published without an AckLSN", acked)
	}

	res, err := k.Root().RequestFuture(sender, &protocol.Inspect{}, actorWait).Result()
	if err != nil {
		t.Fatal(err)
	}
	if s := res.(*protocol.Inspection).Summary; !strings.Contains(s, "streaming (epoch "+strconv.FormatUint(epoch, 10)+")") {
		t.Fatalf("Inspect summary %q", s)
	}
}

// AckLSN of a commit end becomes confirmed_flush_lsn; later data is
// reported received (write_lsn) but the flush stays at the ack over several
// status updates; older and zero acks are ignored; the next ack moves on.
func testAckFence(t *testing.T, c *pgcluster.Cluster) {
	db := newStreamDB(t, pgtest.CreateDatabase(t, c))
	k := newTestKit(t)
	b := newFakeBuilder(false)
	pos := &positionsRecorder{}
	spawnSupervised(t, k, ChildSpec(db.config(k, b.spawn(t, k), nil, pos)))

	db.insert(t, 1)
	db.insert(t, 2)
	checkFor(t, actorWait, func() error {
		if len(b.epochs()) == 0 {
			return errors.New("no batch yet")
		}
		return nil
	})
	epoch := b.epochs()[0]
	b.waitInserted(t, epoch, "1", "2")
	repl := b.checkSeqs(t, epoch)
	commits := b.commitsIn(epoch)
	end1, end2 := commits[0].endLSN, commits[1].endLSN

	k.Coalesce(repl, &protocol.AckLSN{LSN: end1})
	checkFor(t, actorWait, func() error {
		if got := db.confirmedFlush(t); got != end1 {
			return fmt.Errorf("confirmed_flush_lsn %v; want %v", got, end1)
		}
		return nil
	})

	// An older ack and a zero one change nothing; the server hears that
	// everything was received (write) while flush stays at the ack.
	k.Coalesce(repl, &protocol.AckLSN{LSN: end1 - 1})
	k.Coalesce(repl, &protocol.AckLSN{LSN: 0})
	checkFor(t, actorWait, func() error {
		s, ok := db.replicationStat(t)
		switch {
		case !ok:
			return errors.New("no walsender")
		case s.flush != end1:
			t.Fatalf("flush_lsn %v reported; only %v was acknowledged", s.flush, end1)
		case s.write < end2:
			return fmt.Errorf("write_lsn %v; waiting for %v", s.write, end2)
		}
		return nil
	})
	// Several status updates later the slot is still at the ack.
	waitStatusUpdates(t, db, 3, func(s replicationStat) {
		if s.flush != end1 {
			t.Fatalf("flush_lsn %v reported; only %v was acknowledged", s.flush, end1)
		}
	})
	if got := db.confirmedFlush(t); got != end1 {
		t.Fatalf("confirmed_flush_lsn %v moved past the acknowledged %v (received up to %v)", got, end1, end2)
	}

	k.Coalesce(repl, &protocol.AckLSN{LSN: end2})
	checkFor(t, actorWait, func() error {
		if got := db.confirmedFlush(t); got != end2 {
			return fmt.Errorf("confirmed_flush_lsn %v; want %v", got, end2)
		}
		return nil
	})
	if got := pos.ackedSeen(); !slices.Equal(got, []lsn.LSN{end1, end2}) {
		t.Fatalf("acked positions published %v; want [%v %v]", got, end1, end2)
	}
}

// With every BatchDone withheld the pump stops at its window and reading
// pauses (write_lsn stays below the commit), while status updates keep the
// same walsender connected past 2 × wal_sender_timeout; returning the
// credit delivers the whole transaction in the same epoch, no restart.
func testPauseKeepsConnection(t *testing.T, c *pgcluster.Cluster) {
	db := newStreamDB(t, pgtest.CreateDatabase(t, c))
	k := newTestKit(t)
	b := newFakeBuilder(true)
	builder := b.spawn(t, k)
	id := spawnSupervised(t, k, ChildSpec(db.config(k, builder, nil, nil)))

	const rows = 3000 // far more items than the window's batches hold
	ids := make([]int, rows)
	want := make([]string, rows)
	for i := range ids {
		ids[i], want[i] = i+1, strconv.Itoa(i+1)
	}
	db.insert(t, ids...)

	checkFor(t, actorWait, func() error {
		if n := len(b.all()); n < defaultWindow {
			return fmt.Errorf("%d batches delivered; waiting for the window of %d", n, defaultWindow)
		}
		return nil
	})
	walsender := db.walsenderPID(t)
	if walsender == 0 {
		t.Fatal("no walsender streams the slot")
	}
	var writes []lsn.LSN
	waitFor := 2*senderTimeout + time.Second
	start := time.Now()
	waitStatusUpdates(t, db, 5, func(s replicationStat) {
		if s.pid != walsender {
			t.Fatalf("walsender %d replaced by %d while paused", walsender, s.pid)
		}
		if n := len(b.all()); n != defaultWindow {
			t.Fatalf("%d batches delivered without credit; the window is %d", n, defaultWindow)
		}
		writes = append(writes, s.write)
	})
	if elapsed := time.Since(start); elapsed < waitFor {
		// Five status updates at 1 s intervals may come in under 2 × the
		// timeout: watch until it has passed.
		checkFor(t, actorWait, func() error {
			s, ok := db.replicationStat(t)
			if !ok || s.pid != walsender {
				t.Fatalf("walsender %d gone while paused (now %v)", walsender, s)
			}
			if time.Since(start) < waitFor {
				return errors.New("still within 2 × wal_sender_timeout")
			}
			return nil
		})
	}
	if n := len(b.insertedIn(b.epochs()[0])); n >= rows {
		t.Fatalf("all %d rows arrived while paused", n)
	}

	k.Root().Send(builder, &releaseCredits{})
	epoch := b.epochs()[0]
	b.waitInserted(t, epoch, want...)
	if e := b.epochs(); len(e) != 1 {
		t.Fatalf("epochs %v: the stream restarted", e)
	}
	b.checkSeqs(t, epoch)
	end := b.commitsIn(epoch)[0].endLSN
	for _, w := range writes {
		if w >= end {
			t.Fatalf("write_lsn %v while paused reached the commit end %v: reading did not pause", w, end)
		}
	}
	if info, ok := k.Lookup(id); !ok || info.Restarts != 0 {
		t.Fatalf("replication actor %s: %+v; want running, never restarted", id, info)
	}
}
