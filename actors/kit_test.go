package actors

import (
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"go.uber.org/zap"
)

func TestProtoactorLogsGoToZapAsProtoactor(t *testing.T) {
	k, logs := newTestKit(t)
	if got := logs.FilterLoggerName("protoactor").FilterMessage("actor system started").All(); len(got) != 1 {
		t.Fatalf("protoactor's start log did not reach zap under the name protoactor: %v", logs.All())
	}
	// A message to a dead PID is logged by protoactor's dead-letter handler.
	k.Root().Send(pidOf(k, "nobody"), &note{v: "lost"})
	eventually(t, wait, "dead letter logged", func() bool {
		return logs.FilterLoggerName("protoactor").FilterMessage("[DeadLetter]").Len() > 0
	})
}

type slowWork struct{}

func TestSlowReceiveWarns(t *testing.T) {
	slow := make(chan SlowReceive, 1)
	k, logs := newTestKit(t, WithSlowReceive(5*time.Millisecond, func(s SlowReceive) {
		if s.Message == "*actors.slowWork" { // a loaded machine may make other receives slow too
			slow <- s
		}
	}))
	pid, err := k.Spawn("slowpoke", func() actor.Actor {
		return actor.ReceiveFunc(func(c actor.Context) {
			if _, ok := c.Message().(*slowWork); ok {
				time.Sleep(20 * time.Millisecond) // simulated blocking work, the bug being detected
			}
		})
	}, Count(4), Credit)
	if err != nil {
		t.Fatal(err)
	}
	k.Root().Send(pid, &slowWork{})
	select {
	case s := <-slow:
		if s.Actor != "slowpoke" || s.Message != "*actors.slowWork" || s.Duration < 20*time.Millisecond {
			t.Fatalf("slow receive report: %+v", s)
		}
	case <-time.After(wait):
		t.Fatal("no slow-receive report")
	}
	if logs.FilterMessageSnippet("slow receive").FilterField(zap.String("message", "*actors.slowWork")).Len() != 1 {
		t.Fatal("slow receive was not logged once")
	}
}

func TestSnapshotDescribesTheTree(t *testing.T) {
	k, _ := newTestKit(t)
	rec := &recorder{}
	spawnSup(t, k, "core", SupervisorSpec{Strategy: RestForOne, Backoff: fast, Children: []ChildSpec{
		probeSpec("status", rec),
		{Label: "registry", Producer: probeOf("registry", rec), Bound: Count(1024), Policy: Shed},
	}})
	eventually(t, wait, "up", running(k, "core/status", "core/registry"))
	snap := k.Snapshot()
	if len(snap) != 3 {
		t.Fatalf("snapshot: %+v", snap)
	}
	core, registry := snap[0], snap[1]
	if core.ID != "core" || core.Kind != KindSupervisor || core.Parent != "" || core.State != StateRunning {
		t.Errorf("core: %+v", core)
	}
	if registry.ID != "core/registry" || registry.Label != "registry" || registry.Parent != "core" ||
		registry.Kind != KindActor || registry.Policy != Shed || registry.Bound != 1024 || registry.BoundUnit != "messages" {
		t.Errorf("registry: %+v", registry)
	}
	if registry.StartedAt.IsZero() || registry.Uptime < 0 {
		t.Errorf("registry uptime: %+v", registry)
	}
	if snap[2].ID != "core/status" {
		t.Errorf("order: %+v", snap[2])
	}
}

func TestRootFailureIsReportedNotRestarted(t *testing.T) {
	failed := make(chan string, 1)
	k, _ := newTestKit(t, WithRootFailure(func(id string, _ any) { failed <- id }))
	rec := &recorder{}
	pid, err := k.Spawn("stack", probeOf("stack", rec), Count(4), Credit)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, wait, "up", running(k, "stack"))
	k.Root().Send(pid, &crash{})
	select {
	case id := <-failed:
		if id != "stack" {
			t.Fatalf("root failure hook got %q", id)
		}
	case <-time.After(wait):
		t.Fatal("root failure not reported")
	}
	eventually(t, wait, "root stopped", func() bool { in, ok := k.Lookup("stack"); return !ok || in.State == StateStopped })
	if rec.count("start:stack") != 1 {
		t.Fatal("the root was restarted in place")
	}
}

func TestSupervisorSpecValidation(t *testing.T) {
	ok := probeSpec("a", &recorder{})
	for _, tc := range []struct {
		name string
		spec SupervisorSpec
	}{
		{"error - no strategy", SupervisorSpec{Children: []ChildSpec{ok}}},
		{"error - duplicate labels", SupervisorSpec{Strategy: OneForOne, Children: []ChildSpec{ok, ok}}},
		{"error - jitter above 1", SupervisorSpec{Strategy: OneForOne, Backoff: Backoff(time.Second, time.Second, 2, 0)}},
		{"error - child without bound", SupervisorSpec{Strategy: OneForOne, Children: []ChildSpec{{Label: "x", Producer: ok.Producer, Policy: Credit}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.spec.Validate(); err == nil {
				t.Fatal("invalid spec accepted")
			}
		})
	}
	if err := (SupervisorSpec{Strategy: OneForOne, Children: []ChildSpec{ok}}).Validate(); err != nil {
		t.Fatalf("valid spec rejected: %v", err)
	}
}
