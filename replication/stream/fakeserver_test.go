package stream

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/shapesync/shapesync/replication/lsn"
)

// The fence tests speak the replication protocol by hand to a real pgconn
// over net.Pipe: the fake server below answers the startup and
// START_REPLICATION, then writes hand-framed XLogData ('w') and primary
// keepalive ('k') messages and reads the client's standby status updates
// ('r') off the pipe. net.Pipe is synchronous, so a write returns only once
// the pump has read it: "the pump has seen X" needs no sleep.

const testSlot, testPub = "electric_slot_default", "electric_publication_default"

// failAfter bounds every wait; reaching it fails the test. Tests end on a
// sentinel event, never by waiting this out.
const failAfter = 10 * time.Second

type status struct {
	write, flush, apply lsn.LSN
	replyRequested      bool
}

type fakeServer struct {
	t       *testing.T
	conn    net.Conn
	be      *pgproto3.Backend
	status  chan status // every standby status update the client sent, in order
	readErr chan error  // the reader's end: io.EOF-like once the pipe closes
}

// dialFake connects a pgconn to a fresh fake server and runs Start against
// it, checking the command text.
func dialFake(t *testing.T, start lsn.LSN) (*pgconn.PgConn, *fakeServer) {
	t.Helper()
	client, server := net.Pipe()
	srv := &fakeServer{t: t, conn: server, be: pgproto3.NewBackend(server, server),
		status: make(chan status, 4096), readErr: make(chan error, 1)}
	t.Cleanup(func() { client.Close(); server.Close() })

	cfg, err := pgconn.ParseConfig("host=127.0.0.1 port=5432 user=u database=d sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	dialed := false
	cfg.DialFunc = func(context.Context, string, string) (net.Conn, error) {
		if dialed {
			return nil, errors.New("fake server: dialed twice")
		}
		dialed = true
		return client, nil
	}

	handshake := make(chan error, 1)
	go func() { handshake <- srv.acceptStartup(start) }()
	ctx, cancel := context.WithTimeout(context.Background(), failAfter)
	defer cancel()
	conn, err := pgconn.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatalf("connect to fake server: %v", err)
	}
	if err := Start(ctx, conn, testSlot, testPub, start); err != nil {
		t.Fatalf("Start: %v", err)
	}
	if err := <-handshake; err != nil {
		t.Fatalf("fake server: %v", err)
	}
	go srv.readStatuses()
	return conn, srv
}

func (s *fakeServer) acceptStartup(start lsn.LSN) error {
	if _, err := s.be.ReceiveStartupMessage(); err != nil {
		return err
	}
	s.be.Send(&pgproto3.AuthenticationOk{})
	s.be.Send(&pgproto3.ParameterStatus{Name: "server_version", Value: "15.18"})
	s.be.Send(&pgproto3.BackendKeyData{ProcessID: 4242, SecretKey: []byte{1, 2, 3, 4}})
	s.be.Send(&pgproto3.ReadyForQuery{TxStatus: 'I'})
	if err := s.be.Flush(); err != nil {
		return err
	}
	msg, err := s.be.Receive()
	if err != nil {
		return err
	}
	q, ok := msg.(*pgproto3.Query)
	want := `START_REPLICATION SLOT "electric_slot_default" LOGICAL ` + start.String() +
		` (proto_version '1', publication_names '"electric_publication_default"')`
	if !ok || q.String != want {
		return errors.New("unexpected start command: " + strings.TrimSpace(msgString(msg)) + "; want " + want)
	}
	s.be.Send(&pgproto3.CopyBothResponse{})
	return s.be.Flush()
}

func msgString(m pgproto3.FrontendMessage) string {
	if q, ok := m.(*pgproto3.Query); ok {
		return q.String
	}
	return "a non-query message"
}

// readStatuses drains the client side of the copy stream; it must run for
// the whole test, because an unread status update blocks the pump.
func (s *fakeServer) readStatuses() {
	for {
		msg, err := s.be.Receive()
		if err != nil {
			s.readErr <- err
			return
		}
		cd, ok := msg.(*pgproto3.CopyData)
		if !ok || len(cd.Data) != 34 || cd.Data[0] != 'r' {
			s.readErr <- errors.New("client sent something other than a standby status update")
			return
		}
		d := cd.Data[1:]
		s.status <- status{
			write:          lsn.LSN(binary.BigEndian.Uint64(d[0:])),
			flush:          lsn.LSN(binary.BigEndian.Uint64(d[8:])),
			apply:          lsn.LSN(binary.BigEndian.Uint64(d[16:])),
			replyRequested: d[32] != 0,
		}
	}
}

// send writes one backend message; it returns once the pump has read it.
func (s *fakeServer) send(frame []byte) {
	s.t.Helper()
	if _, err := s.conn.Write(frame); err != nil {
		s.t.Fatalf("fake server write: %v", err)
	}
}

// sendAsync writes frame in the background; the channel closes when the
// pump has read it.
func (s *fakeServer) sendAsync(frame []byte) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = s.conn.Write(frame)
	}()
	return done
}

// nextStatus returns the next status update, failing the test if none comes.
func (s *fakeServer) nextStatus() status {
	s.t.Helper()
	select {
	case st := <-s.status:
		return st
	case err := <-s.readErr:
		s.t.Fatalf("fake server reader ended: %v", err)
	case <-time.After(failAfter):
		s.t.Fatalf("no standby status update within %s", failAfter)
	}
	return status{}
}

func copyData(payload []byte) []byte {
	b, err := (&pgproto3.CopyData{Data: payload}).Encode(nil)
	if err != nil {
		panic(err)
	}
	return b
}

// xlogData frames an XLogData message: 'w', WAL start, server WAL end,
// server time, payload.
func xlogData(start lsn.LSN, payload []byte) []byte {
	b := make([]byte, 0, 25+len(payload))
	b = append(b, 'w')
	b = binary.BigEndian.AppendUint64(b, uint64(start))
	b = binary.BigEndian.AppendUint64(b, uint64(start))
	b = binary.BigEndian.AppendUint64(b, 0)
	return copyData(append(b, payload...))
}

// keepalive frames a primary keepalive: 'k', wal_end, server time, reply flag.
func keepalive(walEnd lsn.LSN, replyRequested bool) []byte {
	b := make([]byte, 0, 18)
	b = append(b, 'k')
	b = binary.BigEndian.AppendUint64(b, uint64(walEnd))
	b = binary.BigEndian.AppendUint64(b, 0)
	if replyRequested {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	return copyData(b)
}

func errorResponse(code, msg string) []byte {
	b, err := (&pgproto3.ErrorResponse{Severity: "ERROR", Code: code, Message: msg}).Encode(nil)
	if err != nil {
		panic(err)
	}
	return b
}

// pumpHarness runs a Pump against a fake server and records what it delivers.
type pumpHarness struct {
	t       *testing.T
	srv     *fakeServer
	pump    *Pump
	batches chan Batch
	runErr  chan error
	cancel  context.CancelFunc
}

func startPump(t *testing.T, cfg Config) *pumpHarness {
	t.Helper()
	conn, srv := dialFake(t, cfg.StartAcked)
	h := &pumpHarness{t: t, srv: srv, batches: make(chan Batch, 1024), runErr: make(chan error, 1)}
	cfg.Conn = conn
	cfg.Deliver = func(b Batch) {
		select {
		case h.batches <- b:
		default:
			t.Errorf("Deliver would block: the harness buffer is full")
		}
	}
	p, err := NewPump(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h.pump = p
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	var wg sync.WaitGroup
	wg.Go(func() { h.runErr <- p.Run(ctx) })
	t.Cleanup(func() {
		cancel()
		conn.Conn().Close()
		wg.Wait()
	})
	return h
}

func (h *pumpHarness) nextBatch() Batch {
	h.t.Helper()
	select {
	case b := <-h.batches:
		return b
	case err := <-h.runErr:
		h.t.Fatalf("Run ended while a batch was expected: %v", err)
	case <-time.After(failAfter):
		h.t.Fatalf("no batch delivered within %s", failAfter)
	}
	return Batch{}
}

func (h *pumpHarness) runResult() error {
	h.t.Helper()
	select {
	case err := <-h.runErr:
		return err
	case <-time.After(failAfter):
		h.t.Fatalf("Run did not return within %s", failAfter)
	}
	return nil
}
