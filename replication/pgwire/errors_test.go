package pgwire

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
)

func pgErr(code, msg string) *pgconn.PgError {
	return &pgconn.PgError{Severity: "FATAL", Code: code, Message: msg}
}

func TestClassify(t *testing.T) {
	t.Parallel()
	tlsRefused := errors.New("server refused TLS connection")
	cases := []struct {
		name   string
		err    error
		want   Class
		remedy string // a substring the remedy must contain
	}{
		{"ok - 57P01 admin shutdown", pgErr("57P01", "terminating connection due to administrator command"), Retryable, ""},
		{"ok - 57P03 starting up", pgErr("57P03", "the database system is starting up"), Retryable, ""},
		{"ok - 53300 too many clients", pgErr("53300", "sorry, too many clients already"), Retryable, "max_connections"},
		{"ok - 53300 all WAL senders busy", pgErr("53300", "number of requested standby connections exceeds max_wal_senders (currently 10)"), Retryable, "max_wal_senders"},
		{"ok - 53300 max_wal_senders is 0", pgErr("53300", "number of requested standby connections exceeds max_wal_senders (currently 0)"), ReplicationImpossible, "set max_wal_senders"},
		{"ok - 53400 all slots in use", pgErr("53400", "all replication slots are in use"), Retryable, "max_replication_slots"},
		{"ok - 55006 slot active", pgErr("55006", `replication slot "electric_slot_default" is active for PID 42`), Retryable, ""},
		{"ok - 08006 connection failure", pgErr("08006", "connection failure"), Retryable, ""},
		{"ok - 42501 no REPLICATION", pgErr("42501", "must be superuser or replication role to start walsender"), ReplicationImpossible, "grant REPLICATION to"},
		{"ok - 42501 PG16 wording", pgErr("42501", "permission denied to start WAL sender"), ReplicationImpossible, "ALTER ROLE"},
		{"ok - 55000 wal_level", pgErr("55000", "logical decoding requires wal_level >= logical"), ReplicationImpossible, "set wal_level=logical and restart Postgres"},
		{"ok - 55000 max_replication_slots", pgErr("55000", "replication slots can only be used if max_replication_slots > 0"), ReplicationImpossible, "max_replication_slots"},
		{"ok - 28P01 password", pgErr("28P01", `password authentication failed for user "app"`), OperatorNeeded, "password"},
		{"ok - 28000 pg_hba", pgErr("28000", `no pg_hba.conf entry for host "10.0.0.1", user "app", database "db", no encryption`), OperatorNeeded, "pg_hba.conf"},
		{"ok - 3D000 no database", pgErr("3D000", `database "nope" does not exist`), OperatorNeeded, "fix the database name"},
		{"ok - 42704 slot missing", pgErr("42704", `replication slot "electric_slot_default" does not exist`), SlotLost, "recreated"},
		{"ok - unknown SQLSTATE retries", pgErr("42601", "syntax error"), Retryable, ""},
		{"ok - wrapped PgError", fmt.Errorf("start replication: %w", pgErr("55000", "logical decoding requires wal_level >= logical")), ReplicationImpossible, "wal_level"},
		{"ok - slot lost beats its 55000 cause", NewSlotLost("electric_slot_default", "wal_status is lost", pgErr("55000", `cannot read from logical replication slot "electric_slot_default"`)), SlotLost, "max_slot_wal_keep_size"},
		{"ok - operator-needed diagnosis kept", fmt.Errorf("ensure publication: %w", NewOperatorNeeded("publication does not publish deletes", "ALTER PUBLICATION", nil)), OperatorNeeded, "ALTER PUBLICATION"},
		{"ok - server answer beats TLS refusal under sslmode=prefer", errors.Join(tlsRefused, pgErr("53300", "sorry, too many clients already")), Retryable, ""},
		{"ok - TLS refused alone", fmt.Errorf("connect: %w", tlsRefused), OperatorNeeded, "ssl"},
		{"ok - unknown CA", x509.UnknownAuthorityError{}, OperatorNeeded, "sslrootcert"},
		{"ok - connection refused", &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}, Retryable, ""},
		{"ok - unexpected EOF", io.ErrUnexpectedEOF, Retryable, ""},
		{"ok - deadline", context.DeadlineExceeded, Retryable, ""},
		{"ok - host not found", &net.DNSError{Err: "no such host", Name: "db.invalid", IsNotFound: true}, OperatorNeeded, "host name"},
		{"ok - DNS temporary failure", &net.DNSError{Err: "server misbehaving", Name: "db", IsTemporary: true}, Retryable, ""},
		{"ok - strongest class among joined server errors", errors.Join(pgErr("57P03", "starting up"), pgErr("28P01", "password authentication failed")), OperatorNeeded, "password"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := Diagnose(tc.err)
			if d.Class != tc.want || Classify(tc.err) != tc.want {
				t.Fatalf("Diagnose(%v) = %v; want class %v", tc.err, d, tc.want)
			}
			if !strings.Contains(d.Remedy, tc.remedy) {
				t.Fatalf("remedy %q does not contain %q", d.Remedy, tc.remedy)
			}
			if d.Class != Retryable && d.Remedy == "" {
				t.Fatalf("class %v without a remedy: %v", d.Class, d)
			}
			var pe *pgconn.PgError
			if errors.As(tc.err, &pe) && d.SQLState != pe.Code && len(leaves(tc.err)) == 1 {
				t.Fatalf("SQLState %q; want %q", d.SQLState, pe.Code)
			}
		})
	}
}

func TestConnErrorNamesRoleHostSQLStateAndRemedy(t *testing.T) {
	t.Parallel()
	err := WrapConnError(RoleReplication, "db.example:5432", fmt.Errorf("connect: %w", pgErr("42501", "must be superuser or replication role to start walsender")))
	msg := err.Error()
	for _, want := range []string{"replication connection", "application_name=shapesync_replication", "db.example:5432", "SQLSTATE 42501", "grant REPLICATION", "replication-impossible"} {
		if !strings.Contains(msg, want) {
			t.Errorf("%q does not name %q", msg, want)
		}
	}
	if Classify(fmt.Errorf("outer: %w", err)) != ReplicationImpossible {
		t.Errorf("a wrapped ConnError lost its class")
	}
	if WrapConnError(RoleAdmin, "h", nil) != nil {
		t.Errorf("WrapConnError(nil) is not nil")
	}
}

// fakeStartupServer listens on 127.0.0.1 and answers each connection's
// startup with the scripted reply: refuse TLS ('N') to an SSLRequest, then
// send errResp (if any) to the StartupMessage and hang up.
func fakeStartupServer(t *testing.T, errResp *pgproto3.ErrorResponse) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { ln.Close(); <-done })
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			serveStartup(c, errResp)
		}
	}()
	return ln.Addr().String()
}

func serveStartup(c net.Conn, errResp *pgproto3.ErrorResponse) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	be := pgproto3.NewBackend(c, c)
	for {
		msg, err := be.ReceiveStartupMessage()
		if err != nil {
			return
		}
		switch msg.(type) {
		case *pgproto3.SSLRequest, *pgproto3.GSSEncRequest:
			if _, err := c.Write([]byte{'N'}); err != nil {
				return
			}
		case *pgproto3.StartupMessage:
			if errResp != nil {
				be.Send(errResp)
				_ = be.Flush()
			}
			return
		}
	}
}

// TestDiagnoseRealConnectErrors drives pgconn's own connect path against a
// fake server on a real socket, so the error trees Diagnose walks are the
// ones pgconn builds, not hand-made copies.
func TestDiagnoseRealConnectErrors(t *testing.T) {
	t.Parallel()
	connect := func(t *testing.T, dsn string) error {
		t.Helper()
		cfg, err := ParseConnConfig(dsn, RoleReplication, DialOptions{ConnectTimeout: 2 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		conn, err := pgconn.ConnectConfig(context.Background(), cfg)
		if err == nil {
			conn.Close(context.Background())
			t.Fatal("connect succeeded against a server that refuses")
		}
		return err
	}
	hostPort := func(addr string) (string, string) {
		h, p, _ := net.SplitHostPort(addr)
		return h, p
	}

	t.Run("ok - 42501 at startup names the role", func(t *testing.T) {
		t.Parallel()
		h, p := hostPort(fakeStartupServer(t, &pgproto3.ErrorResponse{Severity: "FATAL", Code: "42501", Message: "must be superuser or replication role to start walsender"}))
		d := Diagnose(connect(t, fmt.Sprintf("host=%s port=%s user=app_user database=app sslmode=disable", h, p)))
		if d.Class != ReplicationImpossible || !strings.Contains(d.Remedy, `grant REPLICATION to role "app_user"`) {
			t.Fatalf("got %v", d)
		}
	})
	t.Run("ok - 3D000 names the database", func(t *testing.T) {
		t.Parallel()
		h, p := hostPort(fakeStartupServer(t, &pgproto3.ErrorResponse{Severity: "FATAL", Code: "3D000", Message: `database "shop" does not exist`}))
		d := Diagnose(connect(t, fmt.Sprintf("host=%s port=%s user=app_user database=shop sslmode=disable", h, p)))
		if d.Class != OperatorNeeded || !strings.Contains(d.Remedy, `create database "shop"`) {
			t.Fatalf("got %v", d)
		}
	})
	t.Run("ok - sslmode=require against a server without TLS", func(t *testing.T) {
		t.Parallel()
		h, p := hostPort(fakeStartupServer(t, nil))
		d := Diagnose(connect(t, fmt.Sprintf("host=%s port=%s user=u database=d sslmode=require", h, p)))
		if d.Class != OperatorNeeded || !strings.Contains(d.Reason, "refused TLS") {
			t.Fatalf("got %v", d)
		}
	})
	t.Run("ok - sslmode=prefer falls back and the server's 53300 decides", func(t *testing.T) {
		t.Parallel()
		h, p := hostPort(fakeStartupServer(t, &pgproto3.ErrorResponse{Severity: "FATAL", Code: "53300", Message: "sorry, too many clients already"}))
		d := Diagnose(connect(t, fmt.Sprintf("host=%s port=%s user=u database=d sslmode=prefer", h, p)))
		if d.Class != Retryable || d.SQLState != "53300" {
			t.Fatalf("got %v", d)
		}
	})
	t.Run("ok - connection refused", func(t *testing.T) {
		t.Parallel()
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		h, p := hostPort(ln.Addr().String())
		ln.Close() // nothing listens there any more
		if c := Classify(connect(t, fmt.Sprintf("host=%s port=%s user=u database=d sslmode=disable", h, p))); c != Retryable {
			t.Fatalf("got %v", c)
		}
	})
	t.Run("ok - unresolvable host", func(t *testing.T) {
		t.Parallel()
		cfg, err := ParseConnConfig("host=no-such-host.invalid port=5432 user=u database=d sslmode=disable", RoleAdmin, DialOptions{})
		if err != nil {
			t.Fatal(err)
		}
		// What the Go resolver answers for NXDOMAIN, without needing DNS here.
		cfg.LookupFunc = func(_ context.Context, host string) ([]string, error) {
			return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
		}
		_, err = pgconn.ConnectConfig(context.Background(), cfg)
		d := Diagnose(err)
		if d.Class != OperatorNeeded || !strings.Contains(d.Reason, "no-such-host.invalid") {
			t.Fatalf("got %v", d)
		}
	})
}
