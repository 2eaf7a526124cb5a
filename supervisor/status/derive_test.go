package status

import (
	"strings"
	"testing"
)

func allOK() map[string]Report {
	r := map[string]Report{}
	for _, name := range required() {
		r[name] = Report{OK: true}
	}
	return r
}

func TestDerive(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		reports func() map[string]Report
		want    State
		reason  string
	}{
		{"ok - nothing reported is starting", func() map[string]Report { return map[string]Report{} }, Starting, "store_open: not yet reported"},
		{"ok - everything holds is live", allOK, Live, ""},
		{"ok - lock held elsewhere is waiting", func() map[string]Report {
			r := allOK()
			r[CondLock] = Report{Reason: "held by another instance (pid 42)"}
			r[CondReplication] = Report{}
			return r
		}, Waiting, "lock_held: held by another instance (pid 42)"},
		{"ok - lock pending without a database is starting", func() map[string]Report {
			r := allOK()
			r[CondDatabase] = Report{Reason: "connection refused"}
			r[CondLock] = Report{Reason: "not connected"}
			return r
		}, Starting, "database_reachable: connection refused"},
		{"ok - replication impossible with working pools is fallback", func() map[string]Report {
			r := allOK()
			r[CondReplication] = Report{Reason: "stream down"}
			r[CondReplicationUsable] = Report{Reason: "grant REPLICATION to role app"}
			return r
		}, Fallback, "replication_possible: grant REPLICATION to role app"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, reasons := Derive(tc.reports())
			if got != tc.want {
				t.Fatalf("state = %s; want %s (reasons %v)", got, tc.want, reasons)
			}
			if tc.reason == "" && len(reasons) != 0 {
				t.Fatalf("reasons = %v; want none", reasons)
			}
			if tc.reason != "" && !strings.Contains(strings.Join(reasons, "\n"), tc.reason) {
				t.Fatalf("reasons %v lack %q", reasons, tc.reason)
			}
		})
	}
}
