package storage

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/shapesync/shapesync/replication/lsn"
	"github.com/shapesync/shapesync/shapes/protocol"
)

var (
	pidConsumer  = actor.NewPID("test", "consumer")
	pidCollector = actor.NewPID("test", "collector")
	pidRegistry  = actor.NewPID("test", "registry")
)

// sent renders outgoing messages as "to:kind(detail)".
func sent(out []outgoing) []string {
	var s []string
	for _, o := range out {
		var d string
		switch m := o.msg.(type) {
		case *protocol.Accepted:
			d = fmt.Sprintf("accepted(%d)", m.Seq)
		case *protocol.FlushedBatch:
			var parts []string
			for id, l := range m.Shapes {
				parts = append(parts, fmt.Sprintf("%d=%d", id, l))
			}
			slices.Sort(parts)
			d = "flushed(" + strings.Join(parts, ",") + ")"
		case *protocol.AckPersisted:
			d = fmt.Sprintf("ackpersisted(%d)", m.LSN)
		case *protocol.RowsAccepted:
			d = fmt.Sprintf("rows(%d)", m.Seq)
		case *protocol.SnapshotStored:
			d = fmt.Sprintf("stored(%d)", m.Seq)
		case *protocol.SnapshotFailed:
			d = "snapshotfailed"
		case *protocol.ShapeInvalid:
			d = fmt.Sprintf("invalid(%d)", m.Shape)
		default:
			d = fmt.Sprintf("%T", m)
		}
		to := "nil"
		if o.to != nil {
			to = o.to.Id
		}
		s = append(s, to+":"+d)
	}
	return s
}

func expectSent(t *testing.T, what string, got []outgoing, want ...string) {
	t.Helper()
	if g := sent(got); !slices.Equal(g, want) {
		t.Fatalf("%s: sent %v, want %v", what, g, want)
	}
}

func appendMsg(seq uint64, shape protocol.ShapeID, commit lsn.LSN, offs ...lsn.LogOffset) *protocol.Append {
	m := &protocol.Append{Seq: seq, Shape: shape, ReplyTo: pidConsumer}
	for _, o := range offs {
		m.Items = append(m.Items, protocol.LogItem{Offset: o, JSON: item(o.String(), 40)})
	}
	if commit != 0 {
		m.Commit = &protocol.CommitMark{LSN: commit}
	}
	return m
}

func newCore(t *testing.T, bound int64) (*writerCore, *Store) {
	t.Helper()
	s, _ := newTestStore(t, Options{InMemory: true})
	return newWriterCore(s.NewWriter(), bound, pidCollector, pidRegistry), s
}

// snapshotDone ends the shapes' (empty) snapshots, so their change logs
// are readable.
func snapshotDone(t *testing.T, c *writerCore, s *Store, shapes ...protocol.ShapeID) {
	t.Helper()
	for _, id := range shapes {
		c.SnapshotEnd(&protocol.SnapshotEnd{Shape: id, JSON: item("snapshot-end", 30)})
	}
	syncNow(t, c, s)
	c.take()
}

// syncNow writes the batch handed out by StartSync and reports it.
func syncNow(t *testing.T, c *writerCore, s *Store) []outgoing {
	t.Helper()
	b, done := c.StartSync()
	if done != nil {
		return done.sends
	}
	if b == nil {
		t.Fatal("StartSync handed out nothing")
	}
	res, err := s.WriteAndSync(b)
	if err != nil {
		t.Fatal(err)
	}
	return c.Synced(res).sends
}

func TestWriterCoreReportsOnlyAfterSync(t *testing.T) {
	t.Parallel()
	c, s := newCore(t, 1<<20)
	snapshotDone(t, c, s, 7, 8)
	c.Append(appendMsg(1, 7, 100, off(100, 0), off(100, 2)))
	expectSent(t, "append", c.take(), "consumer:accepted(1)")
	b, done := c.StartSync()
	if b == nil || done != nil {
		t.Fatal("no batch handed out")
	}
	// While it syncs, the next appends fill the other buffer.
	c.Append(appendMsg(2, 7, 200, off(200, 0)))
	c.Append(appendMsg(3, 8, 200, off(200, 4)))
	expectSent(t, "appends during the sync", c.take(), "consumer:accepted(2)", "consumer:accepted(3)")
	if nb, nd := c.StartSync(); nb != nil || nd != nil {
		t.Fatal("a second batch was handed out while one syncs")
	}
	if v, ok := s.View(7); ok && v.Committed().Tx != 0 {
		t.Fatal("durable before the sync")
	}
	res, err := s.WriteAndSync(b)
	if err != nil {
		t.Fatal(err)
	}
	done = c.Synced(res)
	expectSent(t, "first sync", done.sends, "collector:flushed(7=100)")
	if !slices.Equal(done.shapes, []uint64{7}) {
		t.Fatalf("synced shapes %v", done.shapes)
	}
	expectSent(t, "second sync", syncNow(t, c, s), "collector:flushed(7=200,8=200)")
	if got := readRange(t, s, 7, lsn.SnapshotEnd, off(200, 0)); len(got) != 3 {
		t.Fatalf("shape 7 has %d items", len(got))
	}
}

func TestWriterCoreItemsFreeCommits(t *testing.T) {
	t.Parallel()
	c, s := newCore(t, 1<<20)
	// No sync in flight: an items-free commit completes without I/O.
	c.Append(appendMsg(1, 7, 100))
	b, done := c.StartSync()
	if b != nil || done == nil {
		t.Fatal("an items-free commit needed a sync")
	}
	expectSent(t, "items-free commit", append(c.take(), done.sends...), "consumer:accepted(1)", "collector:flushed(7=100)")
	// With a sync in flight it waits for it: shape 7's earlier data must
	// be durable before its later commit is reported (I3).
	c.Append(appendMsg(2, 7, 200, off(200, 0)))
	b, _ = c.StartSync()
	c.Append(appendMsg(3, 7, 300))
	c.take()
	if nb, nd := c.StartSync(); nb != nil || nd != nil {
		t.Fatal("reported while the previous batch syncs")
	}
	res, err := s.WriteAndSync(b)
	if err != nil {
		t.Fatal(err)
	}
	expectSent(t, "after the first sync", c.Synced(res).sends, "collector:flushed(7=200)")
	expectSent(t, "then the items-free commit", syncNow(t, c, s), "collector:flushed(7=300)")
}

func TestWriterCoreCredit(t *testing.T) {
	t.Parallel()
	c, s := newCore(t, 100) // two 40-byte items fit, three do not
	c.Append(appendMsg(1, 7, 0, off(100, 0)))
	c.Append(appendMsg(2, 7, 0, off(100, 2)))
	expectSent(t, "under the bound", c.take(), "consumer:accepted(1)", "consumer:accepted(2)")
	c.Append(appendMsg(3, 7, 100, off(100, 4)))
	expectSent(t, "over the bound", c.take())
	expectSent(t, "the sync frees the credit", syncNow(t, c, s), "collector:flushed(7=100)", "consumer:accepted(3)")
}

func TestWriterCorePersistAck(t *testing.T) {
	t.Parallel()
	c, s := newCore(t, 1<<20)
	c.Append(appendMsg(1, 7, 100, off(100, 0)))
	if err := c.PersistAck(90); err != nil {
		t.Fatal(err)
	}
	c.take()
	if s.Acked() != 0 {
		t.Fatal("acked before the sync")
	}
	expectSent(t, "sync", syncNow(t, c, s), "collector:flushed(7=100)", "collector:ackpersisted(90)")
	if s.Acked() != 90 {
		t.Fatalf("S|acked %s", s.Acked())
	}
	// Below the stored ack (a collector that started lower): answered
	// without writing S|acked, since 90 is durable.
	if err := c.PersistAck(80); err != nil {
		t.Fatal(err)
	}
	expectSent(t, "a lower ack", syncNow(t, c, s), "collector:ackpersisted(80)")
	if s.Acked() != 90 {
		t.Fatalf("S|acked moved back to %s", s.Acked())
	}
}

func TestWriterCoreRollback(t *testing.T) {
	t.Parallel()
	c, s := newCore(t, 1<<20)
	snapshotDone(t, c, s, 7)
	c.Append(appendMsg(1, 7, 100, off(100, 0)))
	c.Append(appendMsg(2, 7, 0, off(200, 0), off(200, 2)))
	syncNow(t, c, s) // the partial transaction reaches the disk, uncommitted
	c.Rollback(&protocol.Rollback{Seq: 3, Shape: 7, ReplyTo: pidConsumer})
	c.Append(appendMsg(4, 7, 200, off(200, 0), off(200, 2)))
	expectSent(t, "rollback and resend", c.take(), "consumer:accepted(3)", "consumer:accepted(4)")
	expectSent(t, "sync", syncNow(t, c, s), "collector:flushed(7=200)")
	if got := readRange(t, s, 7, lsn.SnapshotEnd, off(200, 2)); len(got) != 3 {
		t.Fatalf("shape 7 has %d items after the resend, want 3", len(got))
	}
}

func TestWriterCoreBrokenShape(t *testing.T) {
	t.Parallel()
	c, s := newCore(t, 1<<20)
	c.Append(appendMsg(1, 7, 0, off(100, 2)))
	c.Append(appendMsg(2, 7, 100, off(100, 0))) // not after the last offset
	expectSent(t, "rejected append", c.take(), "consumer:accepted(1)", "registry:invalid(7)", "consumer:accepted(2)")
	c.Append(appendMsg(3, 7, 300, off(300, 0)))
	c.Append(appendMsg(4, 8, 300, off(300, 0)))
	expectSent(t, "later appends", c.take(), "consumer:accepted(3)", "consumer:accepted(4)")
	// The broken shape's commits are still reported, so it pins nothing.
	expectSent(t, "sync", syncNow(t, c, s), "collector:flushed(7=300,8=300)")
	if v, ok := s.View(7); ok && v.Committed().Tx != 0 {
		t.Fatalf("broken shape committed %s", v.Committed())
	}
}

func TestWriterCoreSnapshotAndState(t *testing.T) {
	t.Parallel()
	c, s := newCore(t, 1<<20)
	c.SnapshotRows(&protocol.SnapshotRows{Shape: 7, Seq: 1, Rows: [][]byte{item("r1", 30), item("r2", 30)}, ReplyTo: pidConsumer})
	c.SnapshotEnd(&protocol.SnapshotEnd{Shape: 7, Seq: 2, JSON: item("end", 30), ReplyTo: pidConsumer})
	c.ConsumerState(&protocol.ConsumerState{Shape: 7, State: []byte("state")})
	expectSent(t, "rows", c.take(), "consumer:rows(1)")
	expectSent(t, "sync", syncNow(t, c, s), "consumer:stored(2)")
	v, ok := s.View(7)
	if !ok || !v.SnapshotDone() || string(v.ConsumerMeta()) != "state" {
		t.Fatalf("after the sync: view %v, done %t, meta %q", ok, ok && v.SnapshotDone(), v.ConsumerMeta())
	}
	c.SnapshotEnd(&protocol.SnapshotEnd{Shape: 7, Seq: 3, JSON: item("end", 30), ReplyTo: pidConsumer})
	expectSent(t, "second snapshot end", c.take(), "registry:invalid(7)", "consumer:snapshotfailed")
}

func TestWriterCoreResetAfterPurge(t *testing.T) {
	t.Parallel()
	c, s := newCore(t, 1<<20)
	c.Append(appendMsg(1, 7, 100, off(100, 0)))
	b, _ := c.StartSync() // in flight when the store is purged
	c.SnapshotEnd(&protocol.SnapshotEnd{Shape: 8, Seq: 2, JSON: item("end", 30), ReplyTo: pidConsumer})
	c.take()
	if err := s.PurgeAll(); err != nil {
		t.Fatal(err)
	}
	expectSent(t, "reset", c.Reset(s.NewWriter()), "consumer:snapshotfailed")
	if _, err := s.WriteAndSync(b); err == nil {
		t.Fatal("a batch of the writer before the purge was written")
	}
	// The fresh writer works on the purged store.
	c.Append(appendMsg(3, 7, 200, off(200, 0)))
	expectSent(t, "after the reset", append(c.take(), syncNow(t, c, s)...), "consumer:accepted(3)", "collector:flushed(7=200)")
	if v, ok := s.View(7); !ok || v.Committed() != off(200, 0) {
		t.Fatalf("shape 7 after the reset: %v", v)
	}
}
