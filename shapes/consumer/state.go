package consumer

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/shapesync/shapesync/replication/lsn"
)

// Visibility is the shape's snapshot visibility state, persisted in the
// shape's metadata (storage ConsumerMeta) so a consumer resumes it after a
// restart.
type Visibility struct {
	// Known is set once SnapshotKnown arrived; until then fragments are
	// buffered.
	Known    bool
	Snapshot lsn.Snapshot
	// Filtering is true until a transaction committing at or after the
	// snapshot's WAL position was seen; after that no transaction can be
	// visible in the snapshot.
	Filtering bool
}

// stateVersion 2 appends the snapshot's WAL position; version 1 (without
// it) is still read.
const stateVersion = 2

const (
	flagKnown     = 1 << 0
	flagFiltering = 1 << 1
)

// EncodeState is the stored form of v: a version byte, flags, xmin, xmax
// and the xip list (8-byte big-endian, count as a uvarint).
func EncodeState(v Visibility) []byte {
	out := make([]byte, 0, 2+16+binary.MaxVarintLen64+8*len(v.Snapshot.Xip))
	var flags byte
	if v.Known {
		flags |= flagKnown
	}
	if v.Filtering {
		flags |= flagFiltering
	}
	out = append(out, stateVersion, flags)
	out = binary.BigEndian.AppendUint64(out, v.Snapshot.Xmin)
	out = binary.BigEndian.AppendUint64(out, v.Snapshot.Xmax)
	out = binary.AppendUvarint(out, uint64(len(v.Snapshot.Xip)))
	for _, x := range v.Snapshot.Xip {
		out = binary.BigEndian.AppendUint64(out, x)
	}
	return binary.BigEndian.AppendUint64(out, uint64(v.Snapshot.WAL))
}

// errBadState marks stored consumer state that cannot be read.
var errBadState = errors.New("consumer: stored visibility state is damaged")

// DecodeState reads EncodeState's form; empty input is the state of a new
// shape (visibility unknown).
func DecodeState(b []byte) (Visibility, error) {
	if len(b) == 0 {
		return Visibility{}, nil
	}
	version := b[0]
	if version != 1 && version != stateVersion {
		return Visibility{}, fmt.Errorf("%w: version %d, this build reads %d", errBadState, b[0], stateVersion)
	}
	if len(b) < 18 {
		return Visibility{}, fmt.Errorf("%w: %d bytes", errBadState, len(b))
	}
	flags := b[1]
	if flags&^(flagKnown|flagFiltering) != 0 {
		return Visibility{}, fmt.Errorf("%w: unknown flags %#x", errBadState, flags)
	}
	v := Visibility{Known: flags&flagKnown != 0, Filtering: flags&flagFiltering != 0}
	v.Snapshot.Xmin = binary.BigEndian.Uint64(b[2:])
	v.Snapshot.Xmax = binary.BigEndian.Uint64(b[10:])
	n, k := binary.Uvarint(b[18:])
	rest := b[18:]
	var tail uint64 // the WAL position of version 2
	if version >= 2 {
		tail = 8
	}
	if k <= 0 || n > uint64(len(rest)) || uint64(len(rest)-k) != 8*n+tail {
		return Visibility{}, fmt.Errorf("%w: xip list does not match its length", errBadState)
	}
	rest = rest[k:]
	if version >= 2 {
		v.Snapshot.WAL = lsn.LSN(binary.BigEndian.Uint64(rest[8*n:]))
	}
	if n > 0 {
		v.Snapshot.Xip = make([]uint64, n)
		for i := range v.Snapshot.Xip {
			v.Snapshot.Xip[i] = binary.BigEndian.Uint64(rest[8*i:])
		}
	}
	return v, nil
}
