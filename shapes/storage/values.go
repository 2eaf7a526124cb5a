package storage

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/shapesync/shapesync/replication/lsn"
)

// ErrCorrupt is returned when a stored value cannot be decoded or the stored
// keys of a shape contradict its metadata. The remedy is to drop the shape
// (it answers 409 and is re-created from Postgres).
var ErrCorrupt = errors.New("storage: corrupt value")

// valueVersion leads every structured value, so a later format can be told
// apart (and rejected) instead of misread.
const valueVersion = 1

// SnapshotChunk describes a closed snapshot chunk n: the client offset 0_n is
// its end. Rows are numbered across the whole snapshot.
type SnapshotChunk struct {
	N        uint64
	FirstRow uint64
	Rows     uint64
	Bytes    uint64 // sum of len(row)+1 over the rows counted by §8 (snapshot-end excluded)
}

// ChangeChunk describes a closed change chunk: it holds the entries in
// (Start, End]. The first change chunk starts at 0_inf.
type ChangeChunk struct {
	Start lsn.LogOffset
	End   lsn.LogOffset
	Bytes uint64 // sum of len(item)+1
	Items uint64
}

// openChunk is the change chunk still being filled.
type openChunk struct {
	Start lsn.LogOffset
	Bytes uint64
	Items uint64
}

// snapCursor is the position of the snapshot writer. Chunk is the number of
// the chunk being filled, which is also the number of closed chunks.
type snapCursor struct {
	Done          bool
	Chunk         uint64
	NextRow       uint64
	ChunkFirstRow uint64
	ChunkBytes    uint64
}

// shapeMeta is the M|<id> value: everything needed to resume writing a shape
// and to rebuild its view without reading its log. The change part is the
// state as of the shape's last commit; appends after it are not described
// (they are rewritten by replay, see Writer).
type shapeMeta struct {
	Snap          snapCursor
	Committed     lsn.LogOffset // last committed change; 0_inf when there is none
	Open          openChunk     // the open change chunk as of Committed
	ClosedChanges uint64        // number of closed change chunks, all with End ≤ Committed
	Consumer      []byte        // opaque consumer state (pg snapshot, filtering), never mutated in place
}

func newShapeMeta() shapeMeta {
	return shapeMeta{Committed: lsn.SnapshotEnd, Open: openChunk{Start: lsn.SnapshotEnd}}
}

func appendOffset(dst []byte, o lsn.LogOffset) []byte {
	return appendU64(appendU64(dst, o.Tx), o.Op)
}

// decoder reads fixed-width fields and remembers the first failure, so the
// decoding functions stay linear and never index past the end.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(why string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s", ErrCorrupt, why)
	}
}

func (d *decoder) u64() uint64 {
	if len(d.b) < 8 {
		d.fail("value truncated")
		return 0
	}
	v := binary.BigEndian.Uint64(d.b)
	d.b = d.b[8:]
	return v
}

func (d *decoder) byte1() byte {
	if len(d.b) < 1 {
		d.fail("value truncated")
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

func (d *decoder) offset() lsn.LogOffset { return lsn.LogOffset{Tx: d.u64(), Op: d.u64()} }

// uvarint reads a minimally encoded uvarint (binary.Uvarint also accepts
// padded forms, which would give one value two encodings).
func uvarint(b []byte) (uint64, int) {
	n, w := binary.Uvarint(b)
	if w <= 0 || w != len(binary.AppendUvarint(nil, n)) {
		return 0, -1
	}
	return n, w
}

func (d *decoder) bytesField() []byte {
	n, w := uvarint(d.b)
	if w <= 0 || n > uint64(len(d.b)-w) {
		d.fail("bad length prefix")
		return nil
	}
	v := d.b[w : w+int(n)]
	d.b = d.b[w+int(n):]
	return v
}

func (d *decoder) version() {
	if v := d.byte1(); d.err == nil && v != valueVersion {
		d.fail(fmt.Sprintf("value version %d, this build reads %d", v, valueVersion))
	}
}

func (d *decoder) end() error {
	if d.err == nil && len(d.b) != 0 {
		d.fail("trailing bytes")
	}
	return d.err
}

func appendBytesField(dst, v []byte) []byte {
	return append(binary.AppendUvarint(dst, uint64(len(v))), v...)
}

func encodeShapeMeta(m shapeMeta) []byte {
	b := make([]byte, 0, 2+8*12+len(m.Consumer)+4)
	b = append(b, valueVersion)
	var flags byte
	if m.Snap.Done {
		flags |= 1
	}
	b = append(b, flags)
	b = appendU64(b, m.Snap.Chunk)
	b = appendU64(b, m.Snap.NextRow)
	b = appendU64(b, m.Snap.ChunkFirstRow)
	b = appendU64(b, m.Snap.ChunkBytes)
	b = appendOffset(b, m.Committed)
	b = appendOffset(b, m.Open.Start)
	b = appendU64(b, m.Open.Bytes)
	b = appendU64(b, m.Open.Items)
	b = appendU64(b, m.ClosedChanges)
	return appendBytesField(b, m.Consumer)
}

func decodeShapeMeta(v []byte) (shapeMeta, error) {
	d := decoder{b: v}
	d.version()
	flags := d.byte1()
	var m shapeMeta
	m.Snap.Done = flags&1 != 0
	m.Snap.Chunk = d.u64()
	m.Snap.NextRow = d.u64()
	m.Snap.ChunkFirstRow = d.u64()
	m.Snap.ChunkBytes = d.u64()
	m.Committed = d.offset()
	m.Open.Start = d.offset()
	m.Open.Bytes = d.u64()
	m.Open.Items = d.u64()
	m.ClosedChanges = d.u64()
	if c := d.bytesField(); len(c) > 0 {
		m.Consumer = append([]byte(nil), c...)
	}
	if err := d.end(); err != nil {
		return shapeMeta{}, err
	}
	if flags&^1 != 0 {
		return shapeMeta{}, fmt.Errorf("%w: unknown shape meta flags %#x", ErrCorrupt, flags)
	}
	if m.Snap.ChunkFirstRow > m.Snap.NextRow || m.Committed.Less(lsn.SnapshotEnd) ||
		m.Open.Start.Less(lsn.SnapshotEnd) || m.Committed.Less(m.Open.Start) {
		return shapeMeta{}, fmt.Errorf("%w: inconsistent shape meta", ErrCorrupt)
	}
	return m, nil
}

// C|<id>|0|<n> value: first row, rows, bytes.
func encodeSnapshotChunk(c SnapshotChunk) []byte {
	b := append(make([]byte, 0, 25), valueVersion)
	return appendU64(appendU64(appendU64(b, c.FirstRow), c.Rows), c.Bytes)
}

func decodeSnapshotChunk(n uint64, v []byte) (SnapshotChunk, error) {
	d := decoder{b: v}
	d.version()
	c := SnapshotChunk{N: n, FirstRow: d.u64(), Rows: d.u64(), Bytes: d.u64()}
	return c, d.end()
}

// C|<id>|<endTx>|<endOp> value: start offset, bytes, items.
func encodeChangeChunk(c ChangeChunk) []byte {
	b := append(make([]byte, 0, 33), valueVersion)
	return appendU64(appendU64(appendOffset(b, c.Start), c.Bytes), c.Items)
}

func decodeChangeChunk(end lsn.LogOffset, v []byte) (ChangeChunk, error) {
	d := decoder{b: v}
	d.version()
	c := ChangeChunk{Start: d.offset(), End: end, Bytes: d.u64(), Items: d.u64()}
	if err := d.end(); err != nil {
		return ChangeChunk{}, err
	}
	if !c.Start.Less(c.End) {
		return ChangeChunk{}, fmt.Errorf("%w: change chunk (%s, %s] is empty", ErrCorrupt, c.Start, c.End)
	}
	return c, nil
}

func encodeLSN(l lsn.LSN) []byte { return appendU64(nil, uint64(l)) }

func decodeLSN(v []byte) (lsn.LSN, error) {
	if len(v) != 8 {
		return 0, fmt.Errorf("%w: an LSN takes 8 bytes, got %d", ErrCorrupt, len(v))
	}
	return lsn.LSN(binary.BigEndian.Uint64(v)), nil
}

// splitDescriptorTag marks the stored value of an item that was split into
// continuation keys. A JSON message never starts with a NUL byte, so an
// unsplit item is stored as its own bytes, ready to send.
const splitDescriptorTag = 0x00

func encodeSplitDescriptor(total, parts uint64) []byte {
	b := []byte{splitDescriptorTag, valueVersion}
	return binary.AppendUvarint(binary.AppendUvarint(b, total), parts)
}

func decodeSplitDescriptor(v []byte) (total, parts uint64, err error) {
	if len(v) < 2 || v[0] != splitDescriptorTag || v[1] != valueVersion {
		return 0, 0, fmt.Errorf("%w: bad split descriptor", ErrCorrupt)
	}
	v = v[2:]
	total, w := uvarint(v)
	if w <= 0 {
		return 0, 0, fmt.Errorf("%w: bad split descriptor total", ErrCorrupt)
	}
	parts, w2 := uvarint(v[w:])
	if w2 <= 0 || w+w2 != len(v) || parts < 2 {
		return 0, 0, fmt.Errorf("%w: bad split descriptor parts", ErrCorrupt)
	}
	return total, parts, nil
}
