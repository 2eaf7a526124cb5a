package service

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// DefaultPackage is the main package Build compiles when BuildOptions
// names none.
const DefaultPackage = "./cmd/shapesync"

// buildDirPrefix names a Builds root directory under os.TempDir; the PID of
// the owning test binary follows it, so stale roots can be recognised.
const buildDirPrefix = "shapesync-builds-"

// BuildOptions selects what Build compiles.
type BuildOptions struct {
	// Package is the main package: a path relative to the module root
	// ("./cmd/shapesync", the default) or a full import path.
	Package string
	// Tags are build tags, e.g. "faults" for the fault hooks.
	Tags []string
	// Race builds the binary with the race detector.
	Race bool
}

// key identifies one build; tags are sorted and deduplicated so that
// {"a","b"} and {"b","a"} share a binary.
func (o BuildOptions) key() string {
	tags := slices.Clone(o.Tags)
	slices.Sort(tags)
	tags = slices.Compact(tags)
	return fmt.Sprintf("%s|%s|race=%t", o.pkg(), strings.Join(tags, ","), o.Race)
}

func (o BuildOptions) pkg() string {
	if o.Package == "" {
		return DefaultPackage
	}
	return o.Package
}

// Builds caches the binaries built by one test binary. The zero value is
// ready to use; it is safe for concurrent use and must not be copied.
// Declare one in a test file and Close it from TestMain.
type Builds struct {
	mu      sync.Mutex
	root    string                 // created on first Build
	entries map[string]*buildEntry // by BuildOptions.key
}

// buildEntry is one build; once makes concurrent callers wait for the
// first one instead of compiling the same package twice.
type buildEntry struct {
	once sync.Once
	path string
	err  error
}

// Build compiles opts' main package on its first call for that (package,
// tags, race) combination and returns the binary's path; later calls return
// the same path without compiling. A failed build fails t (every caller
// waiting on it sees the same error).
func (b *Builds) Build(t testing.TB, opts BuildOptions) string {
	t.Helper()
	e, root, err := b.entry(opts.key())
	if err != nil {
		t.Fatalf("service.Build: %v", err)
	}
	start, built := time.Now(), false
	e.once.Do(func() {
		e.path, e.err = build(root, opts)
		built = true
	})
	if e.err != nil {
		t.Fatalf("service.Build: %v", e.err)
	}
	if built {
		t.Logf("service.Build: built %s (tags %v, race %t) in %v", opts.pkg(), opts.Tags, opts.Race, time.Since(start).Round(time.Millisecond))
	}
	return e.path
}

// Close removes every binary built so far. A later Build compiles again.
func (b *Builds) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	root := b.root
	b.root, b.entries = "", nil
	if root == "" {
		return nil
	}
	if err := os.RemoveAll(root); err != nil {
		return fmt.Errorf("remove build directory: %w", err)
	}
	return nil
}

func (b *Builds) entry(key string) (*buildEntry, string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.root == "" {
		removeStaleBuildDirs(os.TempDir())
		root, err := os.MkdirTemp("", buildDirPrefix+strconv.Itoa(os.Getpid())+"-")
		if err != nil {
			return nil, "", fmt.Errorf("create build directory: %w", err)
		}
		b.root = root
		b.entries = make(map[string]*buildEntry)
	}
	e, ok := b.entries[key]
	if !ok {
		e = &buildEntry{}
		b.entries[key] = e
	}
	return e, b.root, nil
}

// build runs go build into a directory of its own under root, so every
// build is a separate file that a test can count.
func build(root string, opts BuildOptions) (string, error) {
	modRoot, err := ModuleRoot()
	if err != nil {
		return "", err
	}
	pkg := opts.pkg()
	dir, err := os.MkdirTemp(root, path.Base(pkg)+"-")
	if err != nil {
		return "", fmt.Errorf("create build directory: %w", err)
	}
	out := filepath.Join(dir, path.Base(pkg))
	args := []string{"build", "-o", out}
	if len(opts.Tags) > 0 {
		args = append(args, "-tags", strings.Join(opts.Tags, ","))
	}
	if opts.Race {
		args = append(args, "-race")
	}
	args = append(args, pkg)
	// go test puts $GOROOT/bin first on PATH, so this is the toolchain that
	// built the test.
	cmd := exec.Command("go", args...)
	cmd.Dir = modRoot
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if output, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go %s (in %s): %w\n%s", strings.Join(args, " "), modRoot, err, output)
	}
	return out, nil
}

// ModuleRoot returns the directory of the nearest go.mod at or above the
// working directory.
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find module root: %w", err)
	}
	for d := dir; ; {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		} else if !errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("find module root: %w", err)
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", fmt.Errorf("find module root: no go.mod in %s or any parent; run the test inside the module", dir)
		}
		d = parent
	}
}

// removeStaleBuildDirs deletes Builds roots whose test binary no longer
// runs (it crashed or timed out before Close). A directory whose owner
// cannot be told dead is left alone.
func removeStaleBuildDirs(tmp string) {
	entries, err := os.ReadDir(tmp)
	if err != nil {
		return
	}
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), buildDirPrefix)
		if !ok || !e.IsDir() {
			continue
		}
		pidText, _, ok := strings.Cut(rest, "-")
		pid, err := strconv.Atoi(pidText)
		if !ok || err != nil || pid <= 0 || pid == os.Getpid() {
			continue
		}
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			_ = os.RemoveAll(filepath.Join(tmp, e.Name()))
		}
	}
}
