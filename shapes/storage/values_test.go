package storage

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/shapesync/shapesync/replication/lsn"
)

func genOffsetAtLeast(t *rapid.T, label string, min lsn.LogOffset) lsn.LogOffset {
	if rapid.Bool().Draw(t, label+"inf") {
		return min
	}
	return off(rapid.Uint64Range(1, 1<<50).Draw(t, label+"tx"), rapid.Uint64Range(0, 1<<20).Draw(t, label+"op"))
}

func TestShapeMetaRoundTripProperty(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(t *rapid.T) {
		u := rapid.Uint64Range(0, 1<<40)
		first := u.Draw(t, "firstRow")
		m := shapeMeta{
			Snap: snapCursor{Done: rapid.Bool().Draw(t, "done"), Chunk: u.Draw(t, "chunk"),
				ChunkFirstRow: first, NextRow: first + u.Draw(t, "rows"), ChunkBytes: u.Draw(t, "bytes")},
			ClosedChanges: u.Draw(t, "closed"),
		}
		m.Open = openChunk{Start: genOffsetAtLeast(t, "start.", lsn.SnapshotEnd), Bytes: u.Draw(t, "ob"), Items: u.Draw(t, "oi")}
		m.Committed = lsn.Max(m.Open.Start, genOffsetAtLeast(t, "committed.", lsn.SnapshotEnd))
		if c := rapid.SliceOfN(rapid.Byte(), 0, 40).Draw(t, "consumer"); len(c) > 0 {
			m.Consumer = c
		}
		back, err := decodeShapeMeta(encodeShapeMeta(m))
		if err != nil {
			t.Fatalf("decode(encode(%+v)): %v", m, err)
		}
		if !reflect.DeepEqual(back, m) {
			t.Fatalf("round trip: %+v → %+v", m, back)
		}
	})
}

func TestValueDecodersRejectTruncation(t *testing.T) {
	t.Parallel()
	m := newShapeMeta()
	m.Consumer = []byte("xmin=1")
	rec := encodeShapeRecord(ShapeRecord{Handle: "h", ID: 3, DefinitionHash: "abc", Definition: []byte(`{"t":1}`)})
	tomb := encodeTombstone(Tombstone{ShapeID: 1, Reason: "evicted", At: time.Unix(5, 0), Handle: "h", Hash: "x"})
	full := map[string][]byte{
		"meta":           encodeShapeMeta(m),
		"snapshot chunk": encodeSnapshotChunk(SnapshotChunk{FirstRow: 1, Rows: 2, Bytes: 3}),
		"change chunk":   encodeChangeChunk(ChangeChunk{Start: lsn.SnapshotEnd, End: off(3, 0), Bytes: 4, Items: 1}),
		"record":         rec,
		"tombstone":      tomb,
	}
	decode := map[string]func([]byte) error{
		"meta":           func(b []byte) error { _, err := decodeShapeMeta(b); return err },
		"snapshot chunk": func(b []byte) error { _, err := decodeSnapshotChunk(0, b); return err },
		"change chunk":   func(b []byte) error { _, err := decodeChangeChunk(off(3, 0), b); return err },
		"record":         func(b []byte) error { _, err := decodeShapeRecord("h", b); return err },
		"tombstone":      func(b []byte) error { _, err := decodeTombstone(idKey(prefixTombstone, 1), b); return err },
	}
	for name, b := range full {
		if err := decode[name](b); err != nil {
			t.Fatalf("%s: decoding the full value: %v", name, err)
		}
		for n := 0; n < len(b); n++ {
			if err := decode[name](b[:n]); !errors.Is(err, ErrCorrupt) {
				t.Errorf("%s truncated to %d bytes: error %v, want ErrCorrupt", name, n, err)
			}
		}
		if err := decode[name](append(bytes.Clone(b), 0)); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s with a trailing byte: error %v, want ErrCorrupt", name, err)
		}
		wrongVersion := bytes.Clone(b)
		wrongVersion[0] = valueVersion + 1
		if err := decode[name](wrongVersion); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s with version %d: error %v, want ErrCorrupt", name, valueVersion+1, err)
		}
	}
}

func TestSplitDescriptor(t *testing.T) {
	t.Parallel()
	total, parts, err := decodeSplitDescriptor(encodeSplitDescriptor(40<<20, 3))
	if err != nil || total != 40<<20 || parts != 3 {
		t.Fatalf("round trip = %d, %d, %v", total, parts, err)
	}
	for _, b := range [][]byte{nil, {0}, {'{', 1, 1, 2}, {0, 1, 1, 1}, append(encodeSplitDescriptor(5, 2), 9)} {
		if _, _, err := decodeSplitDescriptor(b); !errors.Is(err, ErrCorrupt) {
			t.Errorf("decodeSplitDescriptor(%v) error = %v, want ErrCorrupt", b, err)
		}
	}
}

func FuzzDecodeShapeMeta(f *testing.F) {
	m := newShapeMeta()
	f.Add(encodeShapeMeta(m))
	m.Snap = snapCursor{Done: true, Chunk: 2, NextRow: 9, ChunkFirstRow: 9}
	m.Committed, m.Consumer = off(100, 4), []byte("c")
	f.Add(encodeShapeMeta(m))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decodeShapeMeta(b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v is not ErrCorrupt", err)
			}
			return
		}
		if !bytes.Equal(encodeShapeMeta(m), b) {
			t.Fatalf("decode(%x) = %+v does not re-encode to the input", b, m)
		}
	})
}
