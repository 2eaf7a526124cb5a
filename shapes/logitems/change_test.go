package logitems

import (
	"bytes"
	"errors"
	"testing"

	"github.com/shapesync/shapesync/replication/events"
	"github.com/shapesync/shapesync/replication/lsn"
)

// items(id int8 PK, title text, done bool, notes text); the shape selects
// id, title, done, so notes is outside it.
var itemsRel = &events.Relation{ID: 16384, Schema: "public", Name: "items", ReplicaIdentity: 'f', Columns: []events.Column{
	{Name: "id", TypeOID: 20, TypeMod: -1, InIdentity: true},
	{Name: "title", TypeOID: 25, TypeMod: -1, InIdentity: true},
	{Name: "done", TypeOID: OIDBool, TypeMod: -1, InIdentity: true},
	{Name: "notes", TypeOID: 25, TypeMod: -1, InIdentity: true},
}}

func itemsEncoder(t testing.TB, r Replica) *Encoder {
	t.Helper()
	e, err := NewEncoder(Config{Schema: "public", Table: "items", Relation: itemsRel, Columns: []int{0, 1, 2}, KeyColumns: []int{0}, Replica: r})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

var tx = Tx{CommitLSN: 26800584, Xid: 768}

func row(id, title, done, notes string) events.Tuple {
	return events.Tuple{val(id), val(title), val(done), val(notes)}
}

const hdr = `"relation":["public","items"],"lsn":"26800584","txids":[768]`

type changeCase struct {
	name  string
	ch    events.Change
	match Match
	last  bool
	// want holds the expected items as JSON; offs their op positions.
	want []string
	offs []uint64
}

func TestAppendChangeReplicaDefault(t *testing.T) {
	t.Parallel()
	old := row("42", "Buy bread", "f", "x")
	cases := []changeCase{
		{name: "ok - insert, new row matches", ch: events.Change{Kind: events.Insert, New: old, Op: 0},
			want: []string{`{"key":"\"public\".\"items\"/\"42\"","value":{"id":"42","title":"Buy bread","done":"f"},"headers":{"operation":"insert",` + hdr + `,"op_position":0}}`}, offs: []uint64{0}},
		{name: "ok - insert, new row does not match", ch: events.Change{Kind: events.Insert, New: old}, match: MatchOldOnly},
		{name: "ok - insert, neither", ch: events.Change{Kind: events.Insert, New: old}, match: MatchNeither},
		{name: "ok - insert, last", ch: events.Change{Kind: events.Insert, New: old, Op: 6}, last: true,
			want: []string{`{"key":"\"public\".\"items\"/\"42\"","value":{"id":"42","title":"Buy bread","done":"f"},"headers":{"operation":"insert",` + hdr + `,"op_position":6,"last":true}}`}, offs: []uint64{6}},
		{name: "ok - delete carries the key columns", ch: events.Change{Kind: events.Delete, Old: old, Op: 2},
			want: []string{`{"key":"\"public\".\"items\"/\"42\"","value":{"id":"42"},"headers":{"operation":"delete",` + hdr + `,"op_position":2}}`}, offs: []uint64{2}},
		{name: "ok - delete, old row did not match", ch: events.Change{Kind: events.Delete, Old: old}, match: MatchNewOnly},
		{name: "ok - update, key unchanged: key + changed columns", ch: events.Change{Kind: events.Update, Old: old, New: row("42", "Buy milk", "f", "x"), Op: 4}, last: true,
			want: []string{`{"key":"\"public\".\"items\"/\"42\"","value":{"id":"42","title":"Buy milk"},"headers":{"operation":"update",` + hdr + `,"op_position":4,"last":true}}`}, offs: []uint64{4}},
		{name: "ok - update to NULL", ch: events.Change{Kind: events.Update, Old: old, New: events.Tuple{val("42"), null, val("t"), val("x")}, Op: 4},
			want: []string{`{"key":"\"public\".\"items\"/\"42\"","value":{"id":"42","title":null,"done":"t"},"headers":{"operation":"update",` + hdr + `,"op_position":4}}`}, offs: []uint64{4}},
		{name: "ok - update, key changed: delete + insert, last on the insert", ch: events.Change{Kind: events.Update, Old: old, New: row("43", "Buy bread", "f", "x"), Op: 8}, last: true,
			want: []string{
				`{"key":"\"public\".\"items\"/\"42\"","value":{"id":"42"},"headers":{"operation":"delete",` + hdr + `,"op_position":8,"key_change_to":"\"public\".\"items\"/\"43\""}}`,
				`{"key":"\"public\".\"items\"/\"43\"","value":{"id":"43","title":"Buy bread","done":"f"},"headers":{"operation":"insert",` + hdr + `,"op_position":9,"key_change_from":"\"public\".\"items\"/\"42\"","last":true}}`,
			}, offs: []uint64{8, 9}},
		{name: "ok - update, move out: delete of the old key", ch: events.Change{Kind: events.Update, Old: old, New: row("42", "Buy milk", "t", "x"), Op: 2}, match: MatchOldOnly,
			want: []string{`{"key":"\"public\".\"items\"/\"42\"","value":{"id":"42"},"headers":{"operation":"delete",` + hdr + `,"op_position":2}}`}, offs: []uint64{2}},
		{name: "ok - update, move in: insert of the full new row", ch: events.Change{Kind: events.Update, Old: old, New: row("42", "Buy milk", "t", "x"), Op: 2}, match: MatchNewOnly,
			want: []string{`{"key":"\"public\".\"items\"/\"42\"","value":{"id":"42","title":"Buy milk","done":"t"},"headers":{"operation":"insert",` + hdr + `,"op_position":2}}`}, offs: []uint64{2}},
		{name: "ok - update, move in with a key change uses the new key", ch: events.Change{Kind: events.Update, Old: old, New: row("44", "Buy milk", "t", "x"), Op: 2}, match: MatchNewOnly,
			want: []string{`{"key":"\"public\".\"items\"/\"44\"","value":{"id":"44","title":"Buy milk","done":"t"},"headers":{"operation":"insert",` + hdr + `,"op_position":2}}`}, offs: []uint64{2}},
		{name: "ok - update, neither matches", ch: events.Change{Kind: events.Update, Old: old, New: row("42", "Buy milk", "t", "x")}, match: MatchNeither},
		{name: "ok - update of no shape column", ch: events.Change{Kind: events.Update, Old: old, New: row("42", "Buy bread", "f", "changed")}},
		{name: "ok - update of no shape column still moves out", ch: events.Change{Kind: events.Update, Old: old, New: row("42", "Buy bread", "f", "changed"), Op: 10}, match: MatchOldOnly,
			want: []string{`{"key":"\"public\".\"items\"/\"42\"","value":{"id":"42"},"headers":{"operation":"delete",` + hdr + `,"op_position":10}}`}, offs: []uint64{10}},
	}
	runChangeCases(t, ReplicaDefault, cases)
}

func TestAppendChangeReplicaFull(t *testing.T) {
	t.Parallel()
	old := row("42", "Buy bread", "f", "x")
	cases := []changeCase{
		{name: "ok - insert", ch: events.Change{Kind: events.Insert, New: old},
			want: []string{`{"key":"\"public\".\"items\"/\"42\"","value":{"id":"42","title":"Buy bread","done":"f"},"headers":{"operation":"insert",` + hdr + `,"op_position":0}}`}, offs: []uint64{0}},
		{name: "ok - delete carries the full old row", ch: events.Change{Kind: events.Delete, Old: old, Op: 2},
			want: []string{`{"key":"\"public\".\"items\"/\"42\"","value":{"id":"42","title":"Buy bread","done":"f"},"headers":{"operation":"delete",` + hdr + `,"op_position":2}}`}, offs: []uint64{2}},
		{name: "ok - update: full new row, old values of changed columns", ch: events.Change{Kind: events.Update, Old: old, New: row("42", "Buy milk", "f", "y"), Op: 4}, last: true,
			want: []string{`{"key":"\"public\".\"items\"/\"42\"","value":{"id":"42","title":"Buy milk","done":"f"},"old_value":{"title":"Buy bread"},"headers":{"operation":"update",` + hdr + `,"op_position":4,"last":true}}`}, offs: []uint64{4}},
		{name: "ok - update from NULL", ch: events.Change{Kind: events.Update, Old: events.Tuple{val("42"), null, val("f"), val("x")}, New: old, Op: 4},
			want: []string{`{"key":"\"public\".\"items\"/\"42\"","value":{"id":"42","title":"Buy bread","done":"f"},"old_value":{"title":null},"headers":{"operation":"update",` + hdr + `,"op_position":4}}`}, offs: []uint64{4}},
		{name: "ok - update, key changed: full rows on both halves", ch: events.Change{Kind: events.Update, Old: old, New: row("43", "Buy milk", "f", "x"), Op: 8}, last: true,
			want: []string{
				`{"key":"\"public\".\"items\"/\"42\"","value":{"id":"42","title":"Buy bread","done":"f"},"headers":{"operation":"delete",` + hdr + `,"op_position":8,"key_change_to":"\"public\".\"items\"/\"43\""}}`,
				`{"key":"\"public\".\"items\"/\"43\"","value":{"id":"43","title":"Buy milk","done":"f"},"headers":{"operation":"insert",` + hdr + `,"op_position":9,"key_change_from":"\"public\".\"items\"/\"42\"","last":true}}`,
			}, offs: []uint64{8, 9}},
		{name: "ok - update, move out: full old row", ch: events.Change{Kind: events.Update, Old: old, New: row("42", "Buy milk", "t", "x"), Op: 2}, match: MatchOldOnly,
			want: []string{`{"key":"\"public\".\"items\"/\"42\"","value":{"id":"42","title":"Buy bread","done":"f"},"headers":{"operation":"delete",` + hdr + `,"op_position":2}}`}, offs: []uint64{2}},
		{name: "ok - update, move in", ch: events.Change{Kind: events.Update, Old: old, New: row("42", "Buy milk", "t", "x"), Op: 2}, match: MatchNewOnly,
			want: []string{`{"key":"\"public\".\"items\"/\"42\"","value":{"id":"42","title":"Buy milk","done":"t"},"headers":{"operation":"insert",` + hdr + `,"op_position":2}}`}, offs: []uint64{2}},
		{name: "ok - update, neither matches", ch: events.Change{Kind: events.Update, Old: old, New: row("42", "Buy milk", "t", "x")}, match: MatchNeither},
		{name: "ok - update of no shape column", ch: events.Change{Kind: events.Update, Old: old, New: row("42", "Buy bread", "f", "changed")}},
	}
	runChangeCases(t, ReplicaFull, cases)
}

func runChangeCases(t *testing.T, r Replica, cases []changeCase) {
	t.Helper()
	shared := itemsEncoder(t, r) // reused across cases: scratch reuse must not leak
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := shared.AppendChange(nil, tx, &c.ch, c.match, c.last)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(c.want) {
				t.Fatalf("got %d items, want %d: %q", len(got), len(c.want), got)
			}
			for i := range got {
				sameJSON(t, got[i].JSON, c.want[i])
				if want := (lsn.LogOffset{Tx: uint64(tx.CommitLSN), Op: c.offs[i]}); got[i].Offset != want {
					t.Errorf("item %d offset %v, want %v", i, got[i].Offset, want)
				}
			}
			// Determinism: a fresh encoder writes the same bytes.
			again, _ := itemsEncoder(t, r).AppendChange(nil, tx, &c.ch, c.match, c.last)
			for i := range got {
				if !bytes.Equal(got[i].JSON, again[i].JSON) {
					t.Errorf("item %d not byte-stable:\n%s\n%s", i, got[i].JSON, again[i].JSON)
				}
			}
		})
	}
}

// A table without a primary key: every column is a key column, so every
// update of a shape column changes the key, and deletes carry every column.
func TestAppendChangeNoPrimaryKey(t *testing.T) {
	t.Parallel()
	rel := &events.Relation{Schema: "public", Name: "t", Columns: []events.Column{{Name: "a", TypeOID: 23}, {Name: "b", TypeOID: 25}, {Name: "c", TypeOID: 23}}}
	e, err := NewEncoder(Config{Schema: "public", Table: "t", Relation: rel, Columns: []int{0, 1, 2}, KeyColumns: []int{0, 1, 2}})
	if err != nil {
		t.Fatal(err)
	}
	old := events.Tuple{val("1"), null, val("2")}
	h := `"relation":["public","t"],"lsn":"5","txids":[9]`
	tx := Tx{CommitLSN: 5, Xid: 9}

	got, err := e.AppendChange(nil, tx, &events.Change{Kind: events.Delete, Old: old}, MatchBoth, false)
	if err != nil {
		t.Fatal(err)
	}
	sameJSON(t, got[0].JSON, `{"key":"\"public\".\"t\"/\"1\"/_/\"2\"","value":{"a":"1","b":null,"c":"2"},"headers":{"operation":"delete",`+h+`,"op_position":0}}`)

	got, err = e.AppendChange(nil, tx, &events.Change{Kind: events.Update, Old: old, New: events.Tuple{val("1"), val("x/y"), val("2")}, Op: 2}, MatchBoth, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("want delete+insert, got %q", got)
	}
	sameJSON(t, got[0].JSON, `{"key":"\"public\".\"t\"/\"1\"/_/\"2\"","value":{"a":"1","b":null,"c":"2"},"headers":{"operation":"delete",`+h+`,"op_position":2,"key_change_to":"\"public\".\"t\"/\"1\"/\"x//y\"/\"2\""}}`)
	sameJSON(t, got[1].JSON, `{"key":"\"public\".\"t\"/\"1\"/\"x//y\"/\"2\"","value":{"a":"1","b":"x/y","c":"2"},"headers":{"operation":"insert",`+h+`,"op_position":3,"key_change_from":"\"public\".\"t\"/\"1\"/_/\"2\"","last":true}}`)
}

// A composite key in PK order that differs from the column order.
func TestAppendChangeCompositeKey(t *testing.T) {
	t.Parallel()
	rel := &events.Relation{Schema: "s", Name: "t", Columns: []events.Column{{Name: "a", TypeOID: 25}, {Name: "b", TypeOID: 25}, {Name: "v", TypeOID: 25}}}
	e, err := NewEncoder(Config{Schema: "s", Table: "t", Relation: rel, Columns: []int{0, 1, 2}, KeyColumns: []int{1, 0}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := e.AppendChange(nil, Tx{CommitLSN: 1, Xid: 2}, &events.Change{Kind: events.Update, Old: events.Tuple{val("A"), val("B"), val("1")}, New: events.Tuple{val("A"), val("B"), val("2")}}, MatchBoth, false)
	if err != nil {
		t.Fatal(err)
	}
	sameJSON(t, got[0].JSON, `{"key":"\"s\".\"t\"/\"B\"/\"A\"","value":{"a":"A","b":"B","v":"2"},"headers":{"operation":"update","relation":["s","t"],"lsn":"1","op_position":0,"txids":[2]}}`)
}

func TestAppendChangeErrors(t *testing.T) {
	t.Parallel()
	e := itemsEncoder(t, ReplicaDefault)
	if _, err := e.AppendChange(nil, tx, &events.Change{Kind: events.Truncate}, MatchBoth, false); !errors.Is(err, ErrTruncate) {
		t.Errorf("truncate: %v, want ErrTruncate", err)
	}
	short := events.Tuple{val("1")}
	for _, ch := range []events.Change{
		{Kind: events.Insert, New: short},
		{Kind: events.Delete},
		{Kind: events.Update, Old: row("1", "a", "t", "n"), New: short},
		{Kind: events.Update, New: row("1", "a", "t", "n")},
		{Kind: 99, New: row("1", "a", "t", "n")},
	} {
		if got, err := e.AppendChange(nil, tx, &ch, MatchBoth, false); err == nil || len(got) != 0 {
			t.Errorf("%v change with bad tuples: %q, %v; want an error", ch.Kind, got, err)
		}
	}
}

func TestNewEncoderRejectsBadConfig(t *testing.T) {
	t.Parallel()
	for name, cfg := range map[string]Config{
		"no relation":         {Columns: []int{0}, KeyColumns: []int{0}},
		"no columns":          {Relation: itemsRel, KeyColumns: []int{0}},
		"no key":              {Relation: itemsRel, Columns: []int{0}},
		"column out of range": {Relation: itemsRel, Columns: []int{0, 4}, KeyColumns: []int{0}},
		"negative column":     {Relation: itemsRel, Columns: []int{-1}, KeyColumns: []int{0}},
		"duplicate column":    {Relation: itemsRel, Columns: []int{0, 0}, KeyColumns: []int{0}},
		"key outside shape":   {Relation: itemsRel, Columns: []int{1}, KeyColumns: []int{0}},
		"key out of range":    {Relation: itemsRel, Columns: []int{1}, KeyColumns: []int{7}},
		"duplicate key":       {Relation: itemsRel, Columns: []int{0}, KeyColumns: []int{0, 0}},
		"base types mismatch": {Relation: itemsRel, Columns: []int{0}, KeyColumns: []int{0}, KeyBaseTypes: []uint32{1, 2}},
		"bad replica":         {Relation: itemsRel, Columns: []int{0}, KeyColumns: []int{0}, Replica: 7},
	} {
		if _, err := NewEncoder(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestColumnIndexes(t *testing.T) {
	t.Parallel()
	got, err := ColumnIndexes(itemsRel, []string{"done", "id"})
	if err != nil || len(got) != 2 || got[0] != 2 || got[1] != 0 {
		t.Fatalf("ColumnIndexes = %v, %v", got, err)
	}
	if _, err := ColumnIndexes(itemsRel, []string{"nope"}); err == nil {
		t.Fatal("unknown column accepted")
	}
}

// MarkLast gives the same bytes as encoding with last=true.
func TestMarkLast(t *testing.T) {
	t.Parallel()
	e := itemsEncoder(t, ReplicaFull)
	changes := []events.Change{
		{Kind: events.Insert, New: row("1", "a", "t", "")},
		{Kind: events.Update, Old: row("1", "a", "t", ""), New: row("1", "b", "t", "")},
		{Kind: events.Update, Old: row("1", "a", "t", ""), New: row("2", "a", "t", "")},
		{Kind: events.Delete, Old: row("1", "a", "t", "")},
	}
	for _, ch := range changes {
		plain, _ := e.AppendChange(nil, tx, &ch, MatchBoth, false)
		marked, _ := e.AppendChange(nil, tx, &ch, MatchBoth, true)
		before := string(plain[len(plain)-1].JSON)
		got, err := MarkLast(plain[len(plain)-1])
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.JSON, marked[len(marked)-1].JSON) || got.Offset != marked[len(marked)-1].Offset {
			t.Errorf("MarkLast(%s) = %s, want %s", before, got.JSON, marked[len(marked)-1].JSON)
		}
		if string(plain[len(plain)-1].JSON) != before {
			t.Errorf("MarkLast modified its input")
		}
		again, _ := MarkLast(got)
		if !bytes.Equal(again.JSON, got.JSON) {
			t.Errorf("MarkLast not idempotent: %s", again.JSON)
		}
	}
	snap, _ := e.AppendSnapshotRow(nil, events.Tuple{val("1"), val("a"), val("t")})
	if _, err := MarkLast(Item{JSON: snap}); err == nil {
		t.Error("MarkLast accepted a snapshot row")
	}
	if _, err := MarkLast(Item{JSON: AppendMustRefetch(nil)}); err == nil {
		t.Error("MarkLast accepted a control message")
	}
}

func TestMatchOf(t *testing.T) {
	t.Parallel()
	if MatchOf(true, true) != MatchBoth || MatchOf(true, false) != MatchOldOnly || MatchOf(false, true) != MatchNewOnly || MatchOf(false, false) != MatchNeither {
		t.Fatal("MatchOf mapping wrong")
	}
}
