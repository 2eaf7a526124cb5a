package logitems

import (
	"strconv"

	"github.com/shapesync/shapesync/replication/lsn"
)

// The control messages of SHAPE_API §12.4. Every number is a decimal string:
// the client parses them with BigInt.

// AppendUpToDate appends {"headers":{"control":"up-to-date","global_last_seen_lsn":"<decimal>"}}.
func AppendUpToDate(dst []byte, globalLastSeen lsn.LSN) []byte {
	dst = append(dst, `{"headers":{"control":"up-to-date","global_last_seen_lsn":"`...)
	dst = strconv.AppendUint(dst, uint64(globalLastSeen), 10)
	return append(dst, `"}}`...)
}

// AppendSnapshotEnd appends the message that ends every initial snapshot,
// with the snapshot's 64-bit xmin, xmax and in-progress list.
func AppendSnapshotEnd(dst []byte, s lsn.Snapshot) []byte {
	dst = append(dst, `{"headers":{"control":"snapshot-end","xmin":"`...)
	dst = strconv.AppendUint(dst, s.Xmin, 10)
	dst = append(dst, `","xmax":"`...)
	dst = strconv.AppendUint(dst, s.Xmax, 10)
	dst = append(dst, `","xip_list":[`...)
	for i, x := range s.Xip {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, '"')
		dst = strconv.AppendUint(dst, x, 10)
		dst = append(dst, '"')
	}
	return append(dst, `]}}`...)
}

// AppendMustRefetch appends {"headers":{"control":"must-refetch"}}, the only
// element of every 409 body.
func AppendMustRefetch(dst []byte) []byte {
	return append(dst, `{"headers":{"control":"must-refetch"}}`...)
}
