package pgwire

import (
	"context"
	"net"
	"reflect"
	"testing"
)

func TestApplyRole(t *testing.T) {
	t.Parallel()
	dsn := "postgres://u@127.0.0.1:5432/db?sslmode=disable&replication=database&application_name=other"
	for _, role := range []Role{RoleReplication, RoleLock, RoleAdmin, RoleSnapshot} {
		cfg, err := ParseConnConfig(dsn, role, DialOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got := cfg.RuntimeParams["application_name"]; got != "shapesync_"+string(role) {
			t.Errorf("%s: application_name = %q", role, got)
		}
		repl, ok := cfg.RuntimeParams["replication"]
		if role == RoleReplication && repl != "database" {
			t.Errorf("replication role without replication=database")
		}
		if role != RoleReplication && ok {
			t.Errorf("%s role kept replication=%q from the URL", role, repl)
		}
		if cfg.ConnectTimeout != defaultConnectTimeout || cfg.DialFunc == nil || cfg.LookupFunc == nil {
			t.Errorf("%s: connect timeout %v, dial/lookup set: %v/%v", role, cfg.ConnectTimeout, cfg.DialFunc != nil, cfg.LookupFunc != nil)
		}
	}
	if _, err := ParseConnConfig("postgres://u:secret@host:notaport/db", RoleAdmin, DialOptions{}); err == nil || Classify(err) != OperatorNeeded {
		t.Errorf("bad URL: %v (class %v)", err, Classify(err))
	}
}

func TestOrderAddresses(t *testing.T) {
	t.Parallel()
	in := []string{"2001:db8::1", "10.0.0.1", "2001:db8::2", "10.0.0.2"}
	if got, want := orderAddresses(in, false), []string{"10.0.0.1", "10.0.0.2", "2001:db8::1", "2001:db8::2"}; !reflect.DeepEqual(got, want) {
		t.Errorf("IPv4 first: %v", got)
	}
	if got, want := orderAddresses(in, true), []string{"2001:db8::1", "2001:db8::2", "10.0.0.1", "10.0.0.2"}; !reflect.DeepEqual(got, want) {
		t.Errorf("IPv6 first: %v", got)
	}
}

func TestDialFuncReportsFailedAddresses(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	var failed []string
	dial := NewDialFunc(DialOptions{OnAddressFailed: func(_, address string, _ error) { failed = append(failed, address) }})
	if _, err := dial(context.Background(), "tcp", addr); err == nil {
		t.Fatal("dial to a closed port succeeded")
	}
	if len(failed) != 1 || failed[0] != addr {
		t.Fatalf("OnAddressFailed saw %v; want [%s]", failed, addr)
	}
}
