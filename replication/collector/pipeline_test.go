package collector_test

import (
	"slices"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/shapesync/shapesync/actors"
	"github.com/shapesync/shapesync/replication/lsn"
	"github.com/shapesync/shapesync/shapes/protocol"
	"github.com/shapesync/shapesync/shapes/storage"
)

var (
	shape1 = shapeDef{1, "h1", table(101, "a")}
	shape2 = shapeDef{2, "h2", table(102, "b")}
	shape3 = shapeDef{3, "h3", table(101, "a")}
	shape4 = shapeDef{4, "h4", table(101, "a")} // subscribed late, snapshot known late
	shape5 = shapeDef{5, "h5", table(102, "b")} // its consumer dies
)

// The transactions, in commit order (commit LSN; end = commit + 0x10).
var (
	t1 = txn(500, 0x1000, nil, insert(relA, 1), insert(relB, 1))
	// Split into three fragments; the middle one touches only b.
	t2 = txn(501, 0x2000, []int{2, 1, 1}, insert(relA, 2), insert(relA, 3), insert(relB, 2), update(relA, 1, 1, "w"))
	t3 = txn(502, 0x3000, nil)                                            // an empty commit
	t4 = txn(503, 0x4000, nil, insert(relC, 1))                           // for no shape
	t5 = txn(504, 0x5000, nil, update(relA, 2, 20, "v"), remove(relB, 1)) // key change; visible to shape 4
	t6 = txn(506, 0x6000, nil, insert(relA, 6))                           // in shape 4's xip: not visible
	t7 = txn(511, 0x7000, nil, insert(relA, 7), insert(relB, 7))
	t8 = txn(512, 0x8000, nil, insert(relB, 8))
	// t9 is cut short by a stream restart, then sent again in full.
	t9 = txn(513, 0x9000, []int{2, 1}, insert(relA, 9), insert(relA, 10), insert(relA, 11))
)

// shape4Snapshot: t5 (xid 504 < xmin) is visible, t6 (in xip) is not,
// t7 (≥ xmax) ends filtering.
var shape4Snapshot = lsn.Snapshot{Xmin: 505, Xmax: 510, Xip: []uint64{506}}

// durableIn lists, per commit, the shapes it gives items to: an AckLSN at
// or past its end requires it durable in each.
var durableIn = map[lsn.LSN][]protocol.ShapeID{
	0x1000: {1, 2, 3}, 0x2000: {1, 2, 3}, 0x5000: {1, 2, 3}, 0x6000: {1, 3, 4},
	0x7000: {1, 2, 3, 4}, 0x8000: {2}, 0x9000: {1, 3, 4},
}

var (
	wantA = []string{
		"insert 1@4096_0+last",
		"insert 2@8192_0", "insert 3@8192_2", "update 1@8192_6+last",
		"delete 2@20480_0", "insert 20@20480_1+last",
		"insert 6@24576_0+last",
		"insert 7@28672_0+last",
	}
	wantB = []string{
		"insert 1@4096_2+last",
		"insert 2@8192_4+last",
		"delete 1@20480_2+last",
		"insert 7@28672_2+last",
		"insert 8@32768_0+last",
	}
	want4  = []string{"insert 6@24576_0+last", "insert 7@28672_0+last"}
	wantT9 = []string{"insert 9@36864_0", "insert 10@36864_2", "insert 11@36864_4+last"}
)

// TestPipeline drives collector, store-writer and consumers on a real
// badger directory with hand-built events, through a fake txn-builder that
// keeps one event in flight and a fake replication actor that checks every
// AckLSN against the durable logs (I3), then restarts everything and
// replays the stream (I2).
func TestPipeline(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := openStore(t, dir)
	p := startPipeline(t, s, s.Acked, durableIn)

	c1, c2, c3 := p.addConsumer(shape1), p.addConsumer(shape2), p.addConsumer(shape3)
	everythingNew := lsn.Snapshot{Xmin: 1, Xmax: 1}
	p.snapshot(shape1, c1, everythingNew)
	p.snapshot(shape2, c2, everythingNew)
	p.snapshot(shape3, c3, everythingNew)
	p.ready()

	// (c) An empty commit, WalEnd and a transaction for no shape advance
	// the ack; it ends at t4's end, past the WalEnd before it.
	p.run(stream(1, t1, t2, t3, lsn.LSN(0x3100), t4))
	p.waitAck(0x4010)
	p.run(stream(1, lsn.LSN(0x4100)))
	p.waitAck(0x4100)

	// (e) Shape 4 joins; its snapshot's visibility is known only after t5
	// and t6 were delivered. Until then it pins the ack (I3).
	c4 := p.addConsumer(shape4)
	p.run(stream(1, t5, t6))
	eventually(t, "shape 1 to store t6", func() bool { v, _ := s.View(1); return v != nil && v.Committed().Tx == 0x6000 })
	time.Sleep(20 * time.Millisecond) // a wrong ack would show up now
	if got := p.repl.last(); got != 0x4100 {
		t.Fatalf("ack %s while shape 4 still buffers t5 and t6, want 0/4100", got)
	}
	p.snapshot(shape4, c4, shape4Snapshot)
	p.waitAck(0x6010)

	// (b) A held sync holds the ack, not the stream.
	p.gate.close()
	p.run(stream(1, t7))
	time.Sleep(30 * time.Millisecond)
	if got := p.repl.last(); got != 0x6010 {
		t.Fatalf("ack %s while t7's sync is held, want 0/6010", got)
	}
	if v, _ := s.View(1); v.Committed().Tx != 0x6000 {
		t.Fatalf("shape 1 committed %s before the sync returned", v.Committed())
	}
	p.gate.open()
	p.waitAck(0x7010)

	// (f) A consumer that dies mid-delivery: the event is handled, its
	// shape unpinned and reported.
	dead, err := p.kit.Spawn("consumer-h5", func() actor.Actor { return dyingConsumer{} }, actors.Count(64), actors.Credit)
	if err != nil {
		t.Fatal(err)
	}
	p.subscribe(shape5, dead)
	p.run(stream(1, t8))
	p.waitAck(0x8010)
	if got := p.invalidated(); !slices.Equal(got, []protocol.ShapeID{5}) {
		for _, m := range of[*protocol.ShapeInvalid](p.registry) {
			t.Logf("%+v", m)
		}
		t.Fatalf("invalidated %v, want [5]", got)
	}

	// (a) Every shape holds exactly its table's changes, in order.
	checkLogs(t, s, nil)
	if v := p.repl.problems(); len(v) > 0 {
		t.Fatalf("I3 violations: %v", v)
	}

	// (d) Restart twice and replay the whole stream each time: first with
	// the collector started below the stored ack (every transaction reaches
	// the consumers again, which must skip what is stored), then as wired
	// (the collector drops what is acknowledged). t9 is cut short by a new
	// epoch once, and its rollback must leave no trace.
	full := func(epoch uint64) []*protocol.Event {
		return stream(epoch, t1, t2, t3, lsn.LSN(0x3100), t4, lsn.LSN(0x4100), t5, t6, t7, t8)
	}
	for round, start := range []func(*storage.Store) func() lsn.LSN{
		func(*storage.Store) func() lsn.LSN { return func() lsn.LSN { return 0 } },
		func(s *storage.Store) func() lsn.LSN { return s.Acked },
	} {
		p.stop()
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		s = openStore(t, dir)
		p = startPipeline(t, s, start(s), durableIn)
		for _, d := range []shapeDef{shape1, shape2, shape3, shape4} {
			p.addConsumer(d)
		}
		p.ready()
		if round == 0 {
			p.run(full(2))
			p.run(stream(2, t9[0])) // the first fragment of t9, then a new epoch
			p.run(stream(3, t9))
			p.waitAck(0x9010)
		} else {
			p.run(append(full(4), stream(4, t9)...))
			time.Sleep(20 * time.Millisecond)
			if got := p.repl.last(); got != 0 {
				t.Fatalf("ack %s after a replay of acknowledged work only", got)
			}
		}
		checkLogs(t, s, wantT9)
		if got := p.invalidated(); len(got) > 0 {
			t.Fatalf("round %d: shapes invalidated by the replay: %v", round, got)
		}
		if v := p.repl.problems(); len(v) > 0 {
			t.Fatalf("round %d: I3 violations: %v", round, v)
		}
	}
	p.stop()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

func checkLogs(t *testing.T, s *storage.Store, extraA []string) {
	t.Helper()
	for _, c := range []struct {
		id   protocol.ShapeID
		want []string
	}{
		{1, append(slices.Clone(wantA), extraA...)},
		{2, wantB},
		{3, append(slices.Clone(wantA), extraA...)},
		{4, append(slices.Clone(want4), extraA...)},
	} {
		if got := logOf(t, s, c.id); !slices.Equal(got, c.want) {
			t.Fatalf("shape %d log:\n got %v\nwant %v", c.id, got, c.want)
		}
	}
}

func openStore(t *testing.T, dir string) *storage.Store {
	t.Helper()
	s, err := storage.Open(dir, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.LoadAll(); err != nil {
		s.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestPipelineSubscribeMidTransaction: a shape subscribed while a
// transaction is being delivered gets the rest of it, which its snapshot
// must show as visible (committed before the subscription, hence before
// the snapshot): it is skipped there and the next transaction appended. If
// it is not visible, the shape fails loudly instead of holding half of it.
func TestPipelineSubscribeMidTransaction(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		snap    lsn.Snapshot
		want6   []string
		invalid []protocol.ShapeID
	}{
		{"ok - visible", lsn.Snapshot{Xmin: 700, Xmax: 700}, []string{"insert 4@12288_0+last"}, nil},
		{"error - not visible", lsn.Snapshot{Xmin: 600, Xmax: 700, Xip: []uint64{601}}, nil, []protocol.ShapeID{6}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := openStore(t, t.TempDir())
			p := startPipeline(t, s, s.Acked, nil)
			c1 := p.addConsumer(shape1)
			p.snapshot(shape1, c1, lsn.Snapshot{Xmin: 1, Xmax: 1})
			p.ready()
			open := txn(601, 0x1000, []int{1, 1}, insert(relA, 1), insert(relA, 2))
			p.run(stream(1, open[0]))
			shape6 := shapeDef{6, "h6", table(101, "a")}
			c6 := p.addConsumer(shape6)
			p.kit.Root().Send(c6, &protocol.SnapshotKnown{Shape: 6, Snapshot: tc.snap})
			p.kit.Root().Send(p.writer, &protocol.SnapshotEnd{Shape: 6, Seq: 1, JSON: []byte(`{"headers":{"control":"snapshot-end"}}`), ReplyTo: p.snapPID})
			p.run(stream(1, open[1], txn(702, 0x3000, nil, insert(relA, 4))))
			p.waitAck(0x3010)
			if got := logOf(t, s, 1); !slices.Equal(got, []string{"insert 1@4096_0", "insert 2@4096_2+last", "insert 4@12288_0+last"}) {
				t.Fatalf("shape 1 log %v", got)
			}
			if tc.invalid == nil {
				if got := logOf(t, s, 6); !slices.Equal(got, tc.want6) {
					t.Fatalf("shape 6 log %v, want %v", got, tc.want6)
				}
			}
			eventually(t, "the expected invalidations", func() bool {
				got := slices.Compact(p.invalidated())
				return slices.Equal(got, tc.invalid)
			})
		})
	}
}
