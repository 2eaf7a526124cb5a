package consumer

import (
	"encoding/json"
	"fmt"
	"testing"

	"go.uber.org/goleak"

	"github.com/shapesync/shapesync/replication/events"
	"github.com/shapesync/shapesync/replication/lsn"
	"github.com/shapesync/shapesync/shapes/protocol"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// tb is what the helpers need from *testing.T and *rapid.T.
type tb interface {
	Helper()
	Fatal(args ...any)
	Fatalf(format string, args ...any)
}

const (
	oidInt4 = 23
	oidText = 25
)

// itemsTable is the shape's table: items(id int4 primary key, v text).
func itemsTable() *events.Table {
	return &events.Table{OID: 7001, Schema: "public", Name: "items", PrimaryKey: []int{0}, ReplicaIdentityFull: true,
		Columns: []events.TableColumn{{Name: "id", TypeOID: oidInt4, TypeMod: -1}, {Name: "v", TypeOID: oidText, TypeMod: -1}}}
}

// The stream's announcements of items and of a table no shape uses.
var (
	itemsRel = &events.Relation{ID: 7001, Schema: "public", Name: "items", ReplicaIdentity: 'f',
		Columns: []events.Column{{Name: "id", TypeOID: oidInt4, TypeMod: -1, InIdentity: true}, {Name: "v", TypeOID: oidText, TypeMod: -1, InIdentity: true}}}
	otherRel = &events.Relation{ID: 7002, Schema: "public", Name: "other", ReplicaIdentity: 'f',
		Columns: []events.Column{{Name: "id", TypeOID: oidInt4, TypeMod: -1, InIdentity: true}}}
)

func row(id int, v string) events.Tuple {
	return events.Tuple{{Text: fmt.Sprint(id)}, {Text: v}}
}

func ins(rel *events.Relation, op uint64, id int, v string) events.Change {
	return events.Change{Kind: events.Insert, Relation: rel, New: row(id, v), Op: op}
}

func upd(op uint64, oldID int, oldV string, newID int, newV string) events.Change {
	return events.Change{Kind: events.Update, Relation: itemsRel, Old: row(oldID, oldV), New: row(newID, newV), Op: op}
}

func del(op uint64, id int, v string) events.Change {
	return events.Change{Kind: events.Delete, Relation: itemsRel, Old: row(id, v), Op: op}
}

func fragment(xid uint32, commit lsn.LSN, begin, isCommit bool, changes ...events.Change) *events.Fragment {
	f := &events.Fragment{Xid: xid, CommitLSN: commit, HasBegin: begin, Commit: isCommit, Changes: changes}
	if isCommit {
		f.EndLSN = commit + 16
	}
	return f
}

// decoded is the part of a change item the tests look at.
type decoded struct {
	Key     string            `json:"key"`
	Value   map[string]string `json:"value"`
	Headers struct {
		Operation string `json:"operation"`
		LSN       string `json:"lsn"`
		OpPos     uint64 `json:"op_position"`
		Txids     []uint32
		Last      bool   `json:"last"`
		KeyTo     string `json:"key_change_to"`
		KeyFrom   string `json:"key_change_from"`
	} `json:"headers"`
}

func decode(t tb, it protocol.LogItem) decoded {
	t.Helper()
	var d decoded
	if err := json.Unmarshal(it.JSON, &d); err != nil {
		t.Fatalf("item at %s is not JSON: %v: %s", it.Offset, err, it.JSON)
	}
	if d.Headers.LSN != fmt.Sprint(it.Offset.Tx) || d.Headers.OpPos != it.Offset.Op {
		t.Fatalf("item at %s carries lsn %s op_position %d", it.Offset, d.Headers.LSN, d.Headers.OpPos)
	}
	return d
}

// summary renders an item as "op key@offset[+last]".
func summary(t tb, it protocol.LogItem) string {
	d := decode(t, it)
	s := fmt.Sprintf("%s %s@%s", d.Headers.Operation, d.Value["id"], it.Offset)
	if d.Headers.Last {
		s += "+last"
	}
	return s
}

func summaries(t tb, items []protocol.LogItem) []string {
	out := make([]string, 0, len(items))
	for _, it := range items {
		out = append(out, summary(t, it))
	}
	return out
}

func newTestConverter(t tb, floor lsn.LSN, vis Visibility) *converter {
	t.Helper()
	l, err := newLayout(itemsTable(), nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	return newConverter(l, floor, vis)
}

// everythingNew is a snapshot whose filtering has ended: every
// transaction is appended.
var everythingNew = Visibility{Known: true, Snapshot: lsn.Snapshot{Xmin: 100, Xmax: 100}}
