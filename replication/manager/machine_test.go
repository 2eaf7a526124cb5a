package manager

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/shapesync/shapesync/replication/pgwire"
	"github.com/shapesync/shapesync/shapes/protocol"
)

// The machine's tests are scripts, like raft's interaction tests: each
// step feeds one event and lists the actions expected, rendered as short
// lines. The jitter source is fixed at 0.5, so retryable waits are exactly
// 1 s, 2 s, 4 s, … and slow ones exactly 45 s.

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func render(acts []Action) []string {
	out := []string{}
	for _, a := range acts {
		switch a := a.(type) {
		case Spawn:
			s := "spawn " + a.Child.Label()
			if a.Setup != nil {
				s += " from " + a.Setup.StartLSN.String()
			}
			out = append(out, s)
		case Stop:
			out = append(out, "stop "+a.Child.Label())
		case RunSetup:
			s := fmt.Sprintf("setup #%d", a.Token)
			if a.Request.RecreateSlot {
				s += " recreate"
			}
			out = append(out, s)
		case CancelSetup:
			out = append(out, fmt.Sprintf("cancel setup #%d", a.Token))
		case StartShapes:
			s := fmt.Sprintf("shapes #%d", a.Token)
			if a.Start.Purge {
				s += " purge"
			}
			out = append(out, s)
		case Report:
			out = append(out, fmt.Sprintf("report %s=%t", a.Condition.Name, a.Condition.OK))
		case Arm:
			out = append(out, fmt.Sprintf("arm #%d %s %s", a.Token, a.Delay, a.What))
		default:
			out = append(out, fmt.Sprintf("%T", a))
		}
	}
	return out
}

// step is one line of a script: feed ev at t0+at, expect want.
type step struct {
	at   time.Duration
	ev   Event
	want []string
}

type script struct {
	t    *testing.T
	m    *Machine
	last []Action
}

func newScript(t *testing.T) *script {
	return &script{t: t, m: NewMachine(Policy{Random: func() float64 { return 0.5 }})}
}

func (s *script) run(steps ...step) {
	s.t.Helper()
	for i, st := range steps {
		s.last = s.m.Step(st.ev, t0.Add(st.at))
		if got := render(s.last); !slices.Equal(got, st.want) {
			s.t.Fatalf("step %d (%T %+v):\n got  %q\n want %q\n(%s)", i, st.ev, st.ev, got, st.want, s.m.Summary())
		}
	}
}

// reason returns the Reason of the first report of name in the last step.
func (s *script) reason(name string) string {
	for _, a := range s.last {
		if r, ok := a.(Report); ok && r.Condition.Name == name {
			return r.Condition.Reason
		}
	}
	s.t.Fatalf("no report of %s in %q", name, render(s.last))
	return ""
}

var (
	created = SetupResult{Slot: "electric_slot_default", StartLSN: 0x100, SlotCreated: true, SlotReason: "the slot did not exist"}
	reused  = SetupResult{Slot: "electric_slot_default", StartLSN: 0x200}

	errRetry      = errors.New("connection reset by peer")
	errAuth       = &pgconn.PgError{Code: "28P01", Message: "password authentication failed for user \"app\""}
	errImpossible = &pgconn.PgError{Code: "42501", Message: "permission denied to start WAL sender"}
	errSlotLost   = pgwire.NewSlotLost("electric_slot_default", "does not exist", nil)
)

// toLive runs the setup from Started to live with a new slot; tokens 1
// (setup) and 2 (shapes) are used.
func (s *script) toLive() {
	s.t.Helper()
	s.run(
		step{0, Started{}, []string{"spawn admin-pool"}},
		step{0, ChildReady{AdminPool}, []string{"spawn lock"}},
		step{0, ChildWaiting{Lock, "held by pid 42"}, []string{}},
		step{0, ChildReady{Lock}, []string{"setup #1"}},
		step{0, SetupDone{1, created}, []string{"report replication_possible=true", "spawn snapshot-pool"}},
		step{0, ChildReady{SnapshotPool}, []string{"shapes #2 purge"}},
		step{0, ShapesStarted{2}, []string{"spawn txn-builder", "spawn replication from 0/100"}},
		step{0, ChildReady{Replication}, []string{}},
	)
	if s.m.Phase() != PhaseLive {
		s.t.Fatalf("phase %s; want live", s.m.Phase())
	}
}

func TestMachineSetupRunsThePhasesInOrder(t *testing.T) {
	t.Parallel()
	s := newScript(t)
	s.toLive()
	// Repeated reports change nothing.
	s.run(
		step{0, ChildReady{AdminPool}, []string{}},
		step{0, ChildWaiting{AdminPool, "ping failed"}, []string{}},
		step{0, Started{}, []string{}},
	)
}

func TestMachineSetupFailuresByClass(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		err    error
		want   []string
		remedy string
	}{
		{"ok - retryable waits 1 s", errRetry,
			[]string{"report replication_ready=false", "arm #2 1s replication setup"}, ""},
		{"ok - operator-needed waits 30–60 s", errAuth,
			[]string{"report replication_ready=false", "arm #2 45s replication setup"}, "fix the password"},
		{"ok - replication-impossible reports replication unusable", errImpossible,
			[]string{"report replication_possible=false", "report replication_ready=false", "arm #2 45s replication setup"}, "ALTER ROLE"},
		{"ok - slot-lost retries soon", errSlotLost,
			[]string{"report replication_ready=false", "arm #2 1s replication setup"}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newScript(t)
			s.run(
				step{0, Started{}, []string{"spawn admin-pool"}},
				step{0, ChildReady{AdminPool}, []string{"spawn lock"}},
				step{0, ChildReady{Lock}, []string{"setup #1"}},
				step{0, SetupFailed{1, tc.err}, tc.want},
			)
			if !strings.Contains(s.reason(protocol.CondReplication), tc.remedy) {
				t.Fatalf("reason %q lacks the remedy %q", s.reason(protocol.CondReplication), tc.remedy)
			}
			wantRequest := "setup #3"
			if errors.Is(tc.err, errSlotLost) {
				wantRequest = "setup #3 recreate"
			}
			s.run(
				step{time.Second, RetryDue{1}, []string{}}, // not the armed token
				step{time.Minute, RetryDue{2}, []string{wantRequest}},
			)
		})
	}
}

func TestMachineRetryableBackoffDoublesToTheCapAndResetsAfterAStableStream(t *testing.T) {
	t.Parallel()
	s := newScript(t)
	s.run(
		step{0, Started{}, []string{"spawn admin-pool"}},
		step{0, ChildReady{AdminPool}, []string{"spawn lock"}},
		step{0, ChildReady{Lock}, []string{"setup #1"}},
	)
	token := 1
	for _, want := range []string{"1s", "2s", "4s", "8s", "10s", "10s"} {
		acts := s.m.Step(SetupFailed{token, errRetry}, t0)
		arm := acts[len(acts)-1].(Arm)
		if arm.Delay.String() != want {
			t.Fatalf("delay %s; want %s", arm.Delay, want)
		}
		run := s.m.Step(RetryDue{arm.Token}, t0)
		token = run[0].(RunSetup).Token
	}
	// The stream comes up and runs for StableAfter: the next failure starts
	// from 1 s again.
	s.m.Step(SetupDone{token, reused}, t0)
	acts := s.m.Step(ChildReady{SnapshotPool}, t0)
	s.m.Step(ShapesStarted{acts[0].(StartShapes).Token}, t0)
	s.m.Step(ChildReady{Replication}, t0)
	acts = s.m.Step(ChildDown{Replication, errRetry}, t0.Add(6*time.Second))
	if got := render(acts); !slices.Equal(got, []string{"stop txn-builder", "report replication_ready=false", fmt.Sprintf("arm #%d 1s replication", token+2)}) {
		t.Fatalf("after a stable stream: %q", got)
	}
}

func TestMachineLockLossFencesThenRedoesSetupAndStream(t *testing.T) {
	t.Parallel()
	s := newScript(t)
	s.toLive()
	s.run(
		step{0, ChildDown{Lock, errRetry}, []string{"stop replication", "stop txn-builder", "report replication_ready=false", "report lock_held=false", "arm #3 1s lock"}},
		step{0, ChildDown{Replication, nil}, []string{}},
		step{0, ChildReady{Replication}, []string{}}, // a stopped child's last word
		step{0, ChildDown{TxnBuilder, nil}, []string{}},
		step{time.Second, RetryDue{3}, []string{"spawn lock"}},
		step{time.Second, ChildReady{Lock}, []string{"setup #4"}},
		// The slot survived: no purge, the snapshot pool is still up.
		step{time.Second, SetupDone{4, reused}, []string{"report replication_possible=true", "shapes #5"}},
		step{time.Second, ShapesStarted{5}, []string{"spawn txn-builder", "spawn replication from 0/200"}},
	)
}

func TestMachineLockLossDuringSetupAbandonsIt(t *testing.T) {
	t.Parallel()
	s := newScript(t)
	s.run(
		step{0, Started{}, []string{"spawn admin-pool"}},
		step{0, ChildReady{AdminPool}, []string{"spawn lock"}},
		step{0, ChildReady{Lock}, []string{"setup #1"}},
		step{0, ChildDown{Lock, errRetry}, []string{"cancel setup #1", "report replication_ready=false", "report lock_held=false", "arm #2 1s lock"}},
		step{0, SetupDone{1, created}, []string{}}, // abandoned: stale
		step{time.Second, RetryDue{2}, []string{"spawn lock"}},
		step{time.Second, ChildReady{Lock}, []string{"setup #3"}},
	)
}

func TestMachineStreamDeathRestartsThePairAfterBothAreGone(t *testing.T) {
	t.Parallel()
	s := newScript(t)
	s.toLive()
	s.run(
		step{0, ChildDown{TxnBuilder, errRetry}, []string{"stop replication", "report replication_ready=false", "arm #3 1s txn-builder"}},
		// The retry fires before replication is gone: setup waits for it.
		step{time.Second, RetryDue{3}, []string{}},
		step{time.Second, ChildDown{Replication, nil}, []string{"setup #4"}},
		step{time.Second, SetupDone{4, reused}, []string{"report replication_possible=true", "shapes #5"}},
		step{time.Second, ShapesStarted{5}, []string{"spawn txn-builder", "spawn replication from 0/200"}},
	)
}

func TestMachineSlotLostFromTheStreamRecreatesTheSlotAndPurges(t *testing.T) {
	t.Parallel()
	s := newScript(t)
	s.toLive()
	s.run(
		step{0, ChildDown{Replication, errSlotLost}, []string{"stop txn-builder", "report replication_ready=false", "arm #3 1s replication"}},
		step{0, ChildDown{TxnBuilder, nil}, []string{}},
		step{time.Second, RetryDue{3}, []string{"setup #4 recreate"}},
		step{time.Second, SetupDone{4, created}, []string{"report replication_possible=true", "shapes #5 purge"}},
		step{time.Second, ShapesStarted{5}, []string{"spawn txn-builder", "spawn replication from 0/100"}},
	)
}

func TestMachinePoolDeathRespawnsOnlyThePool(t *testing.T) {
	t.Parallel()
	s := newScript(t)
	s.toLive()
	s.run(
		step{0, ChildDown{AdminPool, errAuth}, []string{"report database_reachable=false", "arm #3 45s admin-pool"}},
	)
	if r := s.reason(protocol.CondDatabase); !strings.Contains(r, "fix the password") || !strings.Contains(r, "retrying in 45s") {
		t.Fatalf("reason %q", r)
	}
	s.run(
		step{45 * time.Second, RetryDue{3}, []string{"spawn admin-pool"}},
		step{45 * time.Second, ChildReady{AdminPool}, []string{}},
		step{45 * time.Second, ChildDown{SnapshotPool, errRetry}, []string{"arm #4 1s snapshot-pool"}},
		step{46 * time.Second, RetryDue{4}, []string{"spawn snapshot-pool"}},
	)
	if s.m.Phase() != PhaseLive {
		t.Fatalf("phase %s; a pool must not take the stream down", s.m.Phase())
	}
}

func TestMachineAdminPoolFailingAtStartIsRetriedSlowlyWhenTheOperatorMustAct(t *testing.T) {
	t.Parallel()
	s := newScript(t)
	s.run(
		step{0, Started{}, []string{"spawn admin-pool"}},
		step{0, ChildDown{AdminPool, errAuth}, []string{"report database_reachable=false", "arm #1 45s admin-pool"}},
		step{45 * time.Second, RetryDue{1}, []string{"spawn admin-pool"}},
		step{45 * time.Second, ChildDown{AdminPool, errAuth}, []string{"report database_reachable=false", "arm #2 45s admin-pool"}},
		step{90 * time.Second, RetryDue{2}, []string{"spawn admin-pool"}},
		step{90 * time.Second, ChildReady{AdminPool}, []string{"spawn lock"}},
	)
}

func TestMachinePipelineReset(t *testing.T) {
	t.Parallel()
	t.Run("ok - before the stream it changes nothing", func(t *testing.T) {
		t.Parallel()
		s := newScript(t)
		s.run(
			step{0, Started{}, []string{"spawn admin-pool"}},
			step{0, Reset{"shapes restarted"}, []string{}},
		)
	})
	t.Run("ok - while live it restarts the stream from the acknowledged position", func(t *testing.T) {
		t.Parallel()
		s := newScript(t)
		s.toLive()
		s.run(
			step{0, Reset{"shapes restarted"}, []string{"stop replication", "stop txn-builder", "report replication_ready=false"}},
			step{0, ChildDown{Replication, nil}, []string{}},
			step{0, ChildDown{TxnBuilder, nil}, []string{"setup #3"}},
			step{0, SetupDone{3, reused}, []string{"report replication_possible=true", "shapes #4"}},
			step{0, ShapesStarted{4}, []string{"spawn txn-builder", "spawn replication from 0/200"}},
		)
	})
}

func TestMachineShapesFailureIsRetried(t *testing.T) {
	t.Parallel()
	s := newScript(t)
	s.run(
		step{0, Started{}, []string{"spawn admin-pool"}},
		step{0, ChildReady{AdminPool}, []string{"spawn lock"}},
		step{0, ChildReady{Lock}, []string{"setup #1"}},
		step{0, SetupDone{1, created}, []string{"report replication_possible=true", "spawn snapshot-pool"}},
		step{0, ChildReady{SnapshotPool}, []string{"shapes #2 purge"}},
		step{0, ShapesFailed{2, errors.New("supervisor is shutting down")}, []string{"arm #3 1s shapes"}},
		step{0, ShapesStarted{2}, []string{}}, // stale
		step{time.Second, RetryDue{3}, []string{"shapes #4 purge"}},
		step{time.Second, ShapesStarted{4}, []string{"spawn txn-builder", "spawn replication from 0/100"}},
	)
}

func TestMachinePurgeDueWhileAShapesStartWithoutOneIsInFlight(t *testing.T) {
	t.Parallel()
	s := newScript(t)
	s.run(
		step{0, Started{}, []string{"spawn admin-pool"}},
		step{0, ChildReady{AdminPool}, []string{"spawn lock"}},
		step{0, ChildReady{Lock}, []string{"setup #1"}},
		step{0, SetupDone{1, reused}, []string{"report replication_possible=true", "spawn snapshot-pool"}},
		step{0, ChildReady{SnapshotPool}, []string{"shapes #2"}},
		// The lock goes and comes back while shapes #2 is in flight, and the
		// slot turns out to be new: the start without a purge is not enough.
		step{0, ChildDown{Lock, errRetry}, []string{"report lock_held=false", "arm #3 1s lock"}},
		step{time.Second, RetryDue{3}, []string{"spawn lock"}},
		step{time.Second, ChildReady{Lock}, []string{"setup #4"}},
		step{time.Second, SetupDone{4, created}, []string{"report replication_possible=true"}},
		step{time.Second, ShapesStarted{2}, []string{"shapes #5 purge"}},
		step{time.Second, ShapesStarted{5}, []string{"spawn txn-builder", "spawn replication from 0/100"}},
	)
}

func TestMachineDelayJitterStaysWithinTwentyPercent(t *testing.T) {
	t.Parallel()
	for _, r := range []float64{0, 0.25, 0.5, 0.75, 0.999} {
		m := NewMachine(Policy{Random: func() float64 { return r }})
		for attempt := range 6 {
			base := min(time.Second<<attempt, 10*time.Second)
			d := m.delay(pgwire.Retryable)
			if d < base*8/10 || d > base*12/10 {
				t.Fatalf("random %v attempt %d: delay %s outside %s ±20%%", r, attempt, d, base)
			}
		}
		if d := m.delay(pgwire.OperatorNeeded); d < 30*time.Second || d > 60*time.Second {
			t.Fatalf("random %v: slow delay %s outside 30–60 s", r, d)
		}
	}
}
