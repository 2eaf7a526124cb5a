package pgcluster

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// BinDirEnv names the environment variable that, when set, is the only place
// FindBinaries looks.
const BinDirEnv = "SHAPESYNC_PG_BINDIR"

// InstallHint is the remedy named by every missing-binaries error.
const InstallHint = "install the Debian package postgresql (apt-get install -y postgresql)"

// ErrNoBinaries is wrapped by every error about missing server binaries, so
// callers (embedded mode) can add their own remedy ("or set DATABASE_URL").
var ErrNoBinaries = errors.New("PostgreSQL server binaries not found")

// serverBinaries must all be present in a bin dir for it to count.
func serverBinaries() []string { return []string{"postgres", "initdb", "pg_resetwal"} }

// FindBinaries returns the directory holding the PostgreSQL server binaries
// (postgres, initdb, pg_resetwal). It looks, in order, at $SHAPESYNC_PG_BINDIR
// (and only there when it is set), `pg_config --bindir`,
// /usr/lib/postgresql/<newest>/bin and the directory of initdb on PATH
// (symlinks resolved, since Debian links the binaries into /usr/local/bin
// only partly).
func FindBinaries() (string, error) {
	if dir := os.Getenv(BinDirEnv); dir != "" {
		if err := checkBinDir(dir); err != nil {
			return "", fmt.Errorf("pgcluster: %s=%s: %w", BinDirEnv, dir, err)
		}
		return dir, nil
	}
	var looked []string
	for _, dir := range candidateBinDirs() {
		if checkBinDir(dir) == nil {
			return dir, nil
		}
		looked = append(looked, dir)
	}
	where := "no candidate directory"
	if len(looked) > 0 {
		where = "looked in " + strings.Join(looked, ", ")
	}
	return "", fmt.Errorf("pgcluster: %w (%s): %s, or set %s to the directory holding initdb and postgres",
		ErrNoBinaries, where, InstallHint, BinDirEnv)
}

func candidateBinDirs() []string {
	var dirs []string
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		dirs = append(dirs, strings.TrimSpace(string(out)))
	}
	dirs = append(dirs, debianBinDirs()...)
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		dirs = append(dirs, filepath.Dir(p))
	}
	var unique []string
	for _, d := range dirs {
		if d != "" && !slices.Contains(unique, d) {
			unique = append(unique, d)
		}
	}
	return unique
}

// debianBinDirs lists /usr/lib/postgresql/<major>/bin, newest major first.
func debianBinDirs() []string {
	entries, err := os.ReadDir("/usr/lib/postgresql")
	if err != nil {
		return nil
	}
	var majors []int
	for _, e := range entries {
		if n, err := strconv.Atoi(e.Name()); err == nil {
			majors = append(majors, n)
		}
	}
	slices.Sort(majors)
	slices.Reverse(majors)
	var dirs []string
	for _, m := range majors {
		dirs = append(dirs, filepath.Join("/usr/lib/postgresql", strconv.Itoa(m), "bin"))
	}
	return dirs
}

// checkBinDir verifies that dir holds every server binary as an executable.
func checkBinDir(dir string) error {
	var missing []string
	for _, name := range serverBinaries() {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || fi.IsDir() || fi.Mode().Perm()&0o111 == 0 {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: %s missing in %s: %s", ErrNoBinaries, strings.Join(missing, ", "), dir, InstallHint)
	}
	return nil
}

// resolveBinDir applies Options.BinDir, else FindBinaries.
func resolveBinDir(given string) (string, error) {
	if given == "" {
		return FindBinaries()
	}
	if err := checkBinDir(given); err != nil {
		return "", fmt.Errorf("pgcluster: Options.BinDir: %w", err)
	}
	return given, nil
}
