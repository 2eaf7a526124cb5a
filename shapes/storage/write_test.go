package storage

import (
	"bytes"
	"errors"
	"testing"

	"github.com/shapesync/shapesync/replication/lsn"
)

var snapshotEnd = []byte(`{"headers":{"control":"snapshot-end","xmin":"1","xmax":"2","xip_list":[]}}`)

// TestChangeChunkClosedOnlyByCommit: a chunk may end inside a transaction,
// but readers see it as closed only once the transaction commits.
func TestChangeChunkClosedOnlyByCommit(t *testing.T) {
	t.Parallel()
	s, _ := newTestStore(t, Options{ChunkBytesThreshold: 100})
	w := s.NewWriter()
	b := w.NewBatch()
	must(t, b.EndSnapshot(1, snapshotEnd))
	must(t, b.AppendChange(1, off(10, 0), item("t10", 40)))
	must(t, b.Commit(1, off(10, 0)))
	must(t, b.AppendChange(1, off(20, 0), item("t20a", 59))) // 41+60 = 101: chunk ends at 20_0
	must(t, b.AppendChange(1, off(20, 2), item("t20b", 30)))
	res := mustSync(t, s, b)
	if res.Shapes[0].Committed != off(10, 0) || len(res.Shapes[0].NewChangeChunks) != 0 {
		t.Fatalf("result before the commit: %+v", res.Shapes[0])
	}
	v, _ := s.View(1)
	if ce := v.ChunkEnd(lsn.SnapshotEnd); ce != off(10, 0) {
		t.Fatalf("ChunkEnd(0_inf) = %s before the commit, want the committed end 10_0", ce)
	}
	if err := s.Read(1, lsn.SnapshotEnd, off(20, 0), func([]byte) error { return nil }); !errors.Is(err, ErrBeyondEnd) {
		t.Fatalf("read of an uncommitted transaction: %v, want ErrBeyondEnd", err)
	}
	b = w.NewBatch()
	must(t, b.Commit(1, off(20, 2)))
	res = mustSync(t, s, b)
	want := ChangeChunk{Start: lsn.SnapshotEnd, End: off(20, 0), Bytes: 101, Items: 2}
	if got := res.Shapes[0].NewChangeChunks; len(got) != 1 || got[0] != want {
		t.Fatalf("new change chunks = %+v, want %+v", got, want)
	}
	v, _ = s.View(1)
	if ce := v.ChunkEnd(lsn.SnapshotEnd); ce != off(20, 0) {
		t.Fatalf("ChunkEnd(0_inf) = %s, want the chunk end 20_0", ce)
	}
	if ce := v.ChunkEnd(off(20, 0)); ce != off(20, 2) {
		t.Fatalf("ChunkEnd(20_0) = %s, want the committed end 20_2", ce)
	}
	if got := readRange(t, s, 1, off(20, 0), off(20, 2)); !equalItems(got, [][]byte{item("t20b", 30)}) {
		t.Fatalf("open chunk = %q", got)
	}
}

func TestReadBounds(t *testing.T) {
	t.Parallel()
	s, _ := newTestStore(t, Options{ChunkBytesThreshold: 1 << 20})
	w := s.NewWriter()
	b := w.NewBatch()
	rows := [][]byte{item("r0", 20), item("r1", 20)}
	for _, r := range rows {
		must(t, b.AppendSnapshotRow(1, r))
	}
	must(t, b.EndSnapshot(1, snapshotEnd))
	changes := map[lsn.LogOffset][]byte{}
	for tx := uint64(100); tx <= 300; tx += 100 {
		for op := uint64(0); op <= 4; op += 2 {
			changes[off(tx, op)] = item("c", 20+int(tx/100+op))
			must(t, b.AppendChange(1, off(tx, op), changes[off(tx, op)]))
		}
		if tx < 300 {
			must(t, b.Commit(1, off(tx, 4)))
		}
	}
	mustSync(t, s, b)
	v, _ := s.View(1)
	if v.End() != off(200, 4) {
		t.Fatalf("end %s, want 200_4 (300 is not committed)", v.End())
	}
	cs := func(offs ...lsn.LogOffset) [][]byte {
		var out [][]byte
		for _, o := range offs {
			out = append(out, changes[o])
		}
		return out
	}
	cases := []struct {
		name     string
		from, to lsn.LogOffset
		want     [][]byte
	}{
		{"everything", lsn.BeforeAll, off(200, 4), append(append(append([][]byte{}, rows...), snapshotEnd),
			cs(off(100, 0), off(100, 2), off(100, 4), off(200, 0), off(200, 2), off(200, 4))...)},
		{"strictly after from", off(100, 2), off(200, 0), cs(off(100, 4), off(200, 0))},
		{"from between items", off(100, 1), off(100, 3), cs(off(100, 2))},
		{"from == to", off(100, 2), off(100, 2), nil},
		{"from after to", off(200, 0), off(100, 2), nil},
		{"snapshot only", lsn.BeforeAll, lsn.SnapshotEnd, append(append([][]byte{}, rows...), snapshotEnd)},
		{"after the snapshot", off(0, 0), off(100, 0), cs(off(100, 0))},
		{"from 0_inf", lsn.SnapshotEnd, off(100, 4), cs(off(100, 0), off(100, 2), off(100, 4))},
		{"to between transactions", off(100, 4), off(150, 0), nil},
		{"from inf op", off(100, lsn.OpInf), off(200, 2), cs(off(200, 0), off(200, 2))},
	}
	for _, c := range cases {
		if got := readRange(t, s, 1, c.from, c.to); !equalItems(got, c.want) {
			t.Errorf("%s: Read(%s, %s) = %q, want %q", c.name, c.from, c.to, got, c.want)
		}
	}
	for _, to := range []lsn.LogOffset{off(300, 0), off(200, 5), off(300, 4), {Tx: 1 << 62}} {
		if err := s.Read(1, lsn.BeforeAll, to, func([]byte) error { return nil }); !errors.Is(err, ErrBeyondEnd) {
			t.Errorf("Read up to %s beyond committed 200_4: %v, want ErrBeyondEnd", to, err)
		}
	}
	if err := s.Read(99, lsn.BeforeAll, off(0, 0), func([]byte) error { return nil }); !errors.Is(err, ErrShapeNotFound) {
		t.Errorf("Read of an unknown shape: %v, want ErrShapeNotFound", err)
	}
	stop := errors.New("stop")
	n := 0
	err := s.Read(1, lsn.BeforeAll, off(200, 4), func([]byte) error { n++; return stop })
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("an emit error must stop the read: err %v after %d calls", err, n)
	}
}

func TestSplitItems(t *testing.T) {
	t.Parallel()
	s, dir := newTestStore(t, Options{MaxValueBytes: 64})
	b := s.NewWriter().NewBatch()
	bigRow := item("big-row", 1000)
	must(t, b.AppendSnapshotRow(1, bigRow))
	must(t, b.AppendSnapshotRow(1, item("small", 30)))
	must(t, b.EndSnapshot(1, snapshotEnd))
	exact, over := item("exact", 64), item("over", 65)
	for i, it := range [][]byte{exact, over, item("big-change", 5000)} {
		must(t, b.AppendChange(1, off(7, uint64(2*i)), it))
	}
	must(t, b.Commit(1, off(7, 4)))
	mustSync(t, s, b)
	want := [][]byte{bigRow, item("small", 30), snapshotEnd, exact, over, item("big-change", 5000)}
	if got := flatten(walk(t, s, 1)); !equalItems(got, want) {
		t.Fatalf("walk = %d items, want %d", len(got), len(want))
	}
	if got := readRange(t, s, 1, off(7, 0), off(7, 4)); !equalItems(got, want[4:]) {
		t.Fatalf("read after a plain item = %d items", len(got))
	}
	if got := readRange(t, s, 1, off(7, 2), off(7, 4)); !equalItems(got, want[5:]) {
		t.Fatalf("read after a split item must skip its parts: %d items", len(got))
	}
	keys := allKeys(t, s)
	parts := 0
	for k, v := range keys {
		key, err := DecodeKey([]byte(k))
		if err != nil {
			t.Fatalf("stored key %q: %v", k, err)
		}
		if key.Part > 0 {
			parts++
		}
		if (key.Kind == KeyChange || key.Kind == KeySnapshotRow) && len(v) > 64 {
			t.Errorf("value under %s has %d bytes, above MaxValueBytes", key, len(v))
		}
	}
	wantParts := 0
	for _, it := range want {
		if n := len(it); n > 64 {
			wantParts += (n + 63) / 64
		}
	}
	if parts != wantParts {
		t.Errorf("%d continuation parts, want %d", parts, wantParts)
	}
	s = reopen(t, s, dir, Options{MaxValueBytes: 64})
	t.Cleanup(func() { s.Close() })
	if got := flatten(walk(t, s, 1)); !equalItems(got, want) {
		t.Fatalf("walk after reopen = %d items", len(got))
	}
}

func TestItemAbove16MiB(t *testing.T) {
	t.Parallel()
	s, _ := newTestStore(t, Options{})
	b := s.NewWriter().NewBatch()
	big := item("huge", 17<<20)
	must(t, b.EndSnapshot(1, snapshotEnd))
	must(t, b.AppendChange(1, off(5, 0), big))
	must(t, b.Commit(1, off(5, 0)))
	mustSync(t, s, b)
	got := readRange(t, s, 1, lsn.SnapshotEnd, off(5, 0))
	if len(got) != 1 || !bytes.Equal(got[0], big) {
		t.Fatalf("read back %d items", len(got))
	}
}

func TestInvalidAppends(t *testing.T) {
	t.Parallel()
	s, _ := newTestStore(t, Options{})
	w := s.NewWriter()
	b := w.NewBatch()
	must(t, b.AppendChange(1, off(10, 2), item("a", 20)))
	cases := []struct {
		name string
		err  error
		want error
	}{
		{"empty item", b.AppendChange(1, off(11, 0), nil), ErrInvalidItem},
		{"NUL-led item", b.AppendChange(1, off(11, 0), []byte{0, '{'}), ErrInvalidItem},
		{"tx 0", b.AppendChange(1, off(0, 2), item("a", 20)), ErrInvalidOffset},
		{"-1", b.AppendChange(1, lsn.BeforeAll, item("a", 20)), ErrInvalidOffset},
		{"inf op", b.AppendChange(1, off(11, lsn.OpInf), item("a", 20)), ErrInvalidOffset},
		{"same offset", b.AppendChange(1, off(10, 2), item("a", 20)), ErrOffsetNotIncreasing},
		{"lower offset", b.AppendChange(1, off(10, 0), item("b", 20)), ErrOffsetNotIncreasing},
		{"commit past the last append", b.Commit(1, off(10, 4)), ErrCommitOffset},
		{"commit before the last append", b.Commit(1, off(10, 1)), ErrCommitOffset},
		{"shape 0", b.AppendChange(0, off(11, 0), item("a", 20)), ErrInvalidShapeID},
	}
	for _, c := range cases {
		if !errors.Is(c.err, c.want) {
			t.Errorf("%s: error %v, want %v", c.name, c.err, c.want)
		}
	}
	must(t, b.EndSnapshot(1, snapshotEnd))
	if err := b.EndSnapshot(1, snapshotEnd); !errors.Is(err, ErrSnapshotDone) {
		t.Errorf("second EndSnapshot: %v", err)
	}
	if err := b.AppendSnapshotRow(1, item("late", 20)); !errors.Is(err, ErrSnapshotDone) {
		t.Errorf("row after snapshot-end: %v", err)
	}
	if _, err := s.WriteAndSync(b); !errors.Is(err, ErrBatchNotSealed) {
		t.Errorf("WriteAndSync of an open batch: %v", err)
	}
	b2 := w.NewBatch() // seals b
	b2.Seal()
	if err := b.AppendChange(1, off(12, 0), item("a", 20)); !errors.Is(err, ErrBatchSealed) {
		t.Errorf("append to a sealed batch: %v", err)
	}
	if _, err := s.WriteAndSync(b2); !errors.Is(err, ErrStaleBatch) {
		t.Errorf("writing batch 2 before batch 1: %v", err)
	}
	mustSync(t, s, b)
	mustSync(t, s, b2)
	if _, err := s.WriteAndSync(b); !errors.Is(err, ErrStaleBatch) {
		t.Errorf("writing batch 1 again after batch 2: %v", err)
	}
}

func TestStaleWriterIsRejected(t *testing.T) {
	t.Parallel()
	s, _ := newTestStore(t, Options{})
	old := s.NewWriter()
	ob := old.NewBatch()
	must(t, ob.EndSnapshot(1, snapshotEnd))
	ob.Seal()
	fresh := s.NewWriter()
	fb := fresh.NewBatch()
	must(t, fb.EndSnapshot(2, snapshotEnd))
	mustSync(t, s, fb)
	if _, err := s.WriteAndSync(ob); !errors.Is(err, ErrStaleBatch) {
		t.Fatalf("a batch of a replaced writer: %v, want ErrStaleBatch", err)
	}
	if _, ok := s.View(1); ok {
		t.Fatalf("the stale batch was published")
	}
}

func TestAckedOnlyAfterSync(t *testing.T) {
	t.Parallel()
	s, dir := newTestStore(t, Options{})
	w := s.NewWriter()
	b := w.NewBatch()
	must(t, b.PersistAck(lsn.LSN(0x16B3748)))
	if s.Acked() != 0 {
		t.Fatalf("Acked() = %s before WriteAndSync", s.Acked())
	}
	b.Seal()
	if s.Acked() != 0 {
		t.Fatalf("Acked() = %s after Seal", s.Acked())
	}
	res := mustSync(t, s, b)
	if res.Acked != 0x16B3748 || s.Acked() != 0x16B3748 {
		t.Fatalf("after sync: result %s, Acked() %s", res.Acked, s.Acked())
	}
	if err := w.NewBatch().PersistAck(0x100); !errors.Is(err, ErrAckRegressed) {
		t.Fatalf("a lower ack: %v, want ErrAckRegressed", err)
	}
	s = reopen(t, s, dir, Options{})
	t.Cleanup(func() { s.Close() })
	if s.Acked() != 0x16B3748 {
		t.Fatalf("Acked() after reopen = %s", s.Acked())
	}
}

// TestRollbackThenResend: an abandoned transaction is sent again from its
// start without a writer restart; the log holds it once.
func TestRollbackThenResend(t *testing.T) {
	t.Parallel()
	s, _ := newTestStore(t, Options{ChunkBytesThreshold: 60})
	w := s.NewWriter()
	b := w.NewBatch()
	must(t, b.EndSnapshot(1, snapshotEnd))
	must(t, b.AppendChange(1, off(5, 0), item("5_0", 30)))
	must(t, b.Commit(1, off(5, 0)))
	must(t, b.AppendChange(1, off(6, 0), item("6_0", 40))) // closes a chunk inside tx 6
	mustSync(t, s, b)
	b = w.NewBatch()
	if err := b.AppendChange(1, off(6, 0), item("6_0", 40)); !errors.Is(err, ErrOffsetNotIncreasing) {
		t.Fatalf("re-sending without a rollback: %v", err)
	}
	must(t, b.Rollback(1))
	must(t, b.AppendChange(1, off(6, 0), item("6_0", 40)))
	must(t, b.AppendChange(1, off(6, 2), item("6_2", 30)))
	must(t, b.Commit(1, off(6, 2)))
	res := mustSync(t, s, b)
	want := ChangeChunk{Start: lsn.SnapshotEnd, End: off(6, 0), Bytes: 72, Items: 2}
	if got := res.Shapes[0].NewChangeChunks; len(got) != 1 || got[0] != want {
		t.Fatalf("chunks after the resend = %+v, want one %+v", got, want)
	}
	got := flatten(walk(t, s, 1))
	if !equalItems(got, [][]byte{snapshotEnd, item("5_0", 30), item("6_0", 40), item("6_2", 30)}) {
		t.Fatalf("log = %q", got)
	}
}
