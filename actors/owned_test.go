package actors

import (
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"go.uber.org/goleak"
)

// Messages understood by owner.
type (
	startGo struct {
		name  string
		fn    func(*Task) error
		epoch chan Epoch
	}
	killGo struct{ name string }
	result struct {
		epoch Epoch
		v     string
	}
)

// owner is an actor that runs owned goroutines and records what reaches it.
type owner struct {
	kit *Kit
	rec *recorder
	g   *Goroutines
}

func (o *owner) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		o.g = o.kit.Goroutines(ctx)
	case *startGo:
		m.epoch <- o.g.Go(m.name, m.fn)
	case *killGo:
		o.g.Kill(m.name)
	case *result:
		if o.g.IsCurrent(m.epoch) {
			o.rec.add("result:%s", m.v)
		} else {
			o.rec.add("stale:%s", m.v)
		}
	case *Failed:
		o.rec.add("failed:%d:%v:%v", m.Epoch, m.Err, o.g.Reap(m.Epoch))
	case *Exited:
		o.rec.add("exited:%d:%v:%v", m.Epoch, m.Err, o.g.Reap(m.Epoch))
	}
}

func spawnOwner(t *testing.T, k *Kit, rec *recorder) *PID {
	t.Helper()
	pid, err := k.Spawn("owner", func() actor.Actor { return &owner{kit: k, rec: rec} }, Count(16), Credit)
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

func goOn(t *testing.T, k *Kit, pid *PID, name string, fn func(*Task) error) Epoch {
	t.Helper()
	m := &startGo{name: name, fn: fn, epoch: make(chan Epoch, 1)}
	k.Root().Send(pid, m)
	select {
	case e := <-m.epoch:
		return e
	case <-time.After(wait):
		t.Fatal("owner did not start the goroutine")
	}
	return 0
}

func TestOwnedGoroutinePanicIsReportedAsFailed(t *testing.T) {
	k, logs := newTestKit(t)
	rec := &recorder{}
	pid := spawnOwner(t, k, rec)
	e := goOn(t, k, pid, "pump", func(*Task) error { panic("wal pump exploded") })
	want := "failed:" + itoa(e) + ":panic: wal pump exploded:true"
	eventually(t, wait, "Failed reported", func() bool { return rec.has(want) })
	if got := logs.FilterMessage("owned goroutine panicked").All(); len(got) != 1 || got[0].ContextMap()["goroutine"] != "pump" {
		t.Fatalf("panic log: %v", got)
	}
}

func TestOwnedGoroutineReturnIsReportedAsExited(t *testing.T) {
	k, _ := newTestKit(t)
	rec := &recorder{}
	pid := spawnOwner(t, k, rec)
	e := goOn(t, k, pid, "lock", func(*Task) error { return io.ErrUnexpectedEOF })
	eventually(t, wait, "Exited reported", func() bool { return rec.has("exited:" + itoa(e) + ":unexpected EOF:true") })
}

func TestStaleEpochResultIsIgnored(t *testing.T) {
	k, _ := newTestKit(t)
	rec := &recorder{}
	pid := spawnOwner(t, k, rec)
	tasks := make(chan *Task, 2)
	waitForKill := func(t *Task) error { tasks <- t; <-t.Context().Done(); return nil }
	e1 := goOn(t, k, pid, "snapshot", waitForKill)
	old := <-tasks
	e2 := goOn(t, k, pid, "snapshot", waitForKill) // replaces, so kills, the first
	<-tasks
	if e2 == e1 {
		t.Fatal("a new goroutine reused an epoch")
	}
	// A result of the first goroutine that was already in flight arrives late.
	k.Root().Send(pid, &result{epoch: e1, v: "late"})
	k.Root().Send(pid, &result{epoch: e2, v: "fresh"})
	eventually(t, wait, "both results handled", func() bool { return rec.has("result:fresh") })
	if !rec.has("stale:late") || rec.has("result:late") {
		t.Fatalf("the old epoch's result was not recognised as stale: %v", rec.all())
	}
	if !old.Killed() || old.Send(&result{epoch: e1, v: "after-kill"}) {
		t.Fatal("a killed task could still send")
	}
	select {
	case <-old.Context().Done():
	default:
		t.Fatal("Kill did not cancel the old goroutine's context")
	}
}

type closeCounter struct{ n atomic.Int32 }

func (c *closeCounter) Close() error { c.n.Add(1); return nil }

func TestCloserRegisteredAfterKillIsClosedAtOnce(t *testing.T) {
	k, _ := newTestKit(t)
	pid := spawnOwner(t, k, &recorder{})
	tasks := make(chan *Task, 1)
	proceed := make(chan struct{})
	goOn(t, k, pid, "dial", func(t *Task) error { tasks <- t; <-proceed; return nil })
	task := <-tasks
	k.Root().Send(pid, &killGo{name: "dial"})
	eventually(t, wait, "killed", task.Killed)
	var c closeCounter
	task.SetCloser(&c) // the dial completed just after the Kill
	close(proceed)
	if c.n.Load() != 1 {
		t.Fatalf("closer closed %d times, want 1", c.n.Load())
	}
}

// An abandoned goroutine blocked in net.Conn.Read exits after Kill: the
// kit closes its registered socket and never waits for it (§4 (e)).
func TestKilledGoroutineBlockedInReadExits(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	k, _ := newTestKit(t)
	rec := &recorder{}
	pid := spawnOwner(t, k, rec)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	reading := make(chan struct{})
	readErr := make(chan error, 1)
	e := goOn(t, k, pid, "reader", func(t *Task) error {
		var d net.Dialer
		conn, err := d.DialContext(t.Context(), "tcp", ln.Addr().String())
		if err != nil {
			return err
		}
		t.SetCloser(conn)
		close(reading)
		_, err = conn.Read(make([]byte, 1)) // the server never writes
		readErr <- err
		return err
	})
	srv, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	<-reading
	k.Root().Send(pid, &killGo{name: "reader"})
	select {
	case err := <-readErr:
		if !errors.Is(err, net.ErrClosed) {
			t.Fatalf("Read ended with %v, want net.ErrClosed from Kill's Close", err)
		}
	case <-time.After(wait):
		t.Fatal("the goroutine is still blocked in Read after Kill")
	}
	goleak.VerifyNone(t, ignore)
	if strings.Contains(strings.Join(rec.all(), " "), "exited:"+itoa(e)) {
		t.Fatal("a killed goroutine reported Exited")
	}
}

func TestOwnedGoroutinesDieWithTheirActor(t *testing.T) {
	k, _ := newTestKit(t)
	pid := spawnOwner(t, k, &recorder{})
	tasks := make(chan *Task, 1)
	goOn(t, k, pid, "io", func(t *Task) error { tasks <- t; <-t.Context().Done(); return nil })
	task := <-tasks
	k.Root().Stop(pid)
	eventually(t, wait, "goroutine killed when its owner stopped", task.Killed)
}

func itoa(e Epoch) string { return strconv.FormatUint(uint64(e), 10) }
