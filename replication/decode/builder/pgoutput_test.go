package builder

import (
	"encoding/binary"

	"github.com/shapesync/shapesync/replication/lsn"
	"github.com/shapesync/shapesync/shapes/protocol"
)

// Hand-framed pgoutput v1 messages (the layout of PostgreSQL's
// src/backend/replication/logical/proto.c), so the actor tests feed the
// real decoder real bytes.

type frame struct{ b []byte }

func newFrame(kind byte) *frame { return &frame{b: []byte{kind}} }

func (f *frame) u8(v byte) *frame    { f.b = append(f.b, v); return f }
func (f *frame) u16(v uint16) *frame { f.b = binary.BigEndian.AppendUint16(f.b, v); return f }
func (f *frame) u32(v uint32) *frame { f.b = binary.BigEndian.AppendUint32(f.b, v); return f }
func (f *frame) u64(v uint64) *frame { f.b = binary.BigEndian.AppendUint64(f.b, v); return f }
func (f *frame) str(s string) *frame { f.b = append(append(f.b, s...), 0); return f }

func (f *frame) tuple(vals ...string) *frame {
	f.u16(uint16(len(vals)))
	for _, v := range vals {
		f.u8('t').u32(uint32(len(v)))
		f.b = append(f.b, v...)
	}
	return f
}

func pgBegin(final uint64, xid uint32) []byte {
	return newFrame('B').u64(final).u64(0).u32(xid).b
}

func pgCommit(commitLSN, end uint64) []byte {
	return newFrame('C').u8(0).u64(commitLSN).u64(end).u64(0).b
}

// pgRelation announces a relation of text columns, the first one the key.
func pgRelation(id uint32, name string, identity byte, cols ...string) []byte {
	f := newFrame('R').u32(id).str("public").str(name).u8(identity).u16(uint16(len(cols)))
	for i, c := range cols {
		flags := byte(0)
		if i == 0 {
			flags = 1
		}
		f.u8(flags).str(c).u32(25).u32(0xFFFFFFFF)
	}
	return f.b
}

func pgInsert(rel uint32, vals ...string) []byte {
	return newFrame('I').u32(rel).u8('N').tuple(vals...).b
}

// pgUpdateWithoutOld is what a table with REPLICA IDENTITY DEFAULT sends
// when the key did not change: no old row at all.
func pgUpdateWithoutOld(rel uint32, vals ...string) []byte {
	return newFrame('U').u32(rel).u8('N').tuple(vals...).b
}

func xlog(start uint64, data []byte) protocol.WalItem {
	return protocol.WalItem{WALStart: lsn.LSN(start), Data: data}
}

// txn is one committed transaction inserting the given ids into relation 1.
func txn(xid uint32, final uint64, ids ...string) []protocol.WalItem {
	items := []protocol.WalItem{xlog(0, pgBegin(final, xid))}
	for _, id := range ids {
		items = append(items, xlog(0, pgInsert(1, id, "v"+id)))
	}
	return append(items, xlog(final, pgCommit(final, final+8)))
}
