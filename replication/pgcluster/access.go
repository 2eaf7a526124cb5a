package pgcluster

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
)

// ServerUser is the account the server binaries run as when the process is
// root (Postgres refuses to run as root).
const ServerUser = "postgres"

// serverUser is who runs initdb, pg_resetwal and postgres: the current user,
// or ServerUser when the current user is root.
type serverUser struct {
	name       string
	uid        uint32
	gid        uint32
	groups     []uint32
	switchUser bool // true when running as root: chown and drop privileges
}

func currentServerUser() (serverUser, error) {
	if os.Geteuid() != 0 {
		return serverUser{name: strconv.Itoa(os.Geteuid()), uid: uint32(os.Geteuid()), gid: uint32(os.Getegid())}, nil
	}
	u, err := user.Lookup(ServerUser)
	if err != nil {
		return serverUser{}, fmt.Errorf("pgcluster: running as root, so the server must run as user %q, but: %w (%s, which creates it, or run as a non-root user)", ServerUser, err, InstallHint)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err := errors.Join(err1, err2); err != nil {
		return serverUser{}, fmt.Errorf("pgcluster: user %q: %w", ServerUser, err)
	}
	su := serverUser{name: ServerUser, uid: uint32(uid), gid: uint32(gid), switchUser: true}
	if ids, err := u.GroupIds(); err == nil {
		for _, s := range ids {
			if g, err := strconv.ParseUint(s, 10, 32); err == nil {
				su.groups = append(su.groups, uint32(g))
			}
		}
	}
	return su, nil
}

// credential is the SysProcAttr credential for child processes; nil when
// no switch is needed.
func (u serverUser) credential() *syscall.Credential {
	if !u.switchUser {
		return nil
	}
	return &syscall.Credential{Uid: u.uid, Gid: u.gid, Groups: u.groups}
}

func (u serverUser) inGroup(gid uint32) bool {
	return gid == u.gid || slices.Contains(u.groups, gid)
}

// chown hands a directory the package created to the server user.
func (u serverUser) chown(path string) error {
	if !u.switchUser {
		return nil
	}
	if err := os.Chown(path, int(u.uid), int(u.gid)); err != nil {
		return fmt.Errorf("pgcluster: chown %s to %s: %w", path, u.name, err)
	}
	return nil
}

// AccessError reports a directory on the way to a data or socket directory
// that the server user cannot traverse.
type AccessError struct {
	Dir   string      // the directory that blocks
	User  string      // the server user
	Mode  fs.FileMode // its permission bits
	Owner uint32      // its owner's uid
	Path  string      // the directory that was being reached
}

func (e *AccessError) Error() string {
	return fmt.Sprintf("pgcluster: user %s cannot traverse %s (mode %s, owner uid %d) on the way to %s: "+
		"choose a directory outside it (e.g. under %s) or grant search permission (chmod o+x %s)",
		e.User, e.Dir, e.Mode, e.Owner, e.Path, os.TempDir(), e.Dir)
}

// CheckAccess reports whether the server user can reach dir: every existing
// directory on its path (symlinks resolved) must grant it search permission.
// The error is an *AccessError naming the blocking directory. Without a user
// switch (not root) it only resolves the path. Embedded mode uses it to fall
// back to another location before starting.
func CheckAccess(dir string) error {
	u, err := currentServerUser()
	if err != nil {
		return err
	}
	return u.checkAccess(dir)
}

func (u serverUser) checkAccess(dir string) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("pgcluster: %s: %w", dir, err)
	}
	if !u.switchUser {
		return nil
	}
	target, err := deepestExisting(abs)
	if err != nil {
		return err
	}
	// Ancestors only, root first: dir itself is chowned to the server user
	// when the package creates or initialises it.
	var ancestors []string
	for cur := filepath.Dir(target); ; cur = filepath.Dir(cur) {
		ancestors = append(ancestors, cur)
		if filepath.Dir(cur) == cur {
			break
		}
	}
	slices.Reverse(ancestors)
	for _, cur := range ancestors {
		fi, err := os.Stat(cur)
		if errors.Is(err, fs.ErrNotExist) {
			break // created by the package with mode 0755
		}
		if err != nil {
			return fmt.Errorf("pgcluster: checking access to %s: %w", abs, err)
		}
		st, ok := fi.Sys().(*syscall.Stat_t)
		if !ok {
			continue
		}
		if !u.canSearch(fi.Mode().Perm(), st.Uid, st.Gid) {
			return &AccessError{Dir: cur, User: u.name, Mode: fi.Mode(), Owner: st.Uid, Path: abs}
		}
	}
	return nil
}

// canSearch applies the Unix permission classes in kernel order: owner bits
// when the user owns it, else group bits for a member, else other bits.
func (u serverUser) canSearch(perm fs.FileMode, uid, gid uint32) bool {
	switch {
	case uid == u.uid:
		return perm&0o100 != 0
	case u.inGroup(gid):
		return perm&0o010 != 0
	default:
		return perm&0o001 != 0
	}
}

// deepestExisting returns the longest existing prefix of abs with symlinks
// resolved, joined with the components that do not exist yet.
func deepestExisting(abs string) (string, error) {
	rest := ""
	cur := abs
	for {
		real, err := filepath.EvalSymlinks(cur)
		if err == nil {
			return filepath.Join(real, rest), nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("pgcluster: resolving %s: %w", cur, err)
		}
		parent := filepath.Dir(cur)
		if parent == cur {
			return abs, nil
		}
		rest = filepath.Join(filepath.Base(cur), rest)
		cur = parent
	}
}

// mkdirAllTraversable creates dir and its missing parents with mode 0755
// (explicitly, so a restrictive umask cannot lock the server user out),
// chowning only the last one, which becomes the server's directory.
func (u serverUser) mkdirAllTraversable(dir string, last fs.FileMode) error {
	var missing []string
	for cur := dir; ; cur = filepath.Dir(cur) {
		if _, err := os.Stat(cur); err == nil {
			break
		} else if !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("pgcluster: %s: %w", cur, err)
		}
		missing = append(missing, cur)
		if filepath.Dir(cur) == cur {
			break
		}
	}
	for i := len(missing) - 1; i >= 0; i-- {
		mode := fs.FileMode(0o755)
		if i == 0 {
			mode = last
		}
		if err := os.Mkdir(missing[i], mode); err != nil && !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("pgcluster: create %s: %w", missing[i], err)
		}
		if err := os.Chmod(missing[i], mode); err != nil {
			return fmt.Errorf("pgcluster: chmod %s: %w", missing[i], err)
		}
	}
	return u.chown(dir)
}
