package service_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/shapesync/shapesync/chaos/service"
)

func TestBuildCompilesOnceAndReuses(t *testing.T) {
	t.Parallel()
	var b service.Builds // its own cache, so the count below is ours alone
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Error(err)
		}
	})
	const callers = 4
	paths := make([]string, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() {
			tb := &fakeTB{TB: t}
			tb.run(func(tb testing.TB) { paths[i] = b.Build(tb, service.BuildOptions{Package: fakePackage}) })
			if msgs := tb.fatalMessages(); len(msgs) > 0 {
				t.Errorf("Build: %v", msgs)
			}
		})
	}
	wg.Wait()
	first, err := os.Stat(paths[0])
	if err != nil {
		t.Fatalf("built binary: %v", err)
	}
	if first.Mode()&0o111 == 0 {
		t.Errorf("binary %s is not executable: %v", paths[0], first.Mode())
	}
	for i, p := range paths {
		if p != paths[0] {
			t.Errorf("concurrent Build %d returned %s, want %s", i, p, paths[0])
		}
	}

	again := b.Build(t, service.BuildOptions{Package: fakePackage})
	if again != paths[0] {
		t.Fatalf("second Build returned %s, want the cached %s", again, paths[0])
	}
	st, err := os.Stat(again)
	if err != nil {
		t.Fatal(err)
	}
	if !os.SameFile(first, st) || !st.ModTime().Equal(first.ModTime()) {
		t.Errorf("second Build replaced the binary (inode or mtime changed)")
	}
	// Every build gets a directory of its own under the cache root: one
	// directory means one compilation.
	root := filepath.Dir(filepath.Dir(again))
	entries, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("cache root holds %d builds, want 1: %v", len(entries), entries)
	}
}

func TestBuildSeparatesTagsAndCloseRemoves(t *testing.T) {
	t.Parallel()
	var b service.Builds
	plain := b.Build(t, service.BuildOptions{Package: fakePackage})
	tagged := b.Build(t, service.BuildOptions{Package: fakePackage, Tags: []string{"faults"}})
	if plain == tagged {
		t.Fatalf("tagged and untagged builds share %s", plain)
	}
	// The fake reports whether tag faults was compiled in.
	for bin, want := range map[string]string{plain: "faults=false", tagged: "faults=true"} {
		p := service.Start(t, bin, service.Options{})
		if out := p.Output(); !strings.Contains(out, want) {
			t.Errorf("%s: output lacks %q:\n%s", bin, want, out)
		}
	}
	// Repeating a tag does not make a new build.
	if again := b.Build(t, service.BuildOptions{Package: fakePackage, Tags: []string{"faults", "faults"}}); again != tagged {
		t.Errorf("same tags built again: %s, want %s", again, tagged)
	}
	root := filepath.Dir(filepath.Dir(plain))
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(root); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("after Close, cache root %s: %v, want it removed", root, err)
	}
}

func TestBuildFailureFailsTheTest(t *testing.T) {
	t.Parallel()
	var b service.Builds
	t.Cleanup(func() { _ = b.Close() })
	tb := &fakeTB{TB: t}
	var path string
	tb.run(func(tb testing.TB) {
		path = b.Build(tb, service.BuildOptions{Package: "./chaos/service/testdata/nosuchpackage"})
	})
	msgs := tb.fatalMessages()
	if len(msgs) != 1 || !strings.Contains(msgs[0], "go build") || !strings.Contains(msgs[0], "nosuchpackage") {
		t.Fatalf("Build of a missing package: fatal messages %q, want one naming go build and the package", msgs)
	}
	if path != "" {
		t.Errorf("Build returned %q after failing", path)
	}
}

func TestModuleRoot(t *testing.T) {
	t.Parallel()
	root, err := service.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	mod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(mod), "module github.com/shapesync/shapesync\n") {
		t.Errorf("%s/go.mod is not shapesync's", root)
	}
}
