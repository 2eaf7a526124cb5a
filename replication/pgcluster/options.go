package pgcluster

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/shapesync/shapesync/replication/lsn"
)

// Options configures a cluster. The zero value is a valid configuration: a
// fresh temporary cluster on a free port with wal_level=logical.
type Options struct {
	// Dir is the data directory. Empty: a new directory under os.TempDir(),
	// removed by Destroy. Given: created when missing, initialised when empty,
	// reused as is when it already holds a cluster (embedded mode keeps its
	// data across runs); Destroy never removes it.
	Dir string

	// Settings are server parameters passed as `-c name=value` at every
	// start, on top of the defaults (wal_level=logical, max_wal_senders=10,
	// max_replication_slots=10). port, listen_addresses and
	// unix_socket_directories are managed by the package and rejected here.
	Settings map[string]string

	// WalSegSizeMB is initdb's --wal-segsize (a power of two, 1–1024).
	// 0 keeps the server default (16). It applies only when the cluster is
	// initialised.
	WalSegSizeMB int

	// StartLSN ("X/Y") moves the WAL of a newly initialised cluster forward
	// with pg_resetwal before its first start: WAL then begins at the first
	// segment boundary at or after StartLSN. Ignored for a reused data dir.
	StartLSN string

	// StopMode is the shutdown used by Stop, Restart and Destroy: "fast"
	// (default, SIGINT: checkpoint, clean) or "immediate" (SIGQUIT: no
	// checkpoint, crash recovery at the next start).
	StopMode string

	// Port is the TCP port on 127.0.0.1. 0 picks a free one, retrying with
	// another port when the chosen one is taken by the time the server binds.
	Port int

	// Log receives the output of initdb, pg_resetwal and the server. It is
	// written from one goroutine at a time. Nil: only the recent output is
	// kept (Cluster.ServerLog), for error messages.
	Log io.Writer

	// BinDir is the directory of the server binaries (initdb, postgres,
	// pg_resetwal). Empty: FindBinaries.
	BinDir string
}

// Stop modes.
const (
	StopFast      = "fast"
	StopImmediate = "immediate"
)

// isManaged reports the settings the package chooses itself, so that Host,
// Port and DSN stay true and the unix socket stays private.
func isManaged(name string) bool {
	switch strings.ToLower(name) {
	case "port", "listen_addresses", "unix_socket_directories":
		return true
	}
	return false
}

func defaultSettings() map[string]string {
	return map[string]string{
		"wal_level":             "logical",
		"max_wal_senders":       "10",
		"max_replication_slots": "10",
	}
}

func (o Options) validate() error {
	switch o.StopMode {
	case "", StopFast, StopImmediate:
	default:
		return fmt.Errorf("pgcluster: StopMode %q: want %q or %q", o.StopMode, StopFast, StopImmediate)
	}
	if o.WalSegSizeMB != 0 && (o.WalSegSizeMB < 1 || o.WalSegSizeMB > 1024 || o.WalSegSizeMB&(o.WalSegSizeMB-1) != 0) {
		return fmt.Errorf("pgcluster: WalSegSizeMB %d: want a power of two between 1 and 1024", o.WalSegSizeMB)
	}
	if o.StartLSN != "" {
		if _, err := lsn.ParseLSN(o.StartLSN); err != nil {
			return fmt.Errorf("pgcluster: StartLSN: %w", err)
		}
	}
	if o.Port < 0 || o.Port > 65535 {
		return fmt.Errorf("pgcluster: Port %d out of range", o.Port)
	}
	return validateSettings(o.Settings)
}

func validateSettings(s map[string]string) error {
	for name := range s {
		if name == "" || strings.ContainsAny(name, "= \t\n") {
			return fmt.Errorf("pgcluster: setting name %q is not a parameter name", name)
		}
		if isManaged(name) {
			return fmt.Errorf("pgcluster: setting %q is managed by pgcluster (use Options.Port; the server listens on 127.0.0.1 and a private socket directory)", name)
		}
	}
	return nil
}

func (o Options) stopMode() string {
	if o.StopMode == "" {
		return StopFast
	}
	return o.StopMode
}

// serverArgs is the postgres command line: every setting as -c, sorted so
// the command line is stable and readable in ps.
func serverArgs(dataDir, sockDir string, port int, settings map[string]string) []string {
	all := defaultSettings()
	maps.Copy(all, settings)
	all["port"] = fmt.Sprint(port)
	all["listen_addresses"] = "127.0.0.1"
	all["unix_socket_directories"] = sockDir
	args := []string{"-D", dataDir}
	for _, name := range slices.Sorted(maps.Keys(all)) {
		args = append(args, "-c", name+"="+all[name])
	}
	return args
}
