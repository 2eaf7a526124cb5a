package lsn

import (
	"errors"
	"math"
	"strconv"
	"strings"
)

// OpInf is the op part of an offset written "inf": greater than every op.
const OpInf = math.MaxUint64

// LogOffset is a position in a shape log (SHAPE_API §7). Tx is the commit LSN
// of a transaction (0 for the snapshot region, where Op numbers the chunk);
// Op is the position inside the transaction (changes at 0, 2, 4, …; the odd
// slot after a change is the insert half of a key change). Before marks the
// offset "-1", before every entry.
type LogOffset struct {
	Tx     uint64
	Op     uint64
	Before bool
}

// Well-known offsets.
var (
	// BeforeAll is the offset "-1".
	BeforeAll = LogOffset{Before: true}
	// SnapshotEnd is "0_inf": the end of the snapshot region, the start of the change log.
	SnapshotEnd = LogOffset{Tx: 0, Op: OpInf}
)

// ErrInvalidOffset is returned for text that is not an offset; its message is
// the protocol's error text.
var ErrInvalidOffset = errors.New("has invalid format")

// ParseOffset reads "-1", "<tx>_<op>" or "<tx>_inf". It accepts leading zeros
// and "-1_<n>" (as "-1") like the reference server, and rejects negative
// parts, extra "_" segments, whitespace and fractions. "now" is not an offset
// and is handled by the caller.
func ParseOffset(s string) (LogOffset, error) {
	if s == "-1" {
		return BeforeAll, nil
	}
	tx, op, ok := strings.Cut(s, "_")
	if !ok || strings.Contains(op, "_") {
		return LogOffset{}, ErrInvalidOffset
	}
	if tx == "-1" {
		if !isDigits(op) && op != "inf" {
			return LogOffset{}, ErrInvalidOffset
		}
		return BeforeAll, nil
	}
	if !isDigits(tx) {
		return LogOffset{}, ErrInvalidOffset
	}
	t, err := strconv.ParseUint(tx, 10, 64)
	if err != nil {
		return LogOffset{}, ErrInvalidOffset
	}
	if op == "inf" {
		return LogOffset{Tx: t, Op: OpInf}, nil
	}
	if !isDigits(op) {
		return LogOffset{}, ErrInvalidOffset
	}
	o, err := strconv.ParseUint(op, 10, 64)
	if err != nil || o == OpInf {
		return LogOffset{}, ErrInvalidOffset
	}
	return LogOffset{Tx: t, Op: o}, nil
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// String renders the canonical form: "-1", "<tx>_<op>" or "<tx>_inf".
func (o LogOffset) String() string {
	if o.Before {
		return "-1"
	}
	b := make([]byte, 0, 24)
	b = strconv.AppendUint(b, o.Tx, 10)
	b = append(b, '_')
	if o.Op == OpInf {
		return string(append(b, "inf"...))
	}
	return string(strconv.AppendUint(b, o.Op, 10))
}

// Compare orders offsets: -1 first, then by Tx, then by Op (inf last).
// It returns -1, 0 or +1.
func (o LogOffset) Compare(p LogOffset) int {
	switch {
	case o.Before && p.Before:
		return 0
	case o.Before:
		return -1
	case p.Before:
		return 1
	case o.Tx != p.Tx:
		if o.Tx < p.Tx {
			return -1
		}
		return 1
	case o.Op != p.Op:
		if o.Op < p.Op {
			return -1
		}
		return 1
	}
	return 0
}

// Less reports o < p.
func (o LogOffset) Less(p LogOffset) bool { return o.Compare(p) < 0 }

// IsSnapshot reports whether o lies in the snapshot region (0_n, 0_inf).
func (o LogOffset) IsSnapshot() bool { return !o.Before && o.Tx == 0 }

// Max returns the larger of two offsets.
func Max(a, b LogOffset) LogOffset {
	if a.Less(b) {
		return b
	}
	return a
}
