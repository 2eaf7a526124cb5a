package stream

import (
	"bytes"
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"go.uber.org/goleak"

	"github.com/shapesync/shapesync/replication/lsn"
	"github.com/shapesync/shapesync/replication/pgwire"
)

func TestMain(m *testing.M) {
	code := pg.Run(m) // destroys the shared cluster, if a test started it
	if code == 0 {
		if err := goleak.Find(); err != nil {
			os.Stderr.WriteString("goleak: " + err.Error() + "\n")
			code = 1
		}
	}
	os.Exit(code)
}

const hour = time.Hour

// (a) A keepalive that asks for a reply while received data is not yet
// durable is answered with the acked position, not with wal_end or the
// received position. Catches: replying with flush = wal_end / received (the
// 1.7.9 reference bug, RELIABILITY "Bugs the reference shipped"), leaving
// flush 0 in the reply (pglogrepl turns it into the write position), not
// replying at once when asked (the periodic interval here is an hour), and
// SetAcked not reaching the wire promptly.
func TestKeepaliveReplyNeverAcksUndeliveredData(t *testing.T) {
	t.Parallel()
	const start, commitEnd, walEnd lsn.LSN = 0x1000, 0x2100, 0x3000
	h := startPump(t, Config{StartAcked: start, KeepaliveInterval: hour, WatchdogTimeout: hour})

	h.srv.send(xlogData(0x2000, []byte("B-begin")))
	h.srv.send(xlogData(commitEnd, []byte("C-commit")))
	h.srv.send(keepalive(walEnd, true))
	st := h.srv.nextStatus()
	if st.flush != start || st.apply != start {
		t.Fatalf("reply to a keepalive acknowledged %v/%v with nothing acked beyond %v", st.flush, st.apply, start)
	}
	if st.write != walEnd {
		t.Fatalf("write position %v; want the received %v", st.write, walEnd)
	}

	h.pump.SetAcked(commitEnd)
	if st := h.srv.nextStatus(); st.flush != commitEnd || st.apply != commitEnd {
		t.Fatalf("after SetAcked(%v) the update says flush %v apply %v", commitEnd, st.flush, st.apply)
	}
	h.srv.send(keepalive(walEnd+0x100, true))
	if st := h.srv.nextStatus(); st.flush != commitEnd {
		t.Fatalf("second reply flush %v; want %v (what SetAcked gave)", st.flush, commitEnd)
	}
	if got := h.pump.Acked(); got != commitEnd {
		t.Fatalf("Acked() = %v; want %v", got, commitEnd)
	}
	// The data reached downstream in the meantime: the ack was withheld
	// because it was not acknowledged, not because it was not delivered.
	if b := h.nextBatch(); len(b.Items) == 0 || string(b.Items[0].Data) != "B-begin" {
		t.Fatalf("first batch %+v", b)
	}
}

// (b) The flush position is never 0 and never moves back. Catches: a
// constructor that accepts StartAcked 0, and SetAcked storing a lower or
// zero value (a zero flush would be rewritten into the write position by
// pglogrepl and acknowledge 0x9000 below).
func TestFlushNeverZeroNorBackwards(t *testing.T) {
	t.Parallel()
	if _, err := NewPump(Config{Conn: &pgconn.PgConn{}, Deliver: func(Batch) {}}); err == nil {
		t.Fatal("NewPump accepted StartAcked 0/0")
	}
	const start lsn.LSN = 0x5000
	h := startPump(t, Config{StartAcked: start, KeepaliveInterval: hour, WatchdogTimeout: hour})
	h.srv.send(xlogData(0x9000, []byte("x")))

	h.pump.SetAcked(0)
	h.pump.SetAcked(start - 0x1000)
	h.srv.send(keepalive(0x9000, true))
	seen := []status{h.srv.nextStatus()}
	h.pump.SetAcked(0x6000)
	seen = append(seen, h.srv.nextStatus())
	h.pump.SetAcked(0x5800)
	h.pump.SetAcked(0)
	h.srv.send(keepalive(0x9100, true))
	seen = append(seen, h.srv.nextStatus())

	want := []lsn.LSN{start, 0x6000, 0x6000}
	for i, st := range seen {
		if st.flush == 0 || st.flush == st.write || st.flush != want[i] {
			t.Fatalf("update %d: flush %v write %v; want flush %v", i, st.flush, st.write, want[i])
		}
	}
	if h.pump.Acked() != 0x6000 {
		t.Fatalf("Acked() = %v", h.pump.Acked())
	}
}

// (c) While downstream holds every credit, the pump stops reading but keeps
// sending status updates (B4). Catches: keepalives sent only from the read
// path (none would arrive while paused), and reading on without credit (the
// third message would be consumed while paused).
func TestStatusUpdatesFlowWhilePaused(t *testing.T) {
	t.Parallel()
	const start lsn.LSN = 0x100
	h := startPump(t, Config{StartAcked: start, Window: 1, MaxBatchItems: 1,
		KeepaliveInterval: 20 * time.Millisecond, WatchdogTimeout: hour})

	h.srv.send(xlogData(0x200, []byte("one")))
	if b := h.nextBatch(); string(b.Items[0].Data) != "one" {
		t.Fatalf("first batch %q", b.Items[0].Data)
	}
	h.srv.send(xlogData(0x300, []byte("two"))) // read and held: no credit left
	third := h.srv.sendAsync(xlogData(0x400, []byte("three")))

	// Drop updates already in flight, then require three more while paused.
	for len(h.srv.status) > 0 {
		<-h.srv.status
	}
	for i := 0; i < 3; i++ {
		if st := h.srv.nextStatus(); st.flush != start {
			t.Fatalf("paused update flush %v; want %v", st.flush, start)
		}
	}
	select {
	case <-third:
		t.Fatal("the pump read a message while it held a full batch and no credit")
	default:
	}
	if len(h.batches) != 0 {
		t.Fatal("a batch was delivered without credit")
	}

	h.pump.Credit()
	if b := h.nextBatch(); string(b.Items[0].Data) != "two" {
		t.Fatalf("after credit: %q", b.Items[0].Data)
	}
	h.pump.Credit()
	if b := h.nextBatch(); string(b.Items[0].Data) != "three" {
		t.Fatalf("after second credit: %q", b.Items[0].Data)
	}
	<-third
}

// (d) Payloads handed downstream are copies: the next receive reuses
// pgconn's read buffer (GO_STACK L3). Catches: delivering xld.WALData
// itself — the first payload would read "BBBB…" after the second arrives.
func TestPayloadsAreCopies(t *testing.T) {
	t.Parallel()
	h := startPump(t, Config{StartAcked: 0x10, KeepaliveInterval: hour, WatchdogTimeout: hour})
	a := bytes.Repeat([]byte{'A'}, 64)
	h.srv.send(xlogData(0x20, a))
	first := h.nextBatch()
	h.srv.send(xlogData(0x30, bytes.Repeat([]byte{'B'}, 64)))
	second := h.nextBatch() // sentinel: the second receive has overwritten the buffer
	if !bytes.Equal(first.Items[0].Data, a) {
		t.Fatalf("first payload changed after the next receive: %q", first.Items[0].Data)
	}
	if second.Items[0].Data[0] != 'B' || first.Bytes != 64 {
		t.Fatalf("second payload %q, first batch bytes %d", second.Items[0].Data, first.Bytes)
	}
}

// (e) Keepalive markers travel in the item stream, behind the data received
// before them, even while that data is held for want of credit. Catches:
// delivering markers out of band or ahead of a held batch (an ack could
// then pass data still in flight), and duplicate markers for a wal_end that
// did not move.
func TestWalEndMarkersKeepTheirPlace(t *testing.T) {
	t.Parallel()
	h := startPump(t, Config{StartAcked: 0x1000, Window: 1, KeepaliveInterval: hour, WatchdogTimeout: hour})
	h.srv.send(keepalive(0x1000, false)) // not beyond the start: no marker
	h.srv.send(xlogData(0x1100, []byte("x1")))
	got := h.nextBatch().Items // took the only credit
	h.srv.send(xlogData(0x1200, []byte("x2")))
	h.srv.send(keepalive(0x3000, false))
	h.srv.send(keepalive(0x3000, false)) // same wal_end: no second marker
	h.srv.send(xlogData(0x3100, []byte("x3")))
	h.srv.send(keepalive(0x4000, false))
	// Sentinel: the 0x4000 marker. The pump may still be appending the last
	// frames it read when credit arrives, so take batches until it shows up.
	for n := 0; n == 0 || got[n-1].WalEnd != 0x4000; n = len(got) {
		h.pump.Credit()
		got = append(got, h.nextBatch().Items...)
	}
	want := []WalItem{
		{Kind: KindXLogData, WALStart: 0x1100, Data: []byte("x1")},
		{Kind: KindXLogData, WALStart: 0x1200, Data: []byte("x2")},
		{Kind: KindWalEnd, WalEnd: 0x3000},
		{Kind: KindXLogData, WALStart: 0x3100, Data: []byte("x3")},
		{Kind: KindWalEnd, WalEnd: 0x4000},
	}
	if len(got) != len(want) {
		t.Fatalf("items %+v; want %+v", got, want)
	}
	for i := range want {
		if got[i].Kind != want[i].Kind || got[i].WALStart != want[i].WALStart || got[i].WalEnd != want[i].WalEnd || !bytes.Equal(got[i].Data, want[i].Data) {
			t.Fatalf("item %d = %+v; want %+v", i, got[i], want[i])
		}
	}
	if h.pump.Received() != 0x4000 {
		t.Fatalf("Received() = %v", h.pump.Received())
	}
}

// (f) A server that sends nothing ends Run after the watchdog timeout,
// although the pump keeps writing status updates. Catches: no watchdog, and
// a watchdog reset by the pump's own sends (it would never fire here).
func TestWatchdogFiresWhenServerGoesSilent(t *testing.T) {
	t.Parallel()
	const watchdog = 150 * time.Millisecond
	began := time.Now()
	h := startPump(t, Config{StartAcked: 0x10, KeepaliveInterval: 10 * time.Millisecond, WatchdogTimeout: watchdog})
	err := h.runResult()
	if !errors.Is(err, ErrServerSilent) {
		t.Fatalf("Run returned %v; want ErrServerSilent", err)
	}
	if elapsed := time.Since(began); elapsed < watchdog {
		t.Fatalf("watchdog fired after %s, before %s of silence", elapsed, watchdog)
	}
	if len(h.srv.status) < 2 {
		t.Fatalf("only %d status updates while waiting; the pump stopped sending", len(h.srv.status))
	}
	if pgwire.Classify(err) != pgwire.Retryable {
		t.Fatalf("watchdog error classified %v", pgwire.Classify(err))
	}
}

// Time spent paused does not count as server silence: a pause longer than
// the watchdog ends in delivery, not in ErrServerSilent (B4: zero
// reconnects). Catches: a watchdog clock that keeps running while the pump
// is not reading.
func TestPauseLongerThanWatchdogIsNotSilence(t *testing.T) {
	t.Parallel()
	const watchdog = 100 * time.Millisecond
	h := startPump(t, Config{StartAcked: 0x10, Window: 1, MaxBatchItems: 1,
		KeepaliveInterval: 10 * time.Millisecond, WatchdogTimeout: watchdog})
	h.srv.send(xlogData(0x20, []byte("one")))
	h.nextBatch()
	h.srv.send(xlogData(0x30, []byte("two")))
	// Waiting in the pipe: after the pause the pump reads it at once, so a
	// watchdog that counted the pause has an expired deadline to find.
	third := h.srv.sendAsync(xlogData(0x40, []byte("three")))
	pausedAt := time.Now()
	for time.Since(pausedAt) < 3*watchdog { // counted in status updates, which keep coming
		h.srv.nextStatus()
	}
	h.pump.Credit()
	if b := h.nextBatch(); string(b.Items[0].Data) != "two" {
		t.Fatalf("after the pause: %q", b.Items[0].Data)
	}
	h.pump.Credit()
	if b := h.nextBatch(); string(b.Items[0].Data) != "three" {
		t.Fatalf("after resuming: %q", b.Items[0].Data)
	}
	<-third
}

// A server error ends Run with the server's SQLSTATE for the one
// classification. Catches: swallowing ErrorResponse or losing its code.
func TestServerErrorEndsRun(t *testing.T) {
	t.Parallel()
	h := startPump(t, Config{StartAcked: 0x10, KeepaliveInterval: hour, WatchdogTimeout: hour})
	h.srv.send(errorResponse("55000", `cannot read from logical replication slot "electric_slot_default"`))
	err := h.runResult()
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "55000" || pgwire.Classify(err) != pgwire.ReplicationImpossible {
		t.Fatalf("Run returned %v", err)
	}
}

// Malformed frames end Run with an error instead of a panic (GO_STACK L4).
func TestMalformedFramesFailCleanly(t *testing.T) {
	t.Parallel()
	for name, frame := range map[string][]byte{
		"empty CopyData":  copyData(nil),
		"short XLogData":  copyData([]byte{'w', 0, 0, 0}),
		"short keepalive": copyData([]byte{'k', 1}),
		"unknown type":    copyData([]byte{'z', 1, 2}),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			h := startPump(t, Config{StartAcked: 0x10, KeepaliveInterval: hour, WatchdogTimeout: hour})
			h.srv.send(frame)
			if err := h.runResult(); err == nil || errors.Is(err, ErrServerSilent) {
				t.Fatalf("Run returned %v", err)
			}
		})
	}
}

// Cancelling the context ends Run while it reads and while it is paused.
// Catches: a paused wait that ignores ctx.
func TestCancelEndsRun(t *testing.T) {
	t.Parallel()
	t.Run("reading", func(t *testing.T) {
		t.Parallel()
		h := startPump(t, Config{StartAcked: 0x10, KeepaliveInterval: hour, WatchdogTimeout: hour})
		h.srv.send(xlogData(0x20, []byte("x")))
		h.nextBatch()
		h.cancel()
		if err := h.runResult(); !errors.Is(err, context.Canceled) {
			t.Fatalf("Run returned %v", err)
		}
	})
	t.Run("paused", func(t *testing.T) {
		t.Parallel()
		h := startPump(t, Config{StartAcked: 0x10, Window: 1, MaxBatchItems: 1, KeepaliveInterval: hour, WatchdogTimeout: hour})
		h.srv.send(xlogData(0x20, []byte("x")))
		h.nextBatch()
		h.srv.send(xlogData(0x30, []byte("y")))
		h.cancel()
		if err := h.runResult(); !errors.Is(err, context.Canceled) {
			t.Fatalf("Run returned %v", err)
		}
	})
}

func TestServerSettingsIntervals(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		wst, keepalive, watchdog time.Duration
	}{
		{60 * time.Second, 15 * time.Second, 120 * time.Second},
		{30 * time.Second, 10 * time.Second, 60 * time.Second},
		{6 * time.Second, 2 * time.Second, 60 * time.Second},
		{0, 15 * time.Second, 60 * time.Second},
	} {
		s := ServerSettings{WalSenderTimeout: tc.wst}
		if s.KeepaliveInterval() != tc.keepalive || s.WatchdogTimeout() != tc.watchdog {
			t.Errorf("wal_sender_timeout %s: keepalive %s watchdog %s; want %s %s", tc.wst, s.KeepaliveInterval(), s.WatchdogTimeout(), tc.keepalive, tc.watchdog)
		}
	}
}
