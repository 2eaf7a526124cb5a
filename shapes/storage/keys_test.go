package storage

import (
	"bytes"
	"cmp"
	"errors"
	"testing"

	"pgregory.net/rapid"

	"github.com/shapesync/shapesync/replication/lsn"
)

func TestKeyEncodingExactBytes(t *testing.T) {
	t.Parallel()
	be := func(v uint64) string {
		b := appendU64(nil, v)
		return string(b)
	}
	cases := []struct {
		name string
		key  Key
		want string
	}{
		{"acked", Key{Kind: KeyAcked}, "S|acked"},
		{"stack meta", Key{Kind: KeyStackMeta}, "S|meta"},
		{"relations", Key{Kind: KeyRelations}, "S|relations"},
		{"shape", Key{Kind: KeyShape, Handle: "abc-123"}, "H|abc-123"},
		{"definition", Key{Kind: KeyDefinition, Hash: "abc", Handle: "abc-1|x"}, "D|abc|abc-1|x"},
		{"snapshot row", Key{Kind: KeySnapshotRow, ShapeID: 7, Chunk: 2, Row: 9},
			"L|" + be(7) + "|" + be(0) + "|" + be(2) + "|" + be(9)},
		{"snapshot row part", Key{Kind: KeySnapshotRow, ShapeID: 7, Chunk: 2, Row: 9, Part: 1},
			"L|" + be(7) + "|" + be(0) + "|" + be(2) + "|" + be(9) + "|" + be(1)},
		{"change", Key{Kind: KeyChange, ShapeID: 7, Offset: off(23847562, 4)},
			"L|" + be(7) + "|" + be(23847562) + "|" + be(4)},
		{"change part", Key{Kind: KeyChange, ShapeID: 7, Offset: off(5, 0), Part: 3},
			"L|" + be(7) + "|" + be(5) + "|" + be(0) + "|" + be(3)},
		{"snapshot chunk", Key{Kind: KeySnapshotChunk, ShapeID: 1, Chunk: 3}, "C|" + be(1) + "|" + be(0) + "|" + be(3)},
		{"change chunk", Key{Kind: KeyChangeChunk, ShapeID: 1, Offset: off(9, 2)}, "C|" + be(1) + "|" + be(9) + "|" + be(2)},
		{"meta", Key{Kind: KeyShapeMeta, ShapeID: 258}, "M|" + be(258)},
		{"tombstone", Key{Kind: KeyTombstone, ShapeID: 258}, "X|" + be(258)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := c.key.Encode()
			if err != nil {
				t.Fatalf("Encode: %v", err)
			}
			if string(got) != c.want {
				t.Fatalf("Encode = %q, want %q", got, c.want)
			}
			back, err := DecodeKey(got)
			if err != nil {
				t.Fatalf("DecodeKey: %v", err)
			}
			if back != c.key {
				t.Fatalf("DecodeKey = %+v, want %+v", back, c.key)
			}
		})
	}
}

func TestKeyEncodeRejectsInvalidFields(t *testing.T) {
	t.Parallel()
	for name, k := range map[string]Key{
		"empty handle":         {Kind: KeyShape},
		"hash with separator":  {Kind: KeyDefinition, Hash: "a|b", Handle: "h"},
		"definition no handle": {Kind: KeyDefinition, Hash: "a"},
		"change at tx 0":       {Kind: KeyChange, ShapeID: 1, Offset: off(0, 2)},
		"change at -1":         {Kind: KeyChange, ShapeID: 1, Offset: lsn.BeforeAll},
		"change chunk at tx 0": {Kind: KeyChangeChunk, ShapeID: 1, Offset: off(0, 1)},
		"unknown kind":         {Kind: KeyKind(200)},
		"invalid kind":         {},
	} {
		if _, err := k.Encode(); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("%s: Encode error = %v, want ErrInvalidKey", name, err)
		}
	}
}

func TestDecodeKeyRejectsMalformed(t *testing.T) {
	t.Parallel()
	valid, _ := Key{Kind: KeyChange, ShapeID: 1, Offset: off(5, 0)}.Encode()
	snap, _ := Key{Kind: KeySnapshotRow, ShapeID: 1, Chunk: 0, Row: 1}.Encode()
	bad := map[string][]byte{
		"empty":               {},
		"no separator":        []byte("Lx"),
		"unknown kind":        []byte("Q|abc"),
		"unknown system":      []byte("S|other"),
		"empty handle":        []byte("H|"),
		"definition no sep":   []byte("D|abc"),
		"definition no hash":  []byte("D||h"),
		"definition no hndl":  []byte("D|abc|"),
		"meta short":          []byte("M|1234567"),
		"meta long":           []byte("M|123456789"),
		"log short":           valid[:20],
		"change at tx 0":      appendOffsetKey(nil, prefixLog, 1, 0, 0),
		"change trailing":     append(bytes.Clone(valid), 'x'),
		"change part 0":       append(append(bytes.Clone(valid), sep), appendU64(nil, 0)...),
		"bad part separator":  append(append(bytes.Clone(valid), 'x'), appendU64(nil, 1)...),
		"snapshot bad sep":    append(bytes.Clone(snap[:offsetKeyLen]), append([]byte{'x'}, appendU64(nil, 1)...)...),
		"snapshot part 0":     append(append(bytes.Clone(snap), sep), appendU64(nil, 0)...),
		"chunk long":          append(appendOffsetKey(nil, prefixChunk, 1, 0, 0), 0),
		"misplaced separator": append([]byte("L|"), make([]byte, 26)...),
	}
	for name, b := range bad {
		if k, err := DecodeKey(b); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("%s: DecodeKey(%q) = %+v, %v; want ErrInvalidKey", name, b, k, err)
		}
	}
}

// genKey draws a key of any kind with fields its kind can hold.
func genKey(t *rapid.T) Key {
	name := rapid.StringMatching(`[a-z0-9|-]{1,12}`)
	hash := rapid.StringMatching(`[a-z0-9-]{1,12}`)
	u := rapid.Uint64()
	small := rapid.Uint64Range(0, 5)
	switch kind := KeyKind(rapid.IntRange(int(KeyStackMeta), int(KeyTombstone)).Draw(t, "kind")); kind {
	case KeyStackMeta, KeyAcked, KeyRelations:
		return Key{Kind: kind}
	case KeyShape:
		return Key{Kind: kind, Handle: name.Draw(t, "handle")}
	case KeyDefinition:
		return Key{Kind: kind, Hash: hash.Draw(t, "hash"), Handle: name.Draw(t, "handle")}
	case KeySnapshotRow:
		return Key{Kind: kind, ShapeID: u.Draw(t, "id"), Chunk: u.Draw(t, "chunk"), Row: u.Draw(t, "row"), Part: small.Draw(t, "part")}
	case KeyChange:
		return Key{Kind: kind, ShapeID: u.Draw(t, "id"), Offset: off(rapid.Uint64Range(1, ^uint64(0)).Draw(t, "tx"), u.Draw(t, "op")), Part: small.Draw(t, "part")}
	case KeySnapshotChunk:
		return Key{Kind: kind, ShapeID: u.Draw(t, "id"), Chunk: u.Draw(t, "chunk")}
	case KeyChangeChunk:
		return Key{Kind: kind, ShapeID: u.Draw(t, "id"), Offset: off(rapid.Uint64Range(1, ^uint64(0)).Draw(t, "tx"), u.Draw(t, "op"))}
	default:
		return Key{Kind: kind, ShapeID: u.Draw(t, "id")}
	}
}

func TestKeyRoundTripProperty(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(t *rapid.T) {
		k := genKey(t)
		b, err := k.Encode()
		if err != nil {
			t.Fatalf("Encode(%+v): %v", k, err)
		}
		back, err := DecodeKey(b)
		if err != nil {
			t.Fatalf("DecodeKey(Encode(%+v)): %v", k, err)
		}
		if back != k {
			t.Fatalf("round trip: %+v → %+v", k, back)
		}
	})
}

// logPos is the position a log key stands for: shape, then offset (a
// snapshot row sits at 0_<chunk>), then row, then continuation part.
func cmpLogKeys(a, b Key) int {
	if c := cmp.Compare(a.ShapeID, b.ShapeID); c != 0 {
		return c
	}
	oa, ob := a.Offset, b.Offset
	if a.Kind == KeySnapshotRow {
		oa = off(0, a.Chunk)
	}
	if b.Kind == KeySnapshotRow {
		ob = off(0, b.Chunk)
	}
	if c := oa.Compare(ob); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Row, b.Row); c != 0 {
		return c
	}
	return cmp.Compare(a.Part, b.Part)
}

func genLogKey(t *rapid.T, label string) Key {
	id := rapid.Uint64Range(1, 3).Draw(t, label+"id")
	num := rapid.SampledFrom([]uint64{0, 1, 2, 255, 256, 1 << 32, ^uint64(0) - 1})
	part := rapid.Uint64Range(0, 2).Draw(t, label+"part")
	if rapid.Bool().Draw(t, label+"snapshot") {
		return Key{Kind: KeySnapshotRow, ShapeID: id, Chunk: num.Draw(t, label+"chunk"), Row: num.Draw(t, label+"row"), Part: part}
	}
	tx := num.Draw(t, label+"tx")
	if tx == 0 {
		tx = 1
	}
	return Key{Kind: KeyChange, ShapeID: id, Offset: off(tx, num.Draw(t, label+"op")), Part: part}
}

func TestLogKeyOrderIsOffsetOrder(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(t *rapid.T) {
		a, b := genLogKey(t, "a."), genLogKey(t, "b.")
		ea, _ := a.Encode()
		eb, _ := b.Encode()
		if got, want := bytes.Compare(ea, eb), cmpLogKeys(a, b); got != want {
			t.Fatalf("bytes.Compare(%s, %s) = %d, offset order says %d", a, b, got, want)
		}
	})
}

func TestChunkKeyOrderIsOffsetOrder(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(t *rapid.T) {
		gen := func(label string) (Key, lsn.LogOffset) {
			id := rapid.Uint64Range(1, 2).Draw(t, label+"id")
			if rapid.Bool().Draw(t, label+"snapshot") {
				n := rapid.Uint64Range(0, 1000).Draw(t, label+"n")
				return Key{Kind: KeySnapshotChunk, ShapeID: id, Chunk: n}, off(0, n)
			}
			o := off(rapid.Uint64Range(1, 1<<40).Draw(t, label+"tx"), rapid.Uint64Range(0, 1<<20).Draw(t, label+"op"))
			return Key{Kind: KeyChangeChunk, ShapeID: id, Offset: o}, o
		}
		a, oa := gen("a.")
		b, ob := gen("b.")
		want := cmp.Compare(a.ShapeID, b.ShapeID)
		if want == 0 {
			want = oa.Compare(ob)
		}
		ea, _ := a.Encode()
		eb, _ := b.Encode()
		if got := bytes.Compare(ea, eb); got != want {
			t.Fatalf("bytes.Compare(%s, %s) = %d, want %d", a, b, got, want)
		}
	})
}

func FuzzDecodeKey(f *testing.F) {
	for _, k := range []Key{
		{Kind: KeyAcked}, {Kind: KeyShape, Handle: "h-1"}, {Kind: KeyDefinition, Hash: "x", Handle: "x-1"},
		{Kind: KeySnapshotRow, ShapeID: 1, Chunk: 2, Row: 3}, {Kind: KeySnapshotRow, ShapeID: 1, Row: 3, Part: 2},
		{Kind: KeyChange, ShapeID: 1, Offset: off(10, 2)}, {Kind: KeyChange, ShapeID: 1, Offset: off(10, 2), Part: 1},
		{Kind: KeySnapshotChunk, ShapeID: 4, Chunk: 1}, {Kind: KeyChangeChunk, ShapeID: 4, Offset: off(9, 9)},
		{Kind: KeyShapeMeta, ShapeID: 5}, {Kind: KeyTombstone, ShapeID: 5},
	} {
		b, err := k.Encode()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("L|"))
	f.Add([]byte("D||"))
	f.Fuzz(func(t *testing.T, b []byte) {
		k, err := DecodeKey(b)
		if err != nil {
			if !errors.Is(err, ErrInvalidKey) {
				t.Fatalf("DecodeKey error %v is not ErrInvalidKey", err)
			}
			return
		}
		back, err := k.Encode()
		if err != nil {
			t.Fatalf("Encode(DecodeKey(%q) = %+v): %v", b, k, err)
		}
		if !bytes.Equal(back, b) {
			t.Fatalf("DecodeKey(%q) = %+v re-encodes to %q", b, k, back)
		}
	})
}
