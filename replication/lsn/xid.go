package lsn

// Snapshot is a Postgres snapshot as reported by pg_current_snapshot(): the
// 64-bit (epoch-extended) xmin and xmax and the in-progress list.
type Snapshot struct {
	Xmin uint64
	Xmax uint64
	Xip  []uint64
	// WAL is pg_current_wal_insert_lsn() read with the snapshot (0 when
	// unknown). Every transaction visible in the snapshot has its commit
	// record below it, so a transaction committing at or after it is not
	// visible — and neither is any later one. Unlike "xid ≥ xmax", this
	// holds in stream (commit record) order, which can differ from the
	// order in which commits become visible.
	WAL LSN
}

// compare32 orders two 32-bit xids the way Postgres does (modulo 2^32, so a
// difference of less than 2^31 decides).
func compare32(a, b uint32) int {
	d := int32(a - b)
	switch {
	case d < 0:
		return -1
	case d > 0:
		return 1
	}
	return 0
}

// Visible reports whether a transaction with the 32-bit stream xid committed
// before the snapshot was taken (SHAPE_API §22.4): xid < xmin, or xid < xmax
// and not in xip. The comparison is modulo 2^32 against the low halves of the
// 64-bit bounds, which is exact while the snapshot is younger than 2^31
// transactions.
func (s Snapshot) Visible(xid uint32) bool {
	if compare32(xid, uint32(s.Xmin)) < 0 {
		return true
	}
	if compare32(xid, uint32(s.Xmax)) >= 0 {
		return false
	}
	for _, x := range s.Xip {
		if uint32(x) == xid {
			return false
		}
	}
	return true
}

// AtOrAfterXmax reports whether xid ≥ xmax: once such a transaction is seen in
// commit order, no later transaction can be visible in the snapshot, so
// visibility filtering ends for good.
func (s Snapshot) AtOrAfterXmax(xid uint32) bool {
	return compare32(xid, uint32(s.Xmax)) >= 0
}
