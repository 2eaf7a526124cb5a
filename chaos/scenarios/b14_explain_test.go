package scenarios

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shapesync/shapesync/chaos/oracle"
)

// explainB14 logs what a failed repetition needs to be diagnosed: the
// shape's snapshot visibility as the service stored it, and for each row
// that ended up wrong the writer transactions that touched it (xid, WAL
// position right after COMMIT), the row's snapshot version and every change
// the client received for it.
func explainB14(t *testing.T, base, table string, tr *snapshotTracker, w b14Writers, straddleXid string, want map[string]oracle.Row) {
	explainB14Keys(t, base, table, tr, w, straddleXid, want, nil)
}

// explainB14Keys is explainB14 for the rows that differ plus extra keys.
func explainB14Keys(t *testing.T, base, table string, tr *snapshotTracker, w b14Writers, straddleXid string, want map[string]oracle.Row, extra []string) {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "explanation for %s (handle %s):\n  snapshot-end: %s\n  straddling transaction: xid %s\n", table, tr.f.Handle, snapshotEnd(base, table), straddleXid)
	keys := []string{}
	for k, r := range want {
		if shapeTableDiff(map[string]oracle.Row{k: r}, map[string]oracle.Row{k: tr.f.Rows[k]}) != "" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range extra {
		if k != "" && !slices.Contains(keys, k) {
			keys = append([]string{k}, keys...)
		}
	}
	if len(keys) > 5 {
		keys = keys[:5]
	}
	for _, k := range keys {
		id, _ := strconv.Atoi(strings.TrimSuffix(k[strings.LastIndex(k, `/"`)+2:], `"`))
		fmt.Fprintf(&b, "  %s: table version %s, snapshot version %s\n", k, textOrNULL(want[k]["version"]), textOrNULL(tr.snapshot[k]["version"]))
		for _, tx := range w.txs() {
			if slices.Contains(tx.IDs, id) {
				fmt.Fprintf(&b, "    writer %s xid %s, WAL after commit %s\n", tx.Note, tx.Xid, tx.After)
			}
		}
		for _, c := range tr.f.Changes {
			if c.Key == k {
				fmt.Fprintf(&b, "    received %s version %s note %s at %d_%d\n", c.Operation, textOrNULL(c.Value["version"]), textOrNULL(c.Value["note"]), c.LSN, c.Op)
			}
		}
	}
	t.Log(b.String())
}

// snapshotEnd fetches the shape's first chunk again and returns its
// snapshot-end message (xmin, xmax, xip_list), if the chunk holds it.
func snapshotEnd(base, table string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	q := url.Values{"table": {table}, "offset": {"-1"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/v1/shape?"+q.Encode(), nil)
	if err != nil {
		return err.Error()
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err.Error()
	}
	var msgs []struct {
		Headers map[string]any `json:"headers"`
	}
	if err := json.Unmarshal(body, &msgs); err != nil {
		return fmt.Sprintf("status %d: %v", resp.StatusCode, err)
	}
	for _, m := range msgs {
		if m.Headers["control"] == "snapshot-end" {
			out, _ := json.Marshal(m.Headers)
			return string(out)
		}
	}
	return fmt.Sprintf("not in the first chunk (%d messages)", len(msgs))
}

// lastChanges describes the newest changes a follower applied.
func lastChanges(f *oracle.Follower, n int) string {
	var b strings.Builder
	for _, c := range f.Changes[max(0, len(f.Changes)-n):] {
		fmt.Fprintf(&b, "\n    %s %s version %s note %s at %d_%d", c.Operation, c.Key, textOrNULL(c.Value["version"]), textOrNULL(c.Value["note"]), c.LSN, c.Op)
	}
	return b.String()
}

// followErrorKey is the row key an oracle audit error names, if any.
func followErrorKey(err error) string {
	msg := err.Error()
	i := strings.Index(msg, `"public".`)
	if i < 0 {
		return ""
	}
	rest := msg[i:]
	if j := strings.Index(rest, `", `); j >= 0 {
		return rest[:j+1]
	}
	return rest
}
