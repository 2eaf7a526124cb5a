package pgcluster

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shapesync/shapesync/replication/lsn"
)

func TestWalFileName(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		start string
		segMB int
		want  string
	}{
		{"0/0", 16, "000000010000000000000000"},
		{"0/1000000", 16, "000000010000000000000001"},
		{"0/1000001", 16, "000000010000000000000002"}, // rounds up: never below start
		{"1/0", 16, "000000010000000100000000"},
		{"2/500000", 1, "000000010000000200000005"},
		{"2/500001", 1, "000000010000000200000006"},
		{"FF/FF000000", 16, "00000001000000FF000000FF"},
	} {
		l, err := lsn.ParseLSN(tc.start)
		if err != nil {
			t.Fatal(err)
		}
		if got := walFileName(l, tc.segMB); got != tc.want {
			t.Errorf("walFileName(%s, %dMB) = %s, want %s", tc.start, tc.segMB, got, tc.want)
		}
	}
}

// The access check is exercised with a made-up server user, so it does not
// depend on the uid the tests run as.
func TestCheckAccessNamesTheBlockingDirectory(t *testing.T) {
	t.Parallel()
	root := filepath.Dir(traversableTempDir(t)) // t.TempDir()'s parents are 0700
	locked := filepath.Join(root, "locked")
	open := filepath.Join(root, "open")
	for dir, mode := range map[string]os.FileMode{locked: 0o700, open: 0o755} {
		if err := os.Mkdir(dir, mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(dir, mode); err != nil {
			t.Fatal(err)
		}
	}
	stranger := serverUser{name: "stranger", uid: 4242424, gid: 4242424, switchUser: true}

	err := stranger.checkAccess(filepath.Join(locked, "a", "b", "pg"))
	var ae *AccessError
	if !errors.As(err, &ae) || ae.Dir != locked || ae.User != "stranger" {
		t.Fatalf("checkAccess below a 0700 dir = %v, want an AccessError naming %s", err, locked)
	}
	if err := stranger.checkAccess(filepath.Join(open, "pg")); err != nil {
		t.Errorf("checkAccess below 0755 dirs: %v", err)
	}
	// The data directory itself is chowned later, so its own mode is not
	// checked.
	if err := stranger.checkAccess(locked); err != nil {
		t.Errorf("checkAccess of the 0700 dir itself: %v", err)
	}
	// Group membership grants search through the group bits.
	if err := os.Chmod(locked, 0o710); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(locked)
	member := stranger
	member.groups = []uint32{statGID(fi)}
	if err := member.checkAccess(filepath.Join(locked, "pg")); err != nil {
		t.Errorf("group member below a 0710 dir: %v", err)
	}
	// A symlink is judged by where it leads.
	link := filepath.Join(open, "link")
	if err := os.Symlink(locked, link); err != nil {
		t.Fatal(err)
	}
	if err := stranger.checkAccess(filepath.Join(link, "pg")); !errors.As(err, &ae) || ae.Dir != locked {
		t.Errorf("checkAccess through a symlink into a closed dir = %v, want it to name %s", err, locked)
	}
}

// As root, a data directory under t.TempDir() (0700) is refused before
// anything is created, naming that directory.
func TestStartRefusesUntraversableDirAsRoot(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "pg")
	c, err := Start(testCtx(t), Options{Dir: dir})
	if os.Geteuid() != 0 {
		if err != nil {
			t.Errorf("as non-root, Start under t.TempDir(): %v", err)
		} else if err := c.Destroy(testCtx(t)); err != nil {
			t.Error(err)
		}
		return
	}
	// t.TempDir() is <tmp>/<TestName><n>/<seq>, both 0700: the outer one
	// blocks first.
	var ae *AccessError
	if !errors.As(err, &ae) || ae.Dir != filepath.Dir(filepath.Dir(dir)) || ae.User != ServerUser {
		t.Fatalf("Start under a 0700 dir as root = %v, want an AccessError naming %s", err, filepath.Dir(filepath.Dir(dir)))
	}
	if !strings.Contains(err.Error(), ae.Dir) || !strings.Contains(err.Error(), "drwx------") {
		t.Errorf("message %q does not name the directory and its mode", err)
	}
	if _, err := os.Stat(dir); err == nil {
		t.Errorf("refused Start created %s", dir)
	}
}
