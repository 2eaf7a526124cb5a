package snapshot

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/shapesync/shapesync/replication/lsn"
)

// ParsePgSnapshot reads the text form of pg_snapshot, as
// pg_current_snapshot()::text renders it: "xmin:xmax:xip1,xip2,…" with an
// empty list after the last colon when nothing is in progress. pgx has no
// codec for the type, so the snapshot travels as text (GO_STACK §1.3).
//
// Only the canonical form Postgres produces is accepted: plain decimal
// numbers without signs, spaces or leading zeros, xmin ≤ xmax, and an
// in-progress list that is strictly ascending and inside [xmin, xmax).
// Anything else is an error, so FormatPgSnapshot gives back the input.
func ParsePgSnapshot(s string) (lsn.Snapshot, error) {
	parts := strings.Split(s, ":")
	if len(parts) != 3 {
		return lsn.Snapshot{}, fmt.Errorf("parse snapshot %q: want xmin:xmax:xip_list", s)
	}
	xmin, err := parseXid(parts[0])
	if err != nil {
		return lsn.Snapshot{}, fmt.Errorf("parse snapshot %q: xmin: %w", s, err)
	}
	xmax, err := parseXid(parts[1])
	if err != nil {
		return lsn.Snapshot{}, fmt.Errorf("parse snapshot %q: xmax: %w", s, err)
	}
	if xmin > xmax {
		return lsn.Snapshot{}, fmt.Errorf("parse snapshot %q: xmin %d is above xmax %d", s, xmin, xmax)
	}
	snap := lsn.Snapshot{Xmin: xmin, Xmax: xmax}
	if parts[2] == "" {
		return snap, nil
	}
	list := strings.Split(parts[2], ",")
	snap.Xip = make([]uint64, 0, len(list))
	for i, p := range list {
		x, err := parseXid(p)
		if err != nil {
			return lsn.Snapshot{}, fmt.Errorf("parse snapshot %q: in-progress xid %d: %w", s, i+1, err)
		}
		if x < xmin || x >= xmax {
			return lsn.Snapshot{}, fmt.Errorf("parse snapshot %q: in-progress xid %d is outside [xmin, xmax)", s, x)
		}
		if i > 0 && x <= snap.Xip[i-1] {
			return lsn.Snapshot{}, fmt.Errorf("parse snapshot %q: in-progress xids are not strictly ascending", s)
		}
		snap.Xip = append(snap.Xip, x)
	}
	return snap, nil
}

// parseXid reads one canonical decimal xid8.
func parseXid(s string) (uint64, error) {
	if s == "" {
		return 0, fmt.Errorf("empty")
	}
	if len(s) > 1 && s[0] == '0' {
		return 0, fmt.Errorf("%q has a leading zero", s)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("%q is not a decimal number", s)
		}
	}
	return strconv.ParseUint(s, 10, 64)
}

// FormatPgSnapshot renders s in pg_snapshot's text form.
func FormatPgSnapshot(s lsn.Snapshot) string {
	b := make([]byte, 0, 24+len(s.Xip)*8)
	b = strconv.AppendUint(b, s.Xmin, 10)
	b = append(b, ':')
	b = strconv.AppendUint(b, s.Xmax, 10)
	b = append(b, ':')
	for i, x := range s.Xip {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendUint(b, x, 10)
	}
	return string(b)
}
