package actors

import (
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// cond is a coalescable test message: latest value per name wins.
type cond struct{ name, v string }

func (c *cond) CoalesceKey() string { return c.name }

func TestTrySendShedsAtTheBoundAndRecoversAfterDrain(t *testing.T) {
	k, _ := newTestKit(t)
	rec := &recorder{}
	pid, err := k.Spawn("registry", probeOf("registry", rec), Count(3), Shed)
	if err != nil {
		t.Fatal(err)
	}
	release := blockOn(t, k, pid) // 1 pending: the block being handled
	for i := range 2 {
		if !k.TrySend(pid, &note{v: "queued"}) {
			t.Fatalf("TrySend %d refused below the bound", i)
		}
	}
	if k.TrySend(pid, &note{v: "shed"}) {
		t.Fatal("TrySend admitted a 4th message into a bound of 3")
	}
	if in, _ := k.Lookup("registry"); in.Depth != 3 || in.HighWater != 3 || in.Policy != Shed || in.Bound != 3 {
		t.Fatalf("inspection while full: %+v", in)
	}
	release()
	eventually(t, wait, "mailbox drained", func() bool { in, _ := k.Lookup("registry"); return in.Depth == 0 })
	if !k.TrySend(pid, &note{v: "after"}) {
		t.Fatal("TrySend refused after the mailbox drained")
	}
	eventually(t, wait, "late message delivered", func() bool { return rec.has("msg:registry:after") })
	if rec.has("msg:registry:shed") {
		t.Fatal("the shed message was delivered")
	}
}

// The worst interleaving for a check-then-post TrySend is forced: the
// bound function (called once per TrySend) holds every sender until all
// of them have read the mailbox, so none has posted yet. TrySend reserves
// before it reads, so exactly the free room is admitted (P10).
func TestTrySendNeverAdmitsPastTheBoundUnderConcurrency(t *testing.T) {
	k, _ := newTestKit(t)
	rec := &recorder{}
	const senders = 32
	var storm atomic.Bool
	var arrived atomic.Int32
	bound := Dynamic(func() int {
		if storm.Load() {
			arrived.Add(1)
			for arrived.Load() < senders {
				runtime.Gosched()
			}
		}
		return 10
	})
	pid, err := k.Spawn("edge", probeOf("edge", rec), bound, Shed)
	if err != nil {
		t.Fatal(err)
	}
	release := blockOn(t, k, pid)
	storm.Store(true)
	var admitted atomic.Int64
	var wg sync.WaitGroup
	for range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if k.TrySend(pid, &note{v: "storm"}) {
				admitted.Add(1)
			}
		}()
	}
	wg.Wait()
	storm.Store(false)
	if n := admitted.Load(); n != 9 {
		t.Fatalf("admitted %d of %d concurrent sends; the bound leaves room for exactly 9", n, senders)
	}
	if in, _ := k.Lookup("edge"); in.Depth != 10 {
		t.Fatalf("depth after the storm: got %d, want the bound 10", in.Depth)
	}
	release()
	eventually(t, wait, "all admitted delivered", func() bool { return len(rec.with("msg:edge:")) == 9 })
}

func TestBytesBoundWeighsMessages(t *testing.T) {
	k, _ := newTestKit(t)
	size := func(msg any) int64 {
		if n, ok := msg.(*note); ok {
			return int64(len(n.v))
		}
		return 0
	}
	pid, err := k.Spawn("writer", probeOf("writer", &recorder{}), Bytes(10, size), Shed)
	if err != nil {
		t.Fatal(err)
	}
	release := blockOn(t, k, pid) // weighs 0
	if !k.TrySend(pid, &note{v: "sixsix"}) {
		t.Fatal("6 bytes refused by an empty 10-byte bound")
	}
	if k.TrySend(pid, &note{v: "sixsix"}) {
		t.Fatal("12 bytes admitted into a 10-byte bound")
	}
	if !k.TrySend(pid, &note{v: "four"}) {
		t.Fatal("4 more bytes refused although they fit exactly")
	}
	in, _ := k.Lookup("writer")
	if in.Load != 10 || in.Depth != 3 || in.BoundUnit != "bytes" {
		t.Fatalf("inspection: %+v", in)
	}
	release()
}

func TestDynamicBoundFollowsState(t *testing.T) {
	k, _ := newTestKit(t)
	var limit atomic.Int64
	limit.Store(2)
	pid, err := k.Spawn("collector", probeOf("collector", &recorder{}), Dynamic(func() int { return int(limit.Load()) }), Shed)
	if err != nil {
		t.Fatal(err)
	}
	release := blockOn(t, k, pid)
	if !k.TrySend(pid, &note{v: "1"}) || k.TrySend(pid, &note{v: "2"}) {
		t.Fatal("a dynamic bound of 2 must admit exactly one message next to the blocked one")
	}
	limit.Store(3) // e.g. a shape was added
	if !k.TrySend(pid, &note{v: "3"}) {
		t.Fatal("TrySend refused after the bound grew")
	}
	release()
}

func TestCreditOverflowIsLoggedAndNothingIsDropped(t *testing.T) {
	k, logs := newTestKit(t)
	rec := &recorder{}
	pid, err := k.Spawn("builder", probeOf("builder", rec), Count(2), Credit)
	if err != nil {
		t.Fatal(err)
	}
	release := blockOn(t, k, pid)
	for _, v := range []string{"a", "b", "c"} {
		k.Root().Send(pid, &note{v: v})
	}
	in, _ := k.Lookup("builder")
	if in.Overflows != 1 || in.HighWater != 4 {
		t.Fatalf("inspection after overflow: %+v", in)
	}
	errs := logs.FilterMessageSnippet("above its declared bound").All()
	if len(errs) != 1 || errs[0].Level.String() != "error" || errs[0].ContextMap()["actor"] != "builder" {
		t.Fatalf("want exactly one error log for the overflow episode, got %v", errs)
	}
	release()
	eventually(t, wait, "every message delivered", func() bool {
		return strings.Join(rec.with("msg:builder:"), " ") == "msg:builder:a msg:builder:b msg:builder:c"
	})
}

func TestCoalesceDeliversTheLatestValuePerKey(t *testing.T) {
	k, _ := newTestKit(t)
	rec := &recorder{}
	pid, err := k.Spawn("status", probeOf("status", rec), Count(8), Coalesce)
	if err != nil {
		t.Fatal(err)
	}
	release := blockOn(t, k, pid)
	k.Coalesce(pid, &cond{name: "db", v: "1"})
	k.Coalesce(pid, &cond{name: "db", v: "2"})
	k.Coalesce(pid, &cond{name: "lock", v: "1"})
	k.Coalesce(pid, &cond{name: "db", v: "3"})
	if in, _ := k.Lookup("status"); in.Depth != 3 {
		t.Fatalf("depth: got %d, want 3 (block + one token per key)", in.Depth)
	}
	k.Root().Send(pid, &note{v: "end"})
	release()
	eventually(t, wait, "sentinel", func() bool { return rec.has("msg:status:end") })
	got := strings.Join(rec.with("cond:"), " ")
	if got != "cond:status:db=3 cond:status:lock=1" {
		t.Fatalf("delivered %q, want the latest db then lock, once each", got)
	}
}

func TestSpawnRejectsUndeclaredBoundsAndPolicies(t *testing.T) {
	k, _ := newTestKit(t)
	for _, tc := range []struct {
		name string
		spec ChildSpec
		want string
	}{
		{"error - no bound", ChildSpec{Label: "x", Producer: probeOf("x", nil), Policy: Credit}, "no mailbox bound"},
		{"error - no policy", ChildSpec{Label: "x", Producer: probeOf("x", nil), Bound: Count(1)}, "invalid mailbox policy"},
		{"error - bytes without size", ChildSpec{Label: "x", Producer: probeOf("x", nil), Bound: Bytes(1, nil), Policy: Credit}, "size function"},
		{"error - slash in label", ChildSpec{Label: "a/b", Producer: probeOf("x", nil), Bound: Count(1), Policy: Credit}, "must not contain"},
		{"error - no producer", ChildSpec{Label: "x", Bound: Count(1), Policy: Credit}, "no producer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := k.SpawnRoot(tc.spec)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
	if _, err := k.Spawn("twice", probeOf("twice", &recorder{}), Count(1), Credit); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Spawn("twice", probeOf("twice", &recorder{}), Count(1), Credit); err == nil {
		t.Fatal("a second live actor with the same id was spawned")
	}
}
