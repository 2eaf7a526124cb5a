package actors

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

// These scripts drive the supervisor's state machine without actors: each
// step is an event, and the effects it returns are compared as text.

func render(eff []effect) []string {
	out := make([]string, 0, len(eff))
	for _, e := range eff {
		switch e.kind {
		case doSpawn:
			s := "spawn " + e.label
			if e.restart {
				s += " (restart: " + e.why + ")"
			}
			out = append(out, s)
		case doStop:
			s := "stop " + e.label
			if e.ordered {
				s += " (ordered)"
			}
			out = append(out, s)
		case doArm:
			out = append(out, fmt.Sprintf("arm %d after %v", e.token, e.delay))
		case doEscalate:
			out = append(out, "escalate")
		case doReport:
			out = append(out, fmt.Sprintf("report %s: %v", e.label, e.exit))
		case doForget:
			out = append(out, "forget "+e.label)
		case doMarkStopped:
			out = append(out, "stopped "+e.label)
		case doAfterRestart:
			out = append(out, "after-restart "+strings.Join(e.labels, ","))
		case doStopSelf:
			out = append(out, "stop self")
		}
	}
	return out
}

type script struct {
	t   *testing.T
	tab *childTable
	now time.Time
}

func newScript(t *testing.T, strategy Strategy, esc Escalation, labels ...string) *script {
	spec := SupervisorSpec{Strategy: strategy, Backoff: Backoff(time.Second, 8*time.Second, 0, time.Minute), Escalate: esc}
	for _, l := range labels {
		spec.Children = append(spec.Children, ChildSpec{Label: l})
	}
	return &script{t: t, tab: newChildTable("sup", spec, func() float64 { return 0 }), now: time.Unix(1000, 0)}
}

func (s *script) step(name string, eff []effect, want ...string) {
	s.t.Helper()
	if got := render(eff); !slices.Equal(got, want) {
		s.t.Fatalf("%s:\n got  %q\n want %q", name, got, want)
	}
}

func (s *script) startAll(labels ...string) {
	s.t.Helper()
	s.step("start", s.tab.start(), "spawn "+labels[0])
	for i, l := range labels {
		var want []string
		if i+1 < len(labels) {
			want = []string{"spawn " + labels[i+1]}
		}
		s.step("started "+l, s.tab.started(l, s.now), want...)
	}
}

func TestTableStartsChildrenOneAtATimeInOrder(t *testing.T) {
	s := newScript(t, OneForOne, Escalation{}, "a", "b", "c")
	s.step("start", s.tab.start(), "spawn a")
	s.step("b must wait for a's Started", s.tab.started("nobody", s.now))
	s.step("started a", s.tab.started("a", s.now), "spawn b")
	s.step("started b", s.tab.started("b", s.now), "spawn c")
	s.step("started c: initial start runs no hook", s.tab.started("c", s.now))
}

func TestTableRestForOne(t *testing.T) {
	s := newScript(t, RestForOne, Escalation{}, "a", "b", "c")
	s.startAll("a", "b", "c")
	s.tab.failed("b", "boom")
	s.step("b terminates", s.tab.terminated("b", s.now), "stop c", "arm 2 after 1s")
	s.step("timer fires while c is still stopping", s.tab.timerFired(2))
	s.step("c terminates", s.tab.terminated("c", s.now), "spawn b (restart: boom)")
	s.step("started b", s.tab.started("b", s.now), "spawn c (restart: restarted with b: boom)")
	s.step("started c", s.tab.started("c", s.now), "after-restart b,c")
}

func TestTableOneForAllWaitsForEveryMember(t *testing.T) {
	s := newScript(t, OneForAll, Escalation{}, "a", "b", "c")
	s.startAll("a", "b", "c")
	s.step("c terminates", s.tab.terminated("c", s.now), "stop a", "stop b", "arm 2 after 1s")
	s.step("a terminates", s.tab.terminated("a", s.now))
	s.step("timer fires before b stopped", s.tab.timerFired(2))
	s.step("b terminates", s.tab.terminated("b", s.now), "spawn a (restart: restarted with c: stopped)")
	s.step("started a", s.tab.started("a", s.now), "spawn b (restart: restarted with c: stopped)")
	s.step("started b", s.tab.started("b", s.now), "spawn c (restart: stopped)")
	s.step("started c", s.tab.started("c", s.now), "after-restart a,b,c")
}

func TestTableOneForOneBacksOffPerChildAndResets(t *testing.T) {
	s := newScript(t, OneForOne, Escalation{}, "a", "b")
	s.startAll("a", "b")
	for i, want := range []string{"1s", "2s", "4s", "8s", "8s"} {
		tok := s.tab.token + 1
		s.step("a terminates", s.tab.terminated("a", s.now), fmt.Sprintf("arm %d after %s", tok, want))
		s.step("a's timer", s.tab.timerFired(tok), "spawn a (restart: stopped)")
		s.step("started a", s.tab.started("a", s.now), "after-restart a")
		if i == 0 {
			s.step("stale timer is ignored", s.tab.timerFired(tok))
		}
	}
	s.now = s.now.Add(2 * time.Minute) // a ran longer than resetAfter
	tok := s.tab.token + 1
	s.step("a terminates after a quiet run", s.tab.terminated("a", s.now), fmt.Sprintf("arm %d after 1s", tok))
}

func TestTableEscalatesPastIntensity(t *testing.T) {
	s := newScript(t, OneForOne, EscalateAfter(2, time.Minute), "a")
	s.startAll("a")
	for i := range 2 {
		tok := s.tab.token + 1
		s.step("a terminates", s.tab.terminated("a", s.now), fmt.Sprintf("arm %d after %v", tok, time.Second<<i))
		s.step("timer", s.tab.timerFired(tok), "spawn a (restart: stopped)")
		s.step("started a", s.tab.started("a", s.now), "after-restart a")
	}
	s.tab.failed("a", "third strike")
	eff := s.tab.terminated("a", s.now)
	s.step("third termination", eff, "escalate")
	var esc *EscalationError
	if !errors.As(eff[0].err, &esc) || esc.Restarts != 3 || esc.Child != "a" || esc.LastReason != "third strike" {
		t.Fatalf("escalation error: %+v", eff[0].err)
	}
}

func TestTableTemporaryChildIsReportedNotRestarted(t *testing.T) {
	watcher := actor.NewPID("nonhost", "watcher")
	s := newScript(t, OneForAll, Escalation{}, "a")
	s.startAll("a")
	if err := s.tab.add(ChildSpec{Label: "tmp", Restart: Temporary, Watcher: watcher}); err != nil {
		t.Fatal(err)
	}
	if err := s.tab.add(ChildSpec{Label: "tmp"}); !errors.Is(err, errDuplicateChild) {
		t.Fatalf("duplicate add: got %v", err)
	}
	s.step("started tmp", s.tab.started("tmp", s.now))
	s.tab.failed("tmp", "gone")
	s.step("tmp terminates: no restart of anyone", s.tab.terminated("tmp", s.now), "report tmp: gone", "forget tmp")
	if _, ok := s.tab.lookup("tmp"); ok {
		t.Fatal("tmp still in the table")
	}
}

func TestTableRemoveChild(t *testing.T) {
	s := newScript(t, OneForOne, Escalation{}, "a", "b")
	s.startAll("a", "b")
	eff, err := s.tab.remove("b")
	if err != nil {
		t.Fatal(err)
	}
	s.step("remove b", eff, "stop b")
	s.step("b terminates", s.tab.terminated("b", s.now), "forget b")
	if _, err := s.tab.remove("b"); !errors.Is(err, errNoSuchChild) {
		t.Fatalf("second remove: got %v", err)
	}
}

func TestTableShutdownStopsInReverseStartOrder(t *testing.T) {
	s := newScript(t, OneForOne, Escalation{}, "a", "b", "c")
	s.startAll("a", "b", "c")
	s.step("stopAll", s.tab.stopAll(nil), "stop c (ordered)")
	s.step("c terminates", s.tab.terminated("c", s.now), "stop b (ordered)")
	s.step("b terminates", s.tab.terminated("b", s.now), "stop a (ordered)")
	s.step("a terminates", s.tab.terminated("a", s.now), "stop self")
}

func TestTableShutdownHonoursStopOrderAndSkipsWaitingChildren(t *testing.T) {
	s := newScript(t, OneForOne, Escalation{}, "a", "b", "c")
	s.startAll("a", "b", "c")
	s.step("b terminates", s.tab.terminated("b", s.now), "arm 2 after 1s")
	s.step("stopAll", s.tab.stopAll([]string{"a"}), "stopped b", "stop a (ordered)")
	s.step("b's timer fires during shutdown", s.tab.timerFired(2))
	s.step("a terminates", s.tab.terminated("a", s.now), "stop c (ordered)")
	s.step("c terminates", s.tab.terminated("c", s.now), "stop self")
	if err := s.tab.add(ChildSpec{Label: "late"}); !errors.Is(err, errStopping) {
		t.Fatalf("add during shutdown: got %v", err)
	}
}

func TestTableMergesOverlappingRestartGroups(t *testing.T) {
	s := newScript(t, RestForOne, Escalation{}, "a", "b", "c")
	s.startAll("a", "b", "c")
	s.step("c terminates", s.tab.terminated("c", s.now), "arm 2 after 1s")
	s.step("a terminates: c joins a's group", s.tab.terminated("a", s.now), "stop b", "arm 3 after 1s")
	s.step("c's old timer is stale", s.tab.timerFired(2))
	s.step("b terminates", s.tab.terminated("b", s.now))
	s.step("group timer", s.tab.timerFired(3), "spawn a (restart: stopped)")
	s.step("started a", s.tab.started("a", s.now), "spawn b (restart: restarted with a: stopped)")
	s.step("started b", s.tab.started("b", s.now), "spawn c (restart: restarted with a: stopped)")
	s.step("started c", s.tab.started("c", s.now), "after-restart a,b,c")
}

func TestTableChildFailingInStartedIsRespawnedForever(t *testing.T) {
	s := newScript(t, OneForOne, Escalation{}, "a", "b")
	s.step("start", s.tab.start(), "spawn a")
	s.step("a fails in Started; b, independent, starts meanwhile", s.tab.terminated("a", s.now), "arm 2 after 1s", "spawn b")
	s.step("a's timer fires while b is starting", s.tab.timerFired(2))
	s.step("started b", s.tab.started("b", s.now), "spawn a (restart: stopped)")
	for i := 1; i < 30; i++ {
		tok := s.tab.token + 1
		want := min(time.Second<<i, 8*time.Second)
		s.step("a fails in Started", s.tab.terminated("a", s.now), fmt.Sprintf("arm %d after %v", tok, want))
		s.step("a's timer", s.tab.timerFired(tok), "spawn a (restart: stopped)")
	}
	s.step("a finally starts", s.tab.started("a", s.now), "after-restart a")
}

func TestTableRestForOneFailureInInitialStartHoldsLaterChildren(t *testing.T) {
	s := newScript(t, RestForOne, Escalation{}, "a", "b")
	s.step("start", s.tab.start(), "spawn a")
	s.step("a fails in Started: b waits with it", s.tab.terminated("a", s.now), "arm 2 after 1s")
	s.step("a's timer", s.tab.timerFired(2), "spawn a (restart: stopped)")
	s.step("started a", s.tab.started("a", s.now), "spawn b (restart: restarted with a: stopped)")
	s.step("started b", s.tab.started("b", s.now), "after-restart a,b")
}
