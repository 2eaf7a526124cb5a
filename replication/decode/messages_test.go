package decode

import (
	"reflect"
	"testing"

	"github.com/jackc/pglogrepl"

	"github.com/shapesync/shapesync/replication/events"
	"github.com/shapesync/shapesync/replication/lsn"
)

// Messages built as pglogrepl structs, the way pglogrepl.Parse returns them.

func relMsg(id uint32, ns, name string, ident byte, cols ...string) *pglogrepl.RelationMessage {
	m := &pglogrepl.RelationMessage{RelationID: id, Namespace: ns, RelationName: name, ReplicaIdentity: ident, ColumnNum: uint16(len(cols))}
	for i, c := range cols {
		flags := uint8(0)
		if i == 0 {
			flags = 1
		}
		m.Columns = append(m.Columns, &pglogrepl.RelationMessageColumn{Flags: flags, Name: c, DataType: 25, TypeModifier: -1})
	}
	return m
}

func txt(s string) *pglogrepl.TupleDataColumn {
	return &pglogrepl.TupleDataColumn{DataType: 't', Length: uint32(len(s)), Data: []byte(s)}
}
func null() *pglogrepl.TupleDataColumn  { return &pglogrepl.TupleDataColumn{DataType: 'n'} }
func toast() *pglogrepl.TupleDataColumn { return &pglogrepl.TupleDataColumn{DataType: 'u'} }
func bin(s string) *pglogrepl.TupleDataColumn {
	return &pglogrepl.TupleDataColumn{DataType: 'b', Length: uint32(len(s)), Data: []byte(s)}
}

func tup(cols ...*pglogrepl.TupleDataColumn) *pglogrepl.TupleData {
	return &pglogrepl.TupleData{ColumnNum: uint16(len(cols)), Columns: cols}
}

func begin(final uint64, xid uint32) *pglogrepl.BeginMessage {
	return &pglogrepl.BeginMessage{FinalLSN: pglogrepl.LSN(final), Xid: xid}
}
func commit(c, end uint64) *pglogrepl.CommitMessage {
	return &pglogrepl.CommitMessage{CommitLSN: pglogrepl.LSN(c), TransactionEndLSN: pglogrepl.LSN(end)}
}
func ins(rel uint32, row *pglogrepl.TupleData) *pglogrepl.InsertMessage {
	return &pglogrepl.InsertMessage{RelationID: rel, Tuple: row}
}
func upd(rel uint32, oldKind uint8, old, row *pglogrepl.TupleData) *pglogrepl.UpdateMessage {
	return &pglogrepl.UpdateMessage{RelationID: rel, OldTupleType: oldKind, OldTuple: old, NewTuple: row}
}
func del(rel uint32, oldKind uint8, old *pglogrepl.TupleData) *pglogrepl.DeleteMessage {
	return &pglogrepl.DeleteMessage{RelationID: rel, OldTupleType: oldKind, OldTuple: old}
}

func row(vals ...string) events.Tuple {
	t := make(events.Tuple, len(vals))
	for i, v := range vals {
		if v == "<null>" {
			t[i] = events.Value{Null: true}
		} else {
			t[i] = events.Value{Text: v}
		}
	}
	return t
}

// run applies msgs in order and returns the events so far and the first
// error, if any.
func run(t *testing.T, b *Builder, msgs ...pglogrepl.Message) ([]events.Event, error) {
	t.Helper()
	var out []events.Event
	for i, m := range msgs {
		evs, err := b.Apply(m, lsn.LSN(i+1))
		if err != nil {
			return out, err
		}
		out = append(out, evs...)
	}
	return out, nil
}

func fragments(evs []events.Event) []*events.Fragment {
	var out []*events.Fragment
	for _, e := range evs {
		if f, ok := e.(*events.Fragment); ok {
			out = append(out, f)
		}
	}
	return out
}

type wantChange struct {
	kind     events.ChangeKind
	op       uint64
	old, new events.Tuple
}

func checkChanges(t *testing.T, got []events.Change, want []wantChange) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d changes %+v; want %d", len(got), got, len(want))
	}
	for i, w := range want {
		g := got[i]
		if g.Kind != w.kind || g.Op != w.op || !reflect.DeepEqual(g.Old, w.old) || !reflect.DeepEqual(g.New, w.new) {
			t.Errorf("change %d = %v op %d old %v new %v; want %v op %d old %v new %v",
				i, g.Kind, g.Op, g.Old, g.New, w.kind, w.op, w.old, w.new)
		}
	}
}

const items = 16384

func itemsRel() *pglogrepl.RelationMessage {
	return relMsg(items, "public", "items", 'f', "id", "title")
}
