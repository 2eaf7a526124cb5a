package stream

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/shapesync/shapesync/replication/lsn"
)

// ErrServerSilent is returned by Run when the server sent nothing for the
// watchdog timeout while the pump was reading (ARCHITECTURE §1.4): the
// connection is presumed dead and the owner respawns the stream.
var ErrServerSilent = errors.New("replication stream: the server went silent")

// ErrStreamEnded is returned by Run when the server ends the copy stream.
var ErrStreamEnded = errors.New("replication stream: the server ended the stream")

// Config configures a Pump. Conn and Deliver are required, StartAcked must
// be non-zero; other zero fields take defaults.
type Config struct {
	// Conn is a replication connection on which Start succeeded. The pump is
	// its only user from then on; the owner closes it (conn.Conn().Close()
	// is safe from another goroutine) to kill a pump stuck in I/O.
	Conn *pgconn.PgConn
	// Deliver hands a batch downstream. It must not block (an actor Send):
	// the pump's keepalives depend on it.
	Deliver func(Batch)
	// StartAcked is the slot's confirmed_flush_lsn, or a new slot's
	// consistent point (Slot.Start). The flush position starts here and only
	// grows: a flush of 0 would be rewritten by pglogrepl into the write
	// position and acknowledge data never stored (GO_STACK L1).
	StartAcked lsn.LSN
	// Window is how many delivered batches may await Credit; default 8.
	Window int
	// MaxBatchItems and MaxBatchBytes close a batch; defaults 256 and 1 MiB.
	// A single message larger than MaxBatchBytes travels alone.
	MaxBatchItems int
	MaxBatchBytes int
	// KeepaliveInterval is how often a standby status update goes out,
	// paused or not; default 15 s, normally ServerSettings.KeepaliveInterval.
	KeepaliveInterval time.Duration
	// WatchdogTimeout is how long the server may stay silent while the pump
	// reads; default 60 s, normally ServerSettings.WatchdogTimeout. It also
	// bounds each status update write.
	WatchdogTimeout time.Duration
}

const (
	defaultWindow        = 8
	defaultMaxBatchItems = 256
	defaultMaxBatchBytes = 1 << 20
)

// Pump reads the replication stream of one connection: it copies WAL
// payloads and keepalive markers into batches, delivers them within a
// credit window, and sends standby status updates whose flush position is
// only ever what the owner acknowledged through SetAcked (I3).
//
// Run is the pump's goroutine; Credit, SetAcked, Received, Acked and
// Streaming may be called from any goroutine.
type Pump struct {
	cfg Config

	credits chan struct{} // one token per batch handled downstream
	ackWake chan struct{} // latest-wins: "acked moved", never queues more than one
	acked   atomic.Uint64 // highest LSN given to SetAcked (starts at StartAcked)
	sent    atomic.Uint64 // flush position of the last status update written
	recv    atomic.Uint64 // received position: highest XLogData start or keepalive wal_end
	running atomic.Bool

	streaming     chan struct{}
	streamingOnce sync.Once

	mu         sync.Mutex
	interrupt  context.CancelFunc // cancels the receive in progress, nil outside one
	wantCredit bool               // the receive in progress holds undelivered items
}

// NewPump checks cfg and returns a pump ready to Run.
func NewPump(cfg Config) (*Pump, error) {
	switch {
	case cfg.Conn == nil:
		return nil, errors.New("stream pump: Config.Conn is nil")
	case cfg.Deliver == nil:
		return nil, errors.New("stream pump: Config.Deliver is nil")
	case cfg.StartAcked == 0:
		return nil, errors.New("stream pump: Config.StartAcked is 0/0; start from the slot's confirmed_flush_lsn or consistent point (a zero flush position acknowledges everything received)")
	case cfg.Window < 0 || cfg.MaxBatchItems < 0 || cfg.MaxBatchBytes < 0 || cfg.KeepaliveInterval < 0 || cfg.WatchdogTimeout < 0:
		return nil, errors.New("stream pump: negative Config field")
	}
	if cfg.Window == 0 {
		cfg.Window = defaultWindow
	}
	if cfg.MaxBatchItems == 0 {
		cfg.MaxBatchItems = defaultMaxBatchItems
	}
	if cfg.MaxBatchBytes == 0 {
		cfg.MaxBatchBytes = defaultMaxBatchBytes
	}
	if cfg.KeepaliveInterval == 0 {
		cfg.KeepaliveInterval = maxKeepaliveInterval
	}
	if cfg.WatchdogTimeout == 0 {
		cfg.WatchdogTimeout = minWatchdogTimeout
	}
	p := &Pump{
		cfg:       cfg,
		credits:   make(chan struct{}, cfg.Window),
		ackWake:   make(chan struct{}, 1),
		streaming: make(chan struct{}),
	}
	p.acked.Store(uint64(cfg.StartAcked))
	p.sent.Store(uint64(cfg.StartAcked))
	p.recv.Store(uint64(cfg.StartAcked))
	return p, nil
}

// Credit returns the credit of one delivered batch. Credit beyond the
// window (a downstream bug) is ignored rather than widening the window.
func (p *Pump) Credit() {
	select {
	case p.credits <- struct{}{}:
	default:
	}
	// Items held during a read go out now, not when the next message comes.
	p.mu.Lock()
	if p.interrupt != nil && p.wantCredit {
		p.interrupt()
	}
	p.mu.Unlock()
}

// SetAcked offers l as the new flush position: everything up to it is
// durable (ARCHITECTURE §1.4: the S|acked value after its Sync). Lower
// values than the current one are ignored, so the position never moves
// back and never becomes 0. The pump sends it promptly: a read in progress
// is interrupted for it.
func (p *Pump) SetAcked(l lsn.LSN) {
	for {
		cur := p.acked.Load()
		if uint64(l) <= cur {
			return
		}
		if p.acked.CompareAndSwap(cur, uint64(l)) {
			break
		}
	}
	select {
	case p.ackWake <- struct{}{}:
	default:
	}
	p.mu.Lock()
	if p.interrupt != nil {
		p.interrupt()
	}
	p.mu.Unlock()
}

// Received is the received (write) position: the highest XLogData position
// or keepalive wal_end seen, at least StartAcked.
func (p *Pump) Received() lsn.LSN { return lsn.LSN(p.recv.Load()) }

// Acked is the flush position last sent to the server (what Postgres may
// have confirmed); at least StartAcked.
func (p *Pump) Acked() lsn.LSN { return lsn.LSN(p.sent.Load()) }

// Streaming is closed when the first message arrives from the server: the
// stream is live.
func (p *Pump) Streaming() <-chan struct{} { return p.streaming }

// runState is the loop's own state, touched only by Run's goroutine.
type runState struct {
	credit     int
	batch      Batch
	nextStatus time.Time // when the next periodic status update is due
	lastHeard  time.Time // last message from the server while reading
	lastMarker lsn.LSN   // wal_end of the last marker put into the stream
}

// Run pumps until ctx ends (it returns ctx's error), the server reports an
// error (a *pgconn.PgError for pgwire.Classify), the stream ends, the
// watchdog fires (ErrServerSilent) or the connection fails. Run may be
// called once.
func (p *Pump) Run(ctx context.Context) error {
	if !p.running.CompareAndSwap(false, true) {
		return errors.New("stream pump: Run called twice")
	}
	now := time.Now()
	st := &runState{
		credit:     p.cfg.Window,
		nextStatus: now.Add(p.cfg.KeepaliveInterval),
		lastHeard:  now,
		lastMarker: p.cfg.StartAcked,
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		p.takeCredits(st)
		select {
		case <-p.ackWake:
		default:
		}
		if len(st.batch.Items) > 0 && st.credit > 0 {
			p.cfg.Deliver(st.batch)
			st.batch = Batch{}
			st.credit--
		}
		if now := time.Now(); p.acked.Load() > p.sent.Load() || !now.Before(st.nextStatus) {
			if err := p.sendStatus(st); err != nil {
				return err
			}
		}
		if p.batchFull(st) {
			if err := p.waitPaused(ctx, st); err != nil {
				return err
			}
			continue
		}
		if err := p.readOne(ctx, st); err != nil {
			return err
		}
	}
}

func (p *Pump) takeCredits(st *runState) {
	for {
		select {
		case <-p.credits:
			st.credit++
		default:
			return
		}
	}
}

// batchFull means: no credit to deliver and no room to read more, so
// reading pauses. With credit the batch goes out before the next read, so a
// held batch grows only while downstream is behind.
func (p *Pump) batchFull(st *runState) bool {
	n := len(st.batch.Items)
	return n > 0 && st.credit == 0 && (n >= p.cfg.MaxBatchItems || st.batch.Bytes >= p.cfg.MaxBatchBytes)
}

// waitPaused waits, without reading, for credit, a new ack or the next
// status update (B4). The server's silence is not counted meanwhile: the
// pump is not listening, and its status updates keep the server content.
func (p *Pump) waitPaused(ctx context.Context, st *runState) error {
	timer := time.NewTimer(time.Until(st.nextStatus))
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-p.credits:
		st.credit++
	case <-p.ackWake:
	case <-timer.C:
	}
	st.lastHeard = time.Now()
	return nil
}

// readOne receives one message, or returns without one at the next status
// update, at the watchdog deadline, or when SetAcked (or Credit, while items
// are held) interrupts it.
func (p *Pump) readOne(ctx context.Context, st *runState) error {
	watchdog := st.lastHeard.Add(p.cfg.WatchdogTimeout)
	rctx, cancel := context.WithDeadline(ctx, minTime(st.nextStatus, watchdog))
	defer cancel()
	holding := len(st.batch.Items) > 0 // and so no credit: it would have gone out
	p.mu.Lock()
	p.interrupt, p.wantCredit = cancel, holding
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		p.interrupt, p.wantCredit = nil, false
		p.mu.Unlock()
	}()
	// An ack or credit that came after Run's checks but before p.interrupt
	// was published found nothing to interrupt; look again now that it would.
	if p.acked.Load() > p.sent.Load() || (holding && len(p.credits) > 0) {
		return nil
	}

	msg, err := p.cfg.Conn.ReceiveMessage(rctx)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		// A deadline or our own interrupt: pgconn keeps the connection
		// usable after either (it closes only on other errors).
		if pgconn.Timeout(err) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			if silent := time.Since(st.lastHeard); silent >= p.cfg.WatchdogTimeout {
				return fmt.Errorf("%w: nothing received for %s (watchdog %s)", ErrServerSilent, silent.Round(time.Millisecond), p.cfg.WatchdogTimeout)
			}
			return nil
		}
		return fmt.Errorf("replication stream: receive: %w", err)
	}
	st.lastHeard = time.Now()
	p.streamingOnce.Do(func() { close(p.streaming) })

	switch msg := msg.(type) {
	case *pgproto3.CopyData:
		return p.handleCopyData(st, msg.Data)
	case *pgproto3.ErrorResponse:
		return fmt.Errorf("replication stream: %w", pgconn.ErrorResponseToPgError(msg))
	case *pgproto3.CopyDone:
		return ErrStreamEnded
	case *pgproto3.NoticeResponse, *pgproto3.ParameterStatus:
		return nil
	default:
		return fmt.Errorf("replication stream: unexpected %T", msg)
	}
}

// handleCopyData parses one CopyData payload; data aliases pgconn's read
// buffer and is valid only until the next receive.
func (p *Pump) handleCopyData(st *runState, data []byte) error {
	if len(data) == 0 {
		return errors.New("replication stream: empty CopyData message")
	}
	switch data[0] {
	case pglogrepl.XLogDataByteID:
		xld, err := pglogrepl.ParseXLogData(data[1:])
		if err != nil {
			return fmt.Errorf("replication stream: %w", err)
		}
		payload := make([]byte, len(xld.WALData))
		copy(payload, xld.WALData)
		st.batch.Items = append(st.batch.Items, WalItem{Kind: KindXLogData, WALStart: lsn.LSN(xld.WALStart), Data: payload})
		st.batch.Bytes += len(payload)
		p.advanceReceived(lsn.LSN(xld.WALStart))
	case pglogrepl.PrimaryKeepaliveMessageByteID:
		pkm, err := pglogrepl.ParsePrimaryKeepaliveMessage(data[1:])
		if err != nil {
			return fmt.Errorf("replication stream: %w", err)
		}
		end := lsn.LSN(pkm.ServerWALEnd)
		p.advanceReceived(end)
		if end > st.lastMarker {
			st.batch.Items = append(st.batch.Items, WalItem{Kind: KindWalEnd, WalEnd: end})
			st.lastMarker = end
		}
		if pkm.ReplyRequested {
			// The reply carries the acked position, never wal_end or the
			// received position: replying "flushed up to wal_end" while data
			// before it is not yet durable is the bug upstream fixed in 1.7.9.
			return p.sendStatus(st)
		}
	default:
		return fmt.Errorf("replication stream: unexpected CopyData message type %q", data[0])
	}
	return nil
}

func (p *Pump) advanceReceived(l lsn.LSN) {
	if uint64(l) > p.recv.Load() { // only Run writes recv
		p.recv.Store(uint64(l))
	}
}

// sendStatus writes a standby status update: write = received, flush =
// apply = acked. acked is never 0 (StartAcked > 0 and it only grows), so
// pglogrepl's rewrite of a zero flush into the write position never fires.
func (p *Pump) sendStatus(st *runState) error {
	flush := p.acked.Load()
	write := max(p.recv.Load(), flush)
	nc := p.cfg.Conn.Conn()
	// SendStandbyStatusUpdate takes no deadline; a peer that stopped reading
	// must not hang the pump forever.
	if err := nc.SetWriteDeadline(time.Now().Add(p.cfg.WatchdogTimeout)); err != nil {
		return fmt.Errorf("replication stream: status update: %w", err)
	}
	err := pglogrepl.SendStandbyStatusUpdate(context.Background(), p.cfg.Conn, pglogrepl.StandbyStatusUpdate{
		WALWritePosition: pglogrepl.LSN(write),
		WALFlushPosition: pglogrepl.LSN(flush),
		WALApplyPosition: pglogrepl.LSN(flush),
		ClientTime:       time.Now(),
		// Postgres pings a client only when it has not heard from it for
		// half of wal_sender_timeout, and we report more often than that, so
		// an idle server would stay silent until the watchdog fired. Asking
		// for a reply once nothing has arrived for a keepalive interval
		// keeps an idle but healthy stream alive.
		ReplyRequested: time.Since(st.lastHeard) >= p.cfg.KeepaliveInterval,
	})
	_ = nc.SetWriteDeadline(time.Time{})
	if err != nil {
		return fmt.Errorf("replication stream: status update: %w", err)
	}
	p.sent.Store(flush)
	st.nextStatus = time.Now().Add(p.cfg.KeepaliveInterval)
	return nil
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
