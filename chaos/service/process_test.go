package service_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shapesync/shapesync/chaos/service"
)

func ctxFor(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// procState is the state letter of /proc/<pid>/stat, or "" when there is
// no such process.
func procState(pid int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return ""
	}
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	return fields[0]
}

func TestStartAnswersHealthAndStatus(t *testing.T) {
	t.Parallel()
	p := service.Start(t, fakeBin(t), service.Options{})
	if !strings.HasPrefix(p.URL(), "http://127.0.0.1:") || p.URL() == "http://127.0.0.1:0" {
		t.Errorf("URL %q", p.URL())
	}
	code, body, err := p.Health(ctxFor(t, 5*time.Second))
	if err != nil || code != http.StatusOK || body != `{"status":"active"}` {
		t.Fatalf("Health = %d %q %v, want 200 active", code, body, err)
	}
	st, err := p.Status(ctxFor(t, 5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	want := service.Status{State: "live", Reasons: []string{}, ReceivedLSN: 0x16B3748, DurableLSN: 0x16B3700, AckedLSN: 0x16B3000}
	if fmt.Sprint(st) != fmt.Sprint(want) || st.Reasons == nil {
		t.Errorf("Status = %+v, want %+v", st, want)
	}
	// The admin listener got a port of its own.
	resp, err := http.Get(p.AdminURL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(metrics), "fakeservice_starts 1") {
		t.Errorf("admin /metrics = %q", metrics)
	}
	if p.AdminURL() == p.URL() {
		t.Errorf("admin and main listener share %s", p.URL())
	}
}

func TestRestartKeepsPortAndStorage(t *testing.T) {
	t.Parallel()
	p := service.Start(t, fakeBin(t), service.Options{})
	url, storage, firstPID := p.URL(), p.StorageDir(), p.PID()
	p.Kill()
	p.Restart(t)
	if p.URL() != url || p.StorageDir() != storage {
		t.Errorf("after Restart: URL %s storage %s, want %s %s", p.URL(), p.StorageDir(), url, storage)
	}
	if p.PID() == firstPID {
		t.Errorf("Restart kept pid %d", firstPID)
	}
	if err := p.WaitHealthy(ctxFor(t, 5*time.Second), http.StatusOK); err != nil {
		t.Fatal(err)
	}
	// The fake counts its starts in the storage directory.
	if out := p.Output(); !strings.Contains(out, "port="+strconv.Itoa(p.Port())+" storage="+storage+" starts=2") {
		t.Errorf("second start did not see the first one's storage:\n%s", out)
	}
	if code, err := p.Term(); err != nil || code != 0 {
		t.Fatalf("Term = %d, %v", code, err)
	}
	p.Restart(t) // after Term too
	if !strings.Contains(p.Output(), "starts=3") {
		t.Errorf("third start missing:\n%s", p.Output())
	}
}

func TestRestartOfARunningProcessFails(t *testing.T) {
	t.Parallel()
	p := service.Start(t, fakeBin(t), service.Options{})
	tb := &fakeTB{TB: t}
	tb.run(p.Restart)
	if msgs := tb.fatalMessages(); len(msgs) != 1 || !strings.Contains(msgs[0], "still running") {
		t.Errorf("Restart while running: %q, want one fatal saying it is still running", msgs)
	}
}

func TestOutputCapturesBothStreamsAndMarkers(t *testing.T) {
	t.Parallel()
	p := service.Start(t, fakeBin(t), service.Options{})
	pid := p.PID()
	p.Kill()
	out := p.Output()
	for _, want := range []string{
		"--- service: start #1: ",
		fmt.Sprintf("fakeservice: pid=%d port=%d", pid, p.Port()),
		"fakeservice: this line went to stderr",
		fmt.Sprintf("--- service: pid %d exited: signal: killed ---", pid),
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestOutputKeepsOnlyTheTail(t *testing.T) {
	t.Parallel()
	p := service.Start(t, fakeBin(t), service.Options{OutputBytes: 100})
	p.Kill()
	out := p.Output()
	if !strings.HasPrefix(out, "[… ") || !strings.Contains(out, "earlier bytes dropped") {
		t.Errorf("a 100-byte buffer did not report dropping:\n%s", out)
	}
	if !strings.HasSuffix(out, "exited: signal: killed ---\n") {
		t.Errorf("the tail is missing:\n%s", out)
	}
}

func TestWaitHealthyWaitsForStatus(t *testing.T) {
	t.Parallel()
	p := service.Start(t, fakeBin(t), service.Options{Env: map[string]string{"FAKESERVICE_STARTING_FOR": "700ms"}})
	// Start returns on any answer: the fake is still starting.
	code, body, err := p.Health(ctxFor(t, time.Second))
	if err != nil || code != http.StatusAccepted || body != `{"status":"starting"}` {
		t.Fatalf("Health right after Start = %d %q %v, want 202 starting", code, body, err)
	}
	st, err := p.Status(ctxFor(t, time.Second))
	if err != nil || st.State != "starting" || len(st.Reasons) != 1 {
		t.Errorf("Status while starting = %+v, %v", st, err)
	}
	if err := p.WaitHealthy(ctxFor(t, 10*time.Second), http.StatusOK); err != nil {
		t.Fatal(err)
	}
	if code, _, err := p.Health(ctxFor(t, time.Second)); err != nil || code != http.StatusOK {
		t.Errorf("Health after WaitHealthy = %d, %v", code, err)
	}
}

func TestWaitHealthyReportsTimeoutAndExit(t *testing.T) {
	t.Parallel()
	p := service.Start(t, fakeBin(t), service.Options{Env: map[string]string{"FAKESERVICE_STARTING_FOR": "1h"}})
	err := p.WaitHealthy(ctxFor(t, 200*time.Millisecond), http.StatusOK)
	if err == nil || !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), `status 202 {"status":"starting"}`) {
		t.Errorf("WaitHealthy past the deadline = %v, want DeadlineExceeded naming the last answer", err)
	}
	p.Kill()
	err = p.WaitHealthy(ctxFor(t, 5*time.Second), http.StatusOK)
	if err == nil || !strings.Contains(err.Error(), "exited") {
		t.Errorf("WaitHealthy of a dead process = %v, want an exit error", err)
	}
}

// Not parallel: t.Setenv.
func TestEnvironmentIsScrubbedAndOverridable(t *testing.T) {
	t.Setenv("DATABASE_URL", "postgres://leaked@example/db")
	t.Setenv("ELECTRIC_LOG_LEVEL", "debug")
	t.Setenv("SERVICE_TEST_UNRELATED", "kept")
	p := service.Start(t, fakeBin(t), service.Options{Env: map[string]string{
		"FAKESERVICE_ECHO_ENV":           "DATABASE_URL,ELECTRIC_LOG_LEVEL,SERVICE_TEST_UNRELATED,ELECTRIC_INSECURE,ELECTRIC_REPLICATION_STREAM_ID",
		"ELECTRIC_REPLICATION_STREAM_ID": "chaos1",
	}})
	out := p.Output()
	for _, want := range []string{
		`env DATABASE_URL="" set=false`,
		`env ELECTRIC_LOG_LEVEL="" set=false`,
		`env SERVICE_TEST_UNRELATED="kept" set=true`,
		`env ELECTRIC_INSECURE="true" set=true`,
		`env ELECTRIC_REPLICATION_STREAM_ID="chaos1" set=true`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("child environment: output lacks %q:\n%s", want, out)
		}
	}
}

func TestSecretTurnsOffInsecureDefault(t *testing.T) {
	t.Parallel()
	p := service.Start(t, fakeBin(t), service.Options{Env: map[string]string{
		"FAKESERVICE_ECHO_ENV": "ELECTRIC_INSECURE", "ELECTRIC_SECRET": "s3cret",
	}})
	if !strings.Contains(p.Output(), `env ELECTRIC_INSECURE="" set=false`) {
		t.Errorf("ELECTRIC_INSECURE set alongside a secret:\n%s", p.Output())
	}
}

func TestStartRejectsBadOptions(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		bin  string
		opts service.Options
		want string
	}{
		{"error - port through Env", "", service.Options{Env: map[string]string{"ELECTRIC_PORT": "1"}}, "use Options.Port"},
		{"error - storage through Env", "", service.Options{Env: map[string]string{"ELECTRIC_STORAGE_DIR": "/x"}}, "ELECTRIC_STORAGE_DIR"},
		{"error - missing binary", "/nonexistent/shapesync", service.Options{}, "no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			bin := tc.bin
			if bin == "" {
				bin = fakeBin(t)
			}
			tb := &fakeTB{TB: t}
			tb.run(func(tb testing.TB) { service.Start(tb, bin, tc.opts) })
			tb.runCleanups()
			if msgs := tb.fatalMessages(); len(msgs) != 1 || !strings.Contains(msgs[0], tc.want) {
				t.Errorf("fatal messages %q, want one containing %q", msgs, tc.want)
			}
		})
	}
}

func TestStartRetriesOnceOnAddressInUse(t *testing.T) {
	t.Parallel()
	marker := filepath.Join(t.TempDir(), "failed-once")
	tb := &fakeTB{TB: t}
	var p *service.Process
	tb.run(func(tb testing.TB) {
		p = service.Start(tb, fakeBin(t), service.Options{Env: map[string]string{"FAKESERVICE_ADDR_IN_USE_ONCE": marker}})
	})
	defer tb.runCleanups()
	if p == nil {
		t.Fatalf("Start did not retry: %s", tb.messages())
	}
	if _, err := os.Stat(marker); err != nil {
		t.Fatalf("the first attempt did not run: %v", err)
	}
	if out := p.Output(); !strings.Contains(out, "start #2") || !strings.Contains(out, "address already in use") {
		t.Errorf("output lacks the failed first attempt and the second start:\n%s", out)
	}
	if err := p.WaitHealthy(ctxFor(t, 5*time.Second), http.StatusOK); err != nil {
		t.Error(err)
	}
}

func TestStartWithTakenFixedPortFails(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	tb := &fakeTB{TB: t}
	tb.run(func(tb testing.TB) {
		// Our listener never answers HTTP: the child exiting is what ends
		// the wait.
		service.Start(tb, fakeBin(t), service.Options{Port: port, ReadyTimeout: 20 * time.Second})
	})
	tb.runCleanups()
	msgs := tb.fatalMessages()
	if len(msgs) != 1 || !strings.Contains(msgs[0], "exited before /v1/health answered") {
		t.Fatalf("fatal messages %q, want one early-exit failure without a retry", msgs)
	}
	// The admin port was the harness's choice, so Start tried once more;
	// the taken main port made that fail too.
	if logs := tb.messages(); !strings.Contains(logs, "start #2") || strings.Contains(logs, "start #3") || !strings.Contains(logs, "address already in use") {
		t.Errorf("want exactly one retry and the output in the log:\n%s", logs)
	}
}

func TestStartTimesOutAndKills(t *testing.T) {
	t.Parallel()
	tb := &fakeTB{TB: t}
	var p *service.Process
	tb.run(func(tb testing.TB) {
		p = service.Start(tb, fakeBin(t), service.Options{
			Env:          map[string]string{"FAKESERVICE_LISTEN_AFTER": "1h"},
			ReadyTimeout: 300 * time.Millisecond,
		})
	})
	msgs := tb.fatalMessages()
	if len(msgs) != 1 || !strings.Contains(msgs[0], "no answer from http://127.0.0.1:") || !strings.Contains(msgs[0], "within 300ms") {
		t.Fatalf("fatal messages %q, want one ready-timeout failure", msgs)
	}
	if p != nil {
		t.Errorf("Start returned a process after failing")
	}
	tb.runCleanups()
	// The cleanup had nothing left to stop: Start killed the child.
	if errs := tb.errorMessages(); len(errs) != 0 {
		t.Errorf("cleanup errors %q", errs)
	}
	if !strings.Contains(tb.messages(), "exited: signal: killed") {
		t.Errorf("the child was not killed, or the output was not logged:\n%s", tb.messages())
	}
}

func netListen(port int) (net.Listener, error) {
	return net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
}
