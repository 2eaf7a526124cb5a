package actors

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

func spawnSup(t *testing.T, k *Kit, label string, spec SupervisorSpec) *PID {
	t.Helper()
	if err := spec.Validate(); err != nil {
		t.Fatal(err)
	}
	pid, err := k.SpawnRoot(supSpec(label, spec))
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

func threeProbes(rec *recorder) []ChildSpec {
	return []ChildSpec{probeSpec("c1", rec), probeSpec("c2", rec), probeSpec("c3", rec)}
}

func startsAfter(rec *recorder, n int) []string {
	s := rec.with("start:")
	if len(s) < n {
		return nil
	}
	return s[n:]
}

func TestRestForOneRestartsTheFailedAndLaterChildrenInOrder(t *testing.T) {
	k, _ := newTestKit(t)
	rec := &recorder{}
	spawnSup(t, k, "core", SupervisorSpec{Strategy: RestForOne, Backoff: fast, Children: slowStarters(rec)})
	eventually(t, wait, "initial start", running(k, "core/c1", "core/c2", "core/c3"))
	if got := rec.with("ready:"); !slices.Equal(got, []string{"ready:c1", "ready:c2", "ready:c3"}) {
		t.Fatalf("initial Started order %v: each child must finish Started before the next spawns", got)
	}
	k.Root().Send(pidOf(k, "core/c2"), &crash{})
	eventually(t, wait, "c2 and c3 restarted", func() bool { return len(rec.with("start:")) == 5 && running(k, "core/c2", "core/c3")() })
	if got := rec.with("ready:")[3:]; !slices.Equal(got, []string{"ready:c2", "ready:c3"}) {
		t.Fatalf("restart order %v, want c2 then c3", got)
	}
	if rec.has("stop:c1") || rec.count("start:c1") != 1 {
		t.Fatalf("c1 was touched: %v", rec.all())
	}
	c2, _ := k.Lookup("core/c2")
	c3, _ := k.Lookup("core/c3")
	c1, _ := k.Lookup("core/c1")
	if c2.Restarts != 1 || !strings.Contains(c2.LastReason, "crash c2") {
		t.Errorf("c2 inspection: %+v", c2)
	}
	if c3.Restarts != 1 || !strings.Contains(c3.LastReason, "restarted with c2") {
		t.Errorf("c3 inspection: %+v", c3)
	}
	if c1.Restarts != 0 {
		t.Errorf("c1 inspection: %+v", c1)
	}
}

func TestOneForAllRestartsEveryoneInOrderAfterAllStopped(t *testing.T) {
	k, _ := newTestKit(t)
	rec := &recorder{}
	spawnSup(t, k, "shapes", SupervisorSpec{
		Strategy: OneForAll, Backoff: fast, Children: slowStarters(rec),
		AfterRestart: func(_ actor.Context, labels []string) { rec.add("after:%s", strings.Join(labels, ",")) },
	})
	eventually(t, wait, "initial start", running(k, "shapes/c1", "shapes/c2", "shapes/c3"))
	k.Root().Send(pidOf(k, "shapes/c2"), &crash{})
	eventually(t, wait, "post-restart hook", func() bool { return rec.has("after:c1,c2,c3") })
	if got := rec.with("ready:")[3:]; !slices.Equal(got, []string{"ready:c1", "ready:c2", "ready:c3"}) {
		t.Fatalf("restart order %v", got)
	}
	ev := rec.all()
	lastStop, firstRestart := -1, -1
	for i, e := range ev {
		if strings.HasPrefix(e, "stop:") {
			lastStop = i
		}
		if e == "start:c1" && i > 2 && firstRestart < 0 {
			firstRestart = i
		}
	}
	if len(rec.with("stop:")) != 3 || lastStop > firstRestart {
		t.Fatalf("every child must stop before the first re-spawn: %v", ev)
	}
	if rec.count("after:c1,c2,c3") != 1 {
		t.Fatalf("hook ran %d times", rec.count("after:c1,c2,c3"))
	}
}

func TestOneForOneRestartsOnlyTheFailedChild(t *testing.T) {
	k, _ := newTestKit(t)
	rec := &recorder{}
	spawnSup(t, k, "pipeline", SupervisorSpec{Strategy: OneForOne, Backoff: fast, Children: threeProbes(rec)})
	eventually(t, wait, "initial start", running(k, "pipeline/c1", "pipeline/c2", "pipeline/c3"))
	k.Root().Send(pidOf(k, "pipeline/c2"), &crash{})
	eventually(t, wait, "c2 restarted", func() bool { return rec.count("start:c2") == 2 && running(k, "pipeline/c2")() })
	if got := rec.with("stop:"); !slices.Equal(got, []string{"stop:c2"}) {
		t.Fatalf("stopped %v, want only c2", got)
	}
	if got := startsAfter(rec, 3); !slices.Equal(got, []string{"start:c2"}) {
		t.Fatalf("restarted %v", got)
	}
}

func TestBackoffNeverGivesUp(t *testing.T) {
	k, _ := newTestKit(t)
	rec := &recorder{}
	flaky := ChildSpec{Label: "flaky", Bound: Count(4), Policy: Credit,
		Producer: func() actor.Actor { return &probe{name: "flaky", rec: rec, failStart: true} }}
	spawnSup(t, k, "stack", SupervisorSpec{Strategy: OneForOne, Backoff: Backoff(time.Millisecond, 3*time.Millisecond, 0.5, 0),
		Children: []ChildSpec{flaky}})
	eventually(t, 10*time.Second, "25 starts of a child that always fails", func() bool { return rec.count("start:flaky") >= 25 })
	in, _ := k.Lookup("stack/flaky")
	if in.Restarts < 24 || !strings.Contains(in.LastReason, "cannot start flaky") {
		t.Fatalf("inspection: %+v", in)
	}
	if sup, _ := k.Lookup("stack"); sup.State != StateRunning || sup.Kind != KindSupervisor {
		t.Fatalf("supervisor gave up or failed: %+v", sup)
	}
}

func TestEscalationFailsTheSupervisorIntoItsParent(t *testing.T) {
	k, _ := newTestKit(t)
	rec := &recorder{}
	mid := SupervisorSpec{Strategy: OneForOne, Backoff: fast, Escalate: EscalateAfter(2, time.Minute),
		Children: []ChildSpec{probeSpec("leaf", rec)}}
	spawnSup(t, k, "top", SupervisorSpec{Strategy: OneForOne, Backoff: fast, Children: []ChildSpec{supSpec("mid", mid)}})
	eventually(t, wait, "tree up", running(k, "top/mid", "top/mid/leaf"))
	for i := 1; i <= 2; i++ {
		k.Root().Send(pidOf(k, "top/mid/leaf"), &crash{})
		eventually(t, wait, "leaf restarted by mid", func() bool { return rec.count("start:leaf") == i+1 && running(k, "top/mid/leaf")() })
	}
	if in, _ := k.Lookup("top/mid"); in.Restarts != 0 {
		t.Fatalf("mid escalated within its intensity: %+v", in)
	}
	k.Root().Send(pidOf(k, "top/mid/leaf"), &crash{}) // third restart within the window: more than 2
	eventually(t, wait, "top re-spawned mid, which started leaf again", func() bool {
		in, _ := k.Lookup("top/mid")
		return in.Restarts == 1 && rec.count("start:leaf") == 4 && running(k, "top/mid", "top/mid/leaf")()
	})
	in, _ := k.Lookup("top/mid")
	if !strings.Contains(in.LastReason, "escalates") {
		t.Fatalf("mid's restart reason %q", in.LastReason)
	}
	if leaf, _ := k.Lookup("top/mid/leaf"); leaf.Restarts != 2 {
		t.Fatalf("leaf restarts: got %d, want 2 (the escalation's re-spawn is mid's fresh start)", leaf.Restarts)
	}
}

// A re-spawn gets a fresh mailbox. What protoactor does, precisely: user
// messages still queued in the dead incarnation's mailbox are never
// delivered (the mailbox is suspended at the panic and dropped at stop);
// a PID value held by a peer re-resolves by id to the new incarnation (its
// cached process is marked dead), so later sends reach the successor; and
// the successor's depth counter starts at zero.
func TestRespawnGetsAFreshMailbox(t *testing.T) {
	k, _ := newTestKit(t, WithSlowReceive(time.Hour, nil))
	rec := &recorder{}
	spawnSup(t, k, "sup", SupervisorSpec{Strategy: OneForOne, Backoff: fast,
		Children: []ChildSpec{{Label: "w", Producer: probeOf("w", rec), Bound: Count(100), Policy: Shed}}})
	eventually(t, wait, "w up", running(k, "sup/w"))
	peer := pidOf(k, "sup/w") // the PID value a peer keeps across restarts
	b := &block{entered: make(chan struct{}), release: make(chan struct{}), panics: true}
	k.Root().Send(peer, b)
	<-b.entered
	for range 5 {
		k.Root().Send(peer, &note{v: "old"})
	}
	if in, _ := k.Lookup("sup/w"); in.Depth != 6 {
		t.Fatalf("old incarnation depth: got %d, want 6", in.Depth)
	}
	close(b.release) // w panics with five messages queued behind the block
	eventually(t, wait, "w re-spawned", func() bool { return rec.count("start:w") == 2 && running(k, "sup/w")() })
	if in, _ := k.Lookup("sup/w"); in.Depth != 0 || in.HighWater != 0 {
		t.Fatalf("new incarnation gauge: %+v", in)
	}
	k.Root().Send(peer, &note{v: "new"})
	eventually(t, wait, "new message via the old PID value", func() bool { return rec.has("msg:w:new") })
	if n := rec.count("msg:w:old"); n != 0 {
		t.Fatalf("%d messages queued to the dead incarnation were delivered", n)
	}
}

// protoactor skips MessageReceived for the message that panicked (P10);
// without the kit's correction the dead incarnation would show depth 1 and
// TrySend would shed at a bound of 1 until the re-spawn.
func TestPanickedMessageLeavesTheGauge(t *testing.T) {
	k, _ := newTestKit(t)
	spawnSup(t, k, "sup", SupervisorSpec{Strategy: OneForOne, Backoff: Backoff(time.Hour, time.Hour, 0, 0),
		Children: []ChildSpec{{Label: "one", Producer: probeOf("one", &recorder{}), Bound: Count(1), Policy: Shed}}})
	eventually(t, wait, "up", running(k, "sup/one"))
	k.Root().Send(pidOf(k, "sup/one"), &crash{})
	eventually(t, wait, "waiting for re-spawn", func() bool { in, _ := k.Lookup("sup/one"); return in.State == StateRestarting })
	if in, _ := k.Lookup("sup/one"); in.Depth != 0 {
		t.Fatalf("depth after the panic: got %d, want 0", in.Depth)
	}
	if !k.TrySend(pidOf(k, "sup/one"), &note{v: "x"}) {
		t.Fatal("TrySend shed because of a drifted gauge")
	}
}

func TestDynamicAndTemporaryChildren(t *testing.T) {
	k, _ := newTestKit(t)
	rec := &recorder{}
	watcher, err := k.Spawn("collector", probeOf("collector", rec), Count(16), Credit)
	if err != nil {
		t.Fatal(err)
	}
	sup := spawnSup(t, k, "consumers", SupervisorSpec{Strategy: OneForOne, Backoff: fast})
	add := func(spec ChildSpec) *ChildAdded {
		res, err := k.Root().RequestFuture(sup, &AddChild{Spec: spec}, wait).Result()
		if err != nil {
			t.Fatal(err)
		}
		return res.(*ChildAdded)
	}
	tmp := probeSpec("consumer-1", rec)
	tmp.Restart, tmp.Watcher = Temporary, watcher
	if a := add(tmp); a.Err != nil || a.PID == nil || a.PID.Id != "consumers/consumer-1" {
		t.Fatalf("add temporary: %+v", a)
	}
	if a := add(tmp); a.Err == nil {
		t.Fatal("a duplicate label was added")
	}
	if a := add(probeSpec("dyn", rec)); a.Err != nil {
		t.Fatalf("add permanent: %+v", a)
	}
	eventually(t, wait, "dynamic children up", running(k, "consumers/consumer-1", "consumers/dyn"))

	k.Root().Send(pidOf(k, "consumers/consumer-1"), &crash{})
	eventually(t, wait, "watcher told", func() bool { return rec.has("exited:consumer-1:crash consumer-1") })
	if _, ok := k.Lookup("consumers/consumer-1"); ok || rec.count("start:consumer-1") != 1 {
		t.Fatalf("temporary child came back: %v", rec.all())
	}

	k.Root().Send(pidOf(k, "consumers/dyn"), &crash{})
	eventually(t, wait, "permanent dynamic child restarted", func() bool { return rec.count("start:dyn") == 2 && running(k, "consumers/dyn")() })

	res, err := k.Root().RequestFuture(sup, &RemoveChild{Label: "dyn"}, wait).Result()
	if err != nil || res.(*ChildRemoved).Err != nil {
		t.Fatalf("remove: %v %+v", err, res)
	}
	if _, ok := k.Lookup("consumers/dyn"); ok || rec.count("start:dyn") != 2 {
		t.Fatal("removed child is still known or came back")
	}
}

func TestPanicIsLoggedWithItsStack(t *testing.T) {
	k, logs := newTestKit(t)
	rec := &recorder{}
	spawnSup(t, k, "sup", SupervisorSpec{Strategy: OneForOne, Backoff: fast, Children: []ChildSpec{probeSpec("p", rec)}})
	eventually(t, wait, "up", running(k, "sup/p"))
	k.Root().Send(pidOf(k, "sup/p"), &crash{})
	eventually(t, wait, "restart", func() bool { return rec.count("start:p") == 2 })
	panics := logs.FilterMessage("actor panicked").All()
	if len(panics) != 1 {
		t.Fatalf("want one panic log, got %d", len(panics))
	}
	f := panics[0].ContextMap()
	if f["actor"] != "sup/p" || f["message"] != "*actors.crash" || !strings.Contains(f["stack"].(string), "(*probe).Receive") {
		t.Fatalf("panic log fields: %v", f)
	}
}
