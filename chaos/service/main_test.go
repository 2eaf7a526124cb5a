package service_test

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/shapesync/shapesync/chaos/service"
)

// builds is this test binary's build cache; TestMain removes it.
var builds service.Builds

const fakePackage = "./chaos/service/testdata/fakeservice"

// helperParentEnv makes the test binary act as a test that started the
// service and then crashed (TestPdeathsigKillsOrphan).
const (
	helperParentEnv    = "SERVICE_TEST_HELPER_PARENT_BIN"
	helperParentDirEnv = "SERVICE_TEST_HELPER_PARENT_DIR" // the outer test's TempDir
)

func TestMain(m *testing.M) {
	if bin := os.Getenv(helperParentEnv); bin != "" {
		os.Exit(helperParent(bin, os.Getenv(helperParentDirEnv)))
	}
	code := m.Run()
	if err := builds.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "close builds:", err)
		code = 1
	}
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// fakeBin is the stand-in service, built once per test binary.
func fakeBin(t testing.TB) string {
	t.Helper()
	return builds.Build(t, service.BuildOptions{Package: fakePackage})
}

// helperParent starts the fake service, prints its PID and waits to be
// killed, as a test binary that crashes mid-test would.
func helperParent(bin, dir string) int {
	tb := &fakeTB{}
	var p *service.Process
	tb.run(func(t testing.TB) {
		p = service.Start(t, bin, service.Options{Dir: dir, StorageDir: dir})
	})
	if p == nil {
		fmt.Println("error:", tb.messages())
		return 1
	}
	fmt.Printf("pid=%d\n", p.PID())
	time.Sleep(time.Minute) // the test kills us long before
	return 1
}

// fakeTB records failures instead of failing the real test, so the
// harness's own failure paths can be tested. Fatalf ends the goroutine
// like the real one does; run calls code under test on a goroutine of its
// own for that reason. Methods it does not override (TempDir, Name) go to
// the embedded real test.
type fakeTB struct {
	testing.TB

	mu       sync.Mutex
	fatals   []string
	errs     []string
	logs     []string
	cleanups []func()
}

func (f *fakeTB) Helper() {}

func (f *fakeTB) add(list *[]string, msg string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	*list = append(*list, msg)
}

func (f *fakeTB) Fatalf(format string, args ...any) {
	f.add(&f.fatals, fmt.Sprintf(format, args...))
	runtime.Goexit()
}
func (f *fakeTB) Fatal(args ...any) { f.add(&f.fatals, fmt.Sprint(args...)); runtime.Goexit() }
func (f *fakeTB) FailNow()          { f.add(&f.fatals, "FailNow"); runtime.Goexit() }
func (f *fakeTB) Errorf(format string, args ...any) {
	f.add(&f.errs, fmt.Sprintf(format, args...))
}
func (f *fakeTB) Error(args ...any)               { f.add(&f.errs, fmt.Sprint(args...)) }
func (f *fakeTB) Fail()                           { f.add(&f.errs, "Fail") }
func (f *fakeTB) Logf(format string, args ...any) { f.add(&f.logs, fmt.Sprintf(format, args...)) }
func (f *fakeTB) Log(args ...any)                 { f.add(&f.logs, fmt.Sprint(args...)) }
func (f *fakeTB) Cleanup(fn func())               { f.mu.Lock(); f.cleanups = append(f.cleanups, fn); f.mu.Unlock() }
func (f *fakeTB) Failed() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.fatals)+len(f.errs) > 0
}

// run calls fn(f) and returns when fn returns or calls Fatalf.
func (f *fakeTB) run(fn func(testing.TB)) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(f)
	}()
	<-done
}

// runCleanups runs the registered cleanups last-first, as testing does.
func (f *fakeTB) runCleanups() {
	f.mu.Lock()
	cleanups := f.cleanups
	f.cleanups = nil
	f.mu.Unlock()
	for i := len(cleanups) - 1; i >= 0; i-- {
		f.run(func(testing.TB) { cleanups[i]() })
	}
}

func (f *fakeTB) messages() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return fmt.Sprintf("fatal: %q\nerrors: %q\nlogs: %q", f.fatals, f.errs, f.logs)
}

func (f *fakeTB) fatalMessages() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.fatals...)
}

func (f *fakeTB) errorMessages() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.errs...)
}

// firstLine reads one line of r with prefix, for the helper parent's PID.
func firstLine(sc *bufio.Scanner, prefix string) (string, error) {
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), prefix); ok {
			return rest, nil
		}
		if strings.HasPrefix(sc.Text(), "error:") {
			return "", fmt.Errorf("helper: %s", sc.Text())
		}
	}
	return "", fmt.Errorf("helper printed no %q line: %v", prefix, sc.Err())
}
