package decode

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/jackc/pglogrepl"

	"github.com/shapesync/shapesync/replication/events"
	"github.com/shapesync/shapesync/replication/lsn"
)

func TestBuilderTransactions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		msgs []pglogrepl.Message
		want []wantChange
	}{
		{
			name: "ok - insert, update, delete numbered 0, 2, 4",
			msgs: []pglogrepl.Message{
				ins(items, tup(txt("1"), txt("a"))),
				upd(items, 'O', tup(txt("1"), txt("a")), tup(txt("1"), txt("b"))),
				del(items, 'O', tup(txt("1"), txt("b"))),
			},
			want: []wantChange{
				{kind: events.Insert, op: 0, new: row("1", "a")},
				{kind: events.Update, op: 2, old: row("1", "a"), new: row("1", "b")},
				{kind: events.Delete, op: 4, old: row("1", "b")},
			},
		},
		{
			name: "ok - no-op update dropped but keeps its op",
			msgs: []pglogrepl.Message{
				ins(items, tup(txt("1"), null())),
				upd(items, 'O', tup(txt("1"), null()), tup(txt("1"), null())),
				upd(items, 'O', tup(txt("1"), txt("x")), tup(txt("1"), toast())),
				del(items, 'O', tup(txt("1"), null())),
			},
			want: []wantChange{
				{kind: events.Insert, op: 0, new: row("1", "<null>")},
				{kind: events.Delete, op: 6, old: row("1", "<null>")},
			},
		},
		{
			name: "ok - unchanged TOAST restored from the old row",
			msgs: []pglogrepl.Message{
				upd(items, 'O', tup(txt("1"), txt("long text")), tup(txt("2"), toast())),
			},
			want: []wantChange{{kind: events.Update, op: 0, old: row("1", "long text"), new: row("2", "long text")}},
		},
		{
			name: "ok - null differs from empty text",
			msgs: []pglogrepl.Message{
				upd(items, 'O', tup(txt("1"), null()), tup(txt("1"), txt(""))),
			},
			want: []wantChange{{kind: events.Update, op: 0, old: row("1", "<null>"), new: row("1", "")}},
		},
		{
			name: "ok - truncate gives one change per relation",
			msgs: []pglogrepl.Message{
				relMsg(20000, "s", "other", 'f', "k"),
				ins(items, tup(txt("1"), txt("a"))),
				&pglogrepl.TruncateMessage{RelationNum: 2, RelationIDs: []uint32{items, 20000}},
			},
			want: []wantChange{
				{kind: events.Insert, op: 0, new: row("1", "a")},
				{kind: events.Truncate, op: 2},
				{kind: events.Truncate, op: 4},
			},
		},
		{
			name: "ok - empty transaction",
			msgs: nil,
		},
		{
			name: "ok - type, origin and messages inside are ignored",
			msgs: []pglogrepl.Message{
				&pglogrepl.OriginMessage{Name: "node_a"},
				&pglogrepl.TypeMessage{DataType: 90001, Name: "mood"},
				&pglogrepl.LogicalDecodingMessage{Transactional: true, Prefix: "p"},
				ins(items, tup(txt("1"), txt("a"))),
			},
			want: []wantChange{{kind: events.Insert, op: 0, new: row("1", "a")}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := NewBuilder(Options{})
			msgs := append([]pglogrepl.Message{itemsRel(), begin(0x5000, 77)}, tc.msgs...)
			msgs = append(msgs, commit(0x5000, 0x5030))
			evs, err := run(t, b, msgs...)
			if err != nil {
				t.Fatal(err)
			}
			frags := fragments(evs)
			if len(frags) != 1 {
				t.Fatalf("got %d fragments; want 1", len(frags))
			}
			f := frags[0]
			if !f.HasBegin || !f.Commit || f.Xid != 77 || f.CommitLSN != 0x5000 || f.EndLSN != 0x5030 {
				t.Fatalf("fragment header %+v", f)
			}
			checkChanges(t, f.Changes, tc.want)
			for _, c := range f.Changes {
				if c.Relation == nil || c.Relation.Columns == nil {
					t.Fatalf("change without relation: %+v", c)
				}
			}
			if b.InTransaction() {
				t.Fatal("still in a transaction after COMMIT")
			}
		})
	}
}

func TestBuilderErrors(t *testing.T) {
	t.Parallel()
	ident := func(kind events.ChangeKind, got string) func(*testing.T, error) {
		return func(t *testing.T, err error) {
			var rie *ReplicaIdentityError
			if !errors.As(err, &rie) {
				t.Fatalf("error %v is not a *ReplicaIdentityError", err)
			}
			if rie.Kind != kind || rie.Relation.Name != "items" || !strings.Contains(rie.Got, got) {
				t.Fatalf("error fields %+v", rie)
			}
			if !strings.Contains(err.Error(), `ALTER TABLE "public"."items" REPLICA IDENTITY FULL`) {
				t.Fatalf("error %q does not name the remedy", err)
			}
		}
	}
	protocol := func(want string) func(*testing.T, error) {
		return func(t *testing.T, err error) {
			if !errors.Is(err, ErrProtocol) || !strings.Contains(err.Error(), want) {
				t.Fatalf("error %v; want ErrProtocol containing %q", err, want)
			}
		}
	}
	inTxn := func(msgs ...pglogrepl.Message) []pglogrepl.Message {
		return append([]pglogrepl.Message{itemsRel(), begin(0x5000, 77)}, msgs...)
	}
	tests := []struct {
		name  string
		msgs  []pglogrepl.Message
		check func(*testing.T, error)
	}{
		{"error - update without old row", inTxn(upd(items, 0, nil, tup(txt("1"), txt("b")))), ident(events.Update, "no old row")},
		{"error - update with key only", inTxn(upd(items, 'K', tup(txt("1"), null()), tup(txt("2"), txt("b")))), ident(events.Update, "key columns")},
		{"error - delete with key only", inTxn(del(items, 'K', tup(txt("1"), null()))), ident(events.Delete, "key columns")},
		{"error - toast marker in old row", inTxn(del(items, 'O', tup(txt("1"), toast()))), ident(events.Delete, `TOAST value of column "title"`)},
		{"error - toast marker in insert", inTxn(ins(items, tup(txt("1"), toast()))), protocol(`column "title" is unchanged TOAST`)},
		{"error - binary value", inTxn(ins(items, tup(txt("1"), bin("\x00")))), protocol("binary format")},
		{"error - column count", inTxn(ins(items, tup(txt("1")))), protocol("has 1 columns but its Relation message announced 2")},
		{"error - nil tuple", inTxn(ins(items, nil)), protocol("new row of")},
		{"error - unknown relation", inTxn(ins(999, tup(txt("1")))), protocol("relation 999")},
		{"error - unknown relation in truncate", inTxn(&pglogrepl.TruncateMessage{RelationIDs: []uint32{items, 999}}), protocol("relation 999")},
		{"error - insert outside transaction", []pglogrepl.Message{itemsRel(), ins(items, tup(txt("1"), txt("a")))}, protocol("INSERT outside a transaction")},
		{"error - commit outside transaction", []pglogrepl.Message{commit(1, 2)}, protocol("COMMIT 0/1 outside")},
		{"error - nested begin", inTxn(begin(0x6000, 78)), protocol("BEGIN of xid 78 inside transaction 77")},
		{"error - commit LSN mismatch", inTxn(commit(0x5008, 0x5030)), protocol("BEGIN announced final LSN 0/5000")},
		{"error - end before commit", inTxn(commit(0x5000, 0x4000)), protocol("before its commit LSN")},
		{"error - transactional message outside", []pglogrepl.Message{&pglogrepl.LogicalDecodingMessage{Transactional: true, Prefix: "p"}}, protocol(`message "p" outside`)},
		{"error - v2 message", []pglogrepl.Message{&pglogrepl.StreamStartMessageV2{Xid: 1}}, protocol("unsupported message *pglogrepl.StreamStartMessageV2")},
		{"error - nil message", []pglogrepl.Message{nil}, protocol("nil message")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := NewBuilder(Options{})
			_, err := run(t, b, tc.msgs...)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.HasPrefix(err.Error(), "pgoutput message at WAL 0/") {
				t.Fatalf("error %q does not locate the message", err)
			}
			tc.check(t, err)
			if b.InTransaction() {
				t.Fatal("the partial transaction survived the error")
			}
		})
	}
}

func TestBuilderOutsideTransactionAllowed(t *testing.T) {
	t.Parallel()
	b := NewBuilder(Options{})
	evs, err := run(t, b,
		&pglogrepl.TypeMessage{DataType: 90001, Name: "mood"},
		&pglogrepl.OriginMessage{Name: "node_a"},
		&pglogrepl.LogicalDecodingMessage{Prefix: "shapesync", Content: []byte("hello")},
		itemsRel(),
	)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 {
		t.Fatalf("events %v; want one RelationEvent", evs)
	}
	re, ok := evs[0].(*events.RelationEvent)
	want := &events.Relation{ID: items, Schema: "public", Name: "items", ReplicaIdentity: 'f', Columns: []events.Column{
		{Name: "id", TypeOID: 25, TypeMod: -1, InIdentity: true}, {Name: "title", TypeOID: 25, TypeMod: -1},
	}}
	if !ok || !reflect.DeepEqual(re.Relation, want) {
		t.Fatalf("relation event %+v; want %+v", evs[0], want)
	}
}

func TestBuilderFragments(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		n, rows int
		sizes   []int
	}{
		{"ok - partial last fragment", 2, 5, []int{2, 2, 1}},
		{"ok - exact multiple carries the commit", 2, 4, []int{2, 2}},
		{"ok - one change per fragment", 1, 3, []int{1, 1, 1}},
		{"ok - default bound", 0, 250, []int{100, 100, 50}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := NewBuilder(Options{MaxFragmentChanges: tc.n})
			msgs := []pglogrepl.Message{itemsRel(), begin(0x9000, 5)}
			for i := range tc.rows {
				msgs = append(msgs, ins(items, tup(txt("1"), txt(strings.Repeat("x", i)))))
			}
			evs, err := run(t, b, append(msgs, commit(0x9000, 0x9100))...)
			if err != nil {
				t.Fatal(err)
			}
			frags := fragments(evs)
			var sizes []int
			var op uint64
			for i, f := range frags {
				sizes = append(sizes, len(f.Changes))
				last := i == len(frags)-1
				if f.HasBegin != (i == 0) || f.Commit != last || (f.EndLSN != 0) != last || f.CommitLSN != 0x9000 || f.Xid != 5 {
					t.Fatalf("fragment %d header %+v", i, f)
				}
				for _, c := range f.Changes {
					if c.Op != op {
						t.Fatalf("fragment %d: op %d; want %d", i, c.Op, op)
					}
					op += 2
				}
			}
			if !reflect.DeepEqual(sizes, tc.sizes) {
				t.Fatalf("fragment sizes %v; want %v", sizes, tc.sizes)
			}
		})
	}
}

func TestBuilderMaxTxnBytes(t *testing.T) {
	t.Parallel()
	b := NewBuilder(Options{MaxTxnBytes: 10})
	_, err := run(t, b, itemsRel(), begin(0x7000, 9),
		ins(items, tup(txt("1"), txt("abcd"))), // 5 bytes
		ins(items, tup(txt("2"), txt("efgh"))), // 10: at the limit, still fine
		ins(items, tup(txt("3"), null())),      // 11
	)
	var tl *TxnTooLargeError
	if !errors.As(err, &tl) || tl.Xid != 9 || tl.CommitLSN != 0x7000 || tl.Limit != 10 || tl.Size != 11 {
		t.Fatalf("error %v (%+v); want *TxnTooLargeError for xid 9 at 11 of 10 bytes", err, tl)
	}
	if !strings.Contains(err.Error(), "ELECTRIC_EXPERIMENTAL_MAX_TXN_SIZE") || b.InTransaction() {
		t.Fatalf("error %q / in transaction %v", err, b.InTransaction())
	}
	// Dropped no-op updates count too: the limit bounds what Postgres sends.
	b = NewBuilder(Options{MaxTxnBytes: 3})
	_, err = run(t, b, itemsRel(), begin(0x7000, 9), upd(items, 'O', tup(txt("1"), txt("a")), tup(txt("1"), txt("a"))))
	if !errors.As(err, &tl) || tl.Size != 4 {
		t.Fatalf("no-op update: error %v; want *TxnTooLargeError at 4 bytes", err)
	}
}

func TestBuilderResetAndRelations(t *testing.T) {
	t.Parallel()
	b := NewBuilder(Options{})
	evs, err := run(t, b, itemsRel(), begin(0x5000, 1), ins(items, tup(txt("1"), txt("a"))))
	if err != nil || len(evs) != 1 {
		t.Fatalf("events %v, %v", evs, err)
	}
	first := evs[0].(*events.RelationEvent).Relation
	b.Reset()
	if b.InTransaction() {
		t.Fatal("Reset kept the partial transaction")
	}
	if _, err := b.Apply(commit(0x5000, 0x5010), 1); !errors.Is(err, ErrProtocol) {
		t.Fatalf("COMMIT after Reset: %v; want ErrProtocol", err)
	}
	// The replayed transaction, with the relation re-announced unchanged and
	// then altered mid-transaction.
	evs, err = run(t, b, begin(0x5000, 1), itemsRel(), ins(items, tup(txt("1"), txt("a"))),
		relMsg(items, "public", "items", 'f', "id", "title", "extra"),
		ins(items, tup(txt("2"), txt("b"), txt("c"))), commit(0x5000, 0x5010))
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 3 {
		t.Fatalf("events %v; want relation, relation, fragment", evs)
	}
	same := evs[0].(*events.RelationEvent).Relation
	altered := evs[1].(*events.RelationEvent).Relation
	if same != first || altered == first || len(altered.Columns) != 3 {
		t.Fatalf("relation pointers: re-announce %p (first %p), altered %p", same, first, altered)
	}
	f := evs[2].(*events.Fragment)
	if f.Changes[0].Relation != first || f.Changes[1].Relation != altered || f.Changes[1].Op != 2 {
		t.Fatal("changes do not point to the relation in force when they were sent")
	}
	if len(first.Columns) != 2 {
		t.Fatal("a later Relation message mutated the earlier definition")
	}
}

func TestBuilderWalEnd(t *testing.T) {
	t.Parallel()
	b := NewBuilder(Options{})
	if evs := b.WalEnd(0x100); len(evs) != 1 || evs[0].(*events.WalEnd).LSN != 0x100 {
		t.Fatalf("WalEnd outside a transaction: %v", evs)
	}
	if _, err := run(t, b, begin(0x200, 1)); err != nil {
		t.Fatal(err)
	}
	if evs := b.WalEnd(0x300); evs != nil {
		t.Fatalf("WalEnd inside a transaction passed through: %v", evs)
	}
}

// The byte path: hand-framed payloads through ApplyWAL give the same events
// as the struct path.
func TestBuilderApplyWAL(t *testing.T) {
	t.Parallel()
	frames := [][]byte{
		relationFrame(items, "public", "items", 'f', itemsCols...),
		beginFrame(0x16B3748, 731),
		originFrame(0x16B3000, "node_a"),
		insertFrame(items, wt("1"), wt("hello")),
		updateFrame(items, 'O', []wireCol{wt("1"), wt("hello")}, []wireCol{wt("1"), wt("hello")}),
		updateFrame(items, 'O', []wireCol{wt("1"), wt("hello")}, []wireCol{wt("2"), wu()}),
		deleteFrame(items, 'O', wt("2"), wn()),
		truncateFrame(0, items),
		commitFrame(0x16B3748, 0x16B3778),
		messageFrame(false, 0x16B3800, "shapesync", "hello"),
	}
	b := NewBuilder(Options{MaxFragmentChanges: 2})
	var evs []events.Event
	for i, f := range frames {
		e, err := b.ApplyWAL(f, lsn.LSN(0x16B3000+i))
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		evs = append(evs, e...)
	}
	frags := fragments(evs)
	if len(frags) != 2 || !frags[0].HasBegin || frags[0].Commit || !frags[1].Commit || frags[1].EndLSN != 0x16B3778 {
		t.Fatalf("fragments %+v", frags)
	}
	checkChanges(t, append(frags[0].Changes, frags[1].Changes...), []wantChange{
		{kind: events.Insert, op: 0, new: row("1", "hello")},
		{kind: events.Update, op: 4, old: row("1", "hello"), new: row("2", "hello")},
		{kind: events.Delete, op: 6, old: row("2", "<null>")},
		{kind: events.Truncate, op: 8},
	})
	if _, err := b.ApplyWAL([]byte{'I', 0}, 0x16B4000); !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "at WAL 0/16B4000") {
		t.Fatalf("truncated frame: %v", err)
	}
}
