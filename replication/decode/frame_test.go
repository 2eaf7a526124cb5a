package decode

import (
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pglogrepl"

	"github.com/shapesync/shapesync/replication/lsn"
)

// The frame builders below write pgoutput v1 messages byte by byte after the
// protocol documentation ("Logical Replication Message Formats"), independent
// of pglogrepl, so the tests check Decode against the wire format itself.

type wireCol struct {
	kind byte // 'n', 'u', 't' or 'b'
	data string
}

func wt(s string) wireCol { return wireCol{kind: 't', data: s} }
func wn() wireCol         { return wireCol{kind: 'n'} }
func wu() wireCol         { return wireCol{kind: 'u'} }
func wb(s string) wireCol { return wireCol{kind: 'b', data: s} }

type wireRelCol struct {
	key  bool
	name string
	oid  uint32
}

func u16(b []byte, v uint16) []byte { return binary.BigEndian.AppendUint16(b, v) }
func u32(b []byte, v uint32) []byte { return binary.BigEndian.AppendUint32(b, v) }
func u64(b []byte, v uint64) []byte { return binary.BigEndian.AppendUint64(b, v) }
func cstr(b []byte, s string) []byte {
	return append(append(b, s...), 0)
}

func tupleBytes(b []byte, cols []wireCol) []byte {
	b = u16(b, uint16(len(cols)))
	for _, c := range cols {
		b = append(b, c.kind)
		if c.kind == 't' || c.kind == 'b' {
			b = u32(b, uint32(len(c.data)))
			b = append(b, c.data...)
		}
	}
	return b
}

func beginFrame(finalLSN uint64, xid uint32) []byte {
	b := u64([]byte{'B'}, finalLSN)
	b = u64(b, 1_000_000) // commit time, µs since 2000-01-01
	return u32(b, xid)
}

func commitFrame(commitLSN, endLSN uint64) []byte {
	b := u64([]byte{'C', 0}, commitLSN)
	b = u64(b, endLSN)
	return u64(b, 1_000_000)
}

func relationFrame(id uint32, ns, name string, ident byte, cols ...wireRelCol) []byte {
	b := u32([]byte{'R'}, id)
	b = cstr(b, ns)
	b = cstr(b, name)
	b = append(b, ident)
	b = u16(b, uint16(len(cols)))
	for _, c := range cols {
		var flags byte
		if c.key {
			flags = 1
		}
		b = append(b, flags)
		b = cstr(b, c.name)
		b = u32(b, c.oid)
		b = u32(b, 0xFFFFFFFF) // typmod -1
	}
	return b
}

func insertFrame(rel uint32, row ...wireCol) []byte {
	return tupleBytes(append(u32([]byte{'I'}, rel), 'N'), row)
}

// updateFrame writes an update; oldKind 0 omits the old row.
func updateFrame(rel uint32, oldKind byte, old, row []wireCol) []byte {
	b := u32([]byte{'U'}, rel)
	if oldKind != 0 {
		b = tupleBytes(append(b, oldKind), old)
	}
	return tupleBytes(append(b, 'N'), row)
}

func deleteFrame(rel uint32, oldKind byte, old ...wireCol) []byte {
	return tupleBytes(append(u32([]byte{'D'}, rel), oldKind), old)
}

func truncateFrame(options byte, rels ...uint32) []byte {
	b := append(u32([]byte{'T'}, uint32(len(rels))), options)
	for _, r := range rels {
		b = u32(b, r)
	}
	return b
}

func typeFrame(oid uint32, ns, name string) []byte {
	return cstr(cstr(u32([]byte{'Y'}, oid), ns), name)
}

func originFrame(l uint64, name string) []byte { return cstr(u64([]byte{'O'}, l), name) }

func messageFrame(transactional bool, l uint64, prefix, content string) []byte {
	flag := byte(0)
	if transactional {
		flag = 1
	}
	b := cstr(u64([]byte{'M', flag}, l), prefix)
	return append(u32(b, uint32(len(content))), content...)
}

var itemsCols = []wireRelCol{{key: true, name: "id", oid: 23}, {name: "title", oid: 25}}

// seedFrames is one of each message shapesync may receive.
func seedFrames() map[string][]byte {
	return map[string][]byte{
		"begin":           beginFrame(0x16B3748, 731),
		"relation":        relationFrame(16384, "public", "items", 'f', itemsCols...),
		"type":            typeFrame(90001, "public", "mood"),
		"origin":          originFrame(0x16B3000, "node_a"),
		"insert":          insertFrame(16384, wt("1"), wt("hello")),
		"insert-null":     insertFrame(16384, wt("2"), wn()),
		"insert-binary":   insertFrame(16384, wt("3"), wb("\x00\x01")),
		"update-full":     updateFrame(16384, 'O', []wireCol{wt("1"), wt("hello")}, []wireCol{wt("1"), wu()}),
		"update-new-only": updateFrame(16384, 0, nil, []wireCol{wt("1"), wt("bye")}),
		"update-key":      updateFrame(16384, 'K', []wireCol{wt("1"), wn()}, []wireCol{wt("9"), wt("bye")}),
		"delete-full":     deleteFrame(16384, 'O', wt("1"), wt("bye")),
		"delete-key":      deleteFrame(16384, 'K', wt("1"), wn()),
		"truncate":        truncateFrame(pglogrepl.TruncateOptionCascade, 16384, 16390),
		"message":         messageFrame(false, 0x16B3800, "shapesync", "hello"),
		"commit":          commitFrame(0x16B3748, 0x16B3778),
	}
}

func TestDecodeWellFormed(t *testing.T) {
	t.Parallel()
	frames := seedFrames()
	check := func(name string, ok func(pglogrepl.Message) bool) {
		t.Helper()
		msg, err := Decode(frames[name])
		if err != nil {
			t.Fatalf("%s: Decode: %v", name, err)
		}
		if !ok(msg) {
			t.Fatalf("%s: decoded to %#v", name, msg)
		}
	}
	check("begin", func(m pglogrepl.Message) bool {
		b, ok := m.(*pglogrepl.BeginMessage)
		return ok && b.FinalLSN == 0x16B3748 && b.Xid == 731
	})
	check("commit", func(m pglogrepl.Message) bool {
		c, ok := m.(*pglogrepl.CommitMessage)
		return ok && c.CommitLSN == 0x16B3748 && c.TransactionEndLSN == 0x16B3778
	})
	check("relation", func(m pglogrepl.Message) bool {
		r, ok := m.(*pglogrepl.RelationMessage)
		return ok && r.RelationID == 16384 && r.Namespace == "public" && r.RelationName == "items" &&
			r.ReplicaIdentity == 'f' && len(r.Columns) == 2 && r.Columns[0].Flags == 1 && r.Columns[1].Name == "title" &&
			r.Columns[1].DataType == 25 && r.Columns[1].TypeModifier == -1
	})
	check("update-full", func(m pglogrepl.Message) bool {
		u, ok := m.(*pglogrepl.UpdateMessage)
		return ok && u.OldTupleType == 'O' && string(u.OldTuple.Columns[1].Data) == "hello" &&
			u.NewTuple.Columns[1].DataType == 'u'
	})
	check("update-new-only", func(m pglogrepl.Message) bool {
		u, ok := m.(*pglogrepl.UpdateMessage)
		return ok && u.OldTuple == nil && string(u.NewTuple.Columns[1].Data) == "bye"
	})
	check("insert-binary", func(m pglogrepl.Message) bool {
		i, ok := m.(*pglogrepl.InsertMessage)
		return ok && i.Tuple.Columns[1].DataType == 'b' && string(i.Tuple.Columns[1].Data) == "\x00\x01"
	})
	check("truncate", func(m pglogrepl.Message) bool {
		tr, ok := m.(*pglogrepl.TruncateMessage)
		return ok && len(tr.RelationIDs) == 2 && tr.RelationIDs[1] == 16390
	})
	check("message", func(m pglogrepl.Message) bool {
		l, ok := m.(*pglogrepl.LogicalDecodingMessage)
		return ok && !l.Transactional && l.Prefix == "shapesync" && string(l.Content) == "hello"
	})
	for name, f := range frames {
		if _, err := Decode(f); err != nil {
			t.Errorf("%s: Decode: %v", name, err)
		}
	}
}

// Every strict prefix of a well-formed frame is a truncated frame: it must be
// rejected with ErrMalformed and must not reach pglogrepl's unchecked
// decoders. Adding a trailing byte must be rejected as well.
func TestDecodeTruncatedAndTrailing(t *testing.T) {
	t.Parallel()
	for name, f := range seedFrames() {
		for n := 0; n < len(f); n++ {
			msg, err := Decode(f[:n])
			if err == nil || msg != nil {
				t.Fatalf("%s cut to %d of %d bytes: got %v, %v; want an error", name, n, len(f), msg, err)
			}
			if !errors.Is(err, ErrMalformed) || errors.Is(err, errDecoderPanic) {
				t.Fatalf("%s cut to %d bytes: error %v; want ErrMalformed from the frame check", name, n, err)
			}
		}
		if _, err := Decode(append(append([]byte(nil), f...), 0)); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s with a trailing byte: error %v; want ErrMalformed", name, err)
		}
	}
}

func TestDecodeGarbage(t *testing.T) {
	t.Parallel()
	huge := u32(u32([]byte{'I'}, 16384), 0)[:5]
	huge = append(huge, 'N', 0, 1, 't', 0xFF, 0xFF, 0xFF, 0xF0, 'x')
	cases := map[string]struct {
		data []byte
		want string
	}{
		"empty":               {nil, "empty payload"},
		"stream start (v2)":   {[]byte{'S', 0, 0, 0, 1, 1}, "unsupported message type 'S'"},
		"unknown":             {[]byte{'Z'}, "unsupported message type 'Z'"},
		"truncate count huge": {append(u32([]byte{'T'}, 0xFFFFFFFF), 0, 0, 0, 0, 1), "relation ids need"},
		"tuple length huge":   {huge, "exceeds the"},
		"tuple kind unknown":  {tupleBytes(append(u32([]byte{'I'}, 1), 'N'), []wireCol{{kind: 'x'}}), "is not n, u, t or b"},
		"insert marker":       {tupleBytes(append(u32([]byte{'I'}, 1), 'O'), []wireCol{wt("1")}), "new row marker"},
		"update marker":       {append(u32([]byte{'U'}, 1), 'K', 0, 0, 'X', 0, 0), "new row marker"},
		"delete marker":       {tupleBytes(append(u32([]byte{'D'}, 1), 'N'), []wireCol{wt("1")}), "old row marker"},
		"prefix without NUL":  {append([]byte{'M', 0}, make([]byte, 8)...), "prefix has no terminating NUL"},
		"content too long":    {append(cstr(append([]byte{'M', 0}, make([]byte, 8)...), "p"), 0, 0, 0, 9, 'a'), "content needs 9 bytes"},
		"relation columns":    {u16(append(cstr(cstr(u32([]byte{'R'}, 1), "s"), "t"), 'f'), 3), "column flags needs 1 bytes"},
	}
	for name, c := range cases {
		msg, err := Decode(c.data)
		if err == nil || msg != nil || !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, %v; want ErrMalformed containing %q", name, msg, err, c.want)
		}
	}
}

// FuzzDecode: any byte string either decodes or is rejected with ErrMalformed
// by the frame check (a recovered pglogrepl panic counts as a gap in the
// check), and a decoded message fed to a Builder inside a transaction never
// panics.
func FuzzDecode(f *testing.F) {
	for _, fr := range seedFrames() {
		f.Add(fr)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		msg, err := Decode(data)
		if err != nil {
			if !errors.Is(err, ErrMalformed) || errors.Is(err, errDecoderPanic) || msg != nil {
				t.Fatalf("Decode(%x) = %v, %v", data, msg, err)
			}
			return
		}
		if msg == nil {
			t.Fatalf("Decode(%x) returned neither message nor error", data)
		}
		b := NewBuilder(Options{MaxFragmentChanges: 1, MaxTxnBytes: 64})
		if _, err := b.ApplyWAL(seedFrames()["relation"], 1); err != nil {
			t.Fatal(err)
		}
		if _, err := b.ApplyWAL(seedFrames()["begin"], 2); err != nil {
			t.Fatal(err)
		}
		if _, err := b.Apply(msg, lsn.LSN(3)); err != nil && b.InTransaction() {
			t.Fatalf("Apply failed (%v) but left the transaction open", err)
		}
	})
}
