package decode

import (
	"reflect"
	"testing"

	"pgregory.net/rapid"

	"github.com/shapesync/shapesync/replication/events"
	"github.com/shapesync/shapesync/replication/lsn"
)

// streamCase is a random pgoutput stream as hand-framed bytes, with what the
// Builder must make of it, computed independently of the Builder.
type streamCase struct {
	frames    [][]byte
	relFrames int
	txns      []wantTxn
}

type wantTxn struct {
	xid         uint32
	commit, end lsn.LSN
	changes     []events.Change // Relation holds only the ID
}

// A small alphabet makes equal values, and so no-op updates, common.
var valueAlphabet = []string{"", "a", "b", "hello world", "ü"}

func drawValue(t *rapid.T, label string) (wireCol, events.Value) {
	if rapid.IntRange(0, 4).Draw(t, label+" null") == 0 {
		return wn(), events.Value{Null: true}
	}
	s := rapid.SampledFrom(valueAlphabet).Draw(t, label)
	return wt(s), events.Value{Text: s}
}

func drawRow(t *rapid.T, n int, label string) ([]wireCol, events.Tuple) {
	w := make([]wireCol, n)
	v := make(events.Tuple, n)
	for i := range n {
		w[i], v[i] = drawValue(t, label)
	}
	return w, v
}

func drawStream(t *rapid.T) streamCase {
	widths := rapid.SliceOfN(rapid.IntRange(1, 4), 1, 3).Draw(t, "relation widths")
	relFrame := func(r int) []byte {
		cols := make([]wireRelCol, widths[r])
		for i := range cols {
			cols[i] = wireRelCol{key: i == 0, name: string(rune('a' + i)), oid: 25}
		}
		return relationFrame(uint32(16384+r), "public", string(rune('p'+r)), 'f', cols...)
	}
	var sc streamCase
	for r := range widths {
		sc.frames = append(sc.frames, relFrame(r))
		sc.relFrames++
	}
	next := lsn.LSN(rapid.Uint64Range(1, 1<<40).Draw(t, "first LSN"))
	for k := range rapid.IntRange(1, 6).Draw(t, "transactions") {
		w := wantTxn{xid: uint32(1000 + k), commit: next + 0x800, end: next + 0x830}
		next = w.end + lsn.LSN(rapid.IntRange(0, 0x100).Draw(t, "gap"))
		sc.frames = append(sc.frames, beginFrame(uint64(w.commit), w.xid))
		op := uint64(0)
		for range rapid.IntRange(0, 14).Draw(t, "changes") {
			switch rapid.IntRange(0, 9).Draw(t, "noise") {
			case 0:
				r := rapid.IntRange(0, len(widths)-1).Draw(t, "re-announced")
				sc.frames = append(sc.frames, relFrame(r))
				sc.relFrames++
			case 1:
				sc.frames = append(sc.frames, typeFrame(90001, "public", "mood"), originFrame(1, "o"))
			}
			r := rapid.IntRange(0, len(widths)-1).Draw(t, "relation")
			id := uint32(16384 + r)
			keep := func(c events.Change) {
				c.Relation = &events.Relation{ID: id}
				c.Op = op
				w.changes = append(w.changes, c)
			}
			switch rapid.IntRange(0, 9).Draw(t, "kind") {
			case 0, 1, 2:
				wire, v := drawRow(t, widths[r], "new")
				sc.frames = append(sc.frames, insertFrame(id, wire...))
				keep(events.Change{Kind: events.Insert, New: v})
			case 3, 4, 5, 6:
				oldWire, old := drawRow(t, widths[r], "old")
				newWire := make([]wireCol, widths[r])
				nv := make(events.Tuple, widths[r])
				for i := range newWire {
					switch rapid.IntRange(0, 2).Draw(t, "new column") {
					case 0:
						newWire[i], nv[i] = wu(), old[i]
					case 1:
						newWire[i], nv[i] = oldWire[i], old[i]
					default:
						newWire[i], nv[i] = drawValue(t, "new")
					}
				}
				sc.frames = append(sc.frames, updateFrame(id, 'O', oldWire, newWire))
				if !reflect.DeepEqual(old, nv) {
					keep(events.Change{Kind: events.Update, Old: old, New: nv})
				}
			case 7, 8:
				wire, v := drawRow(t, widths[r], "old")
				sc.frames = append(sc.frames, deleteFrame(id, 'O', wire...))
				keep(events.Change{Kind: events.Delete, Old: v})
			default:
				sc.frames = append(sc.frames, truncateFrame(0, id))
				keep(events.Change{Kind: events.Truncate})
			}
			op += 2
		}
		sc.frames = append(sc.frames, commitFrame(uint64(w.commit), uint64(w.end)))
		sc.txns = append(sc.txns, w)
	}
	return sc
}

func feed(t *rapid.T, n int, frames [][]byte) []events.Event {
	b := NewBuilder(Options{MaxFragmentChanges: n})
	var out []events.Event
	for i, f := range frames {
		evs, err := b.ApplyWAL(f, lsn.LSN(i))
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		out = append(out, evs...)
	}
	if b.InTransaction() {
		t.Fatal("in a transaction at the end of the stream")
	}
	return out
}

func TestBuilderProperties(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(t *rapid.T) {
		sc := drawStream(t)
		n := rapid.IntRange(1, 5).Draw(t, "max fragment changes")
		evs := feed(t, n, sc.frames)

		var txns [][]*events.Fragment
		rels := 0
		open := false
		for _, e := range evs {
			switch e := e.(type) {
			case *events.RelationEvent:
				rels++
			case *events.Fragment:
				if e.HasBegin == open {
					t.Fatalf("HasBegin %v while a transaction is open: %v", e.HasBegin, open)
				}
				if e.HasBegin {
					txns = append(txns, nil)
				}
				txns[len(txns)-1] = append(txns[len(txns)-1], e)
				open = !e.Commit
			default:
				t.Fatalf("unexpected event %T", e)
			}
		}
		if rels != sc.relFrames || len(txns) != len(sc.txns) || open {
			t.Fatalf("%d relation events, %d transactions (open %v); want %d, %d", rels, len(txns), open, sc.relFrames, len(sc.txns))
		}
		for k, frags := range txns {
			w := sc.txns[k]
			var got []events.Change
			for i, f := range frags {
				last := i == len(frags)-1
				if f.Xid != w.xid || f.CommitLSN != w.commit || f.Commit != last || (last && f.EndLSN != w.end) || (!last && f.EndLSN != 0) {
					t.Fatalf("txn %d fragment %d header %+v; want xid %d commit %s end %s", k, i, f, w.xid, w.commit, w.end)
				}
				if len(f.Changes) > n || (!last && len(f.Changes) != n) {
					t.Fatalf("txn %d fragment %d has %d changes (bound %d, last %v)", k, i, len(f.Changes), n, last)
				}
				got = append(got, f.Changes...)
			}
			if len(got) != len(w.changes) {
				t.Fatalf("txn %d: %d changes; want %d", k, len(got), len(w.changes))
			}
			for i, c := range got {
				want := w.changes[i]
				if c.Kind != want.Kind || c.Op != want.Op || c.Relation.ID != want.Relation.ID ||
					!reflect.DeepEqual(c.Old, want.Old) || !reflect.DeepEqual(c.New, want.New) {
					t.Fatalf("txn %d change %d = %+v; want %+v", k, i, c, want)
				}
			}
		}
		// Same input, fresh Builder: the same events, boundaries included.
		if again := feed(t, n, sc.frames); !reflect.DeepEqual(evs, again) {
			t.Fatal("a second run over the same frames gave different events")
		}
	})
}

// BenchmarkBuilder measures changes/s for 1000-row transactions of five text
// columns, from XLogData payload to fragments.
func BenchmarkBuilder(b *testing.B) {
	frames := [][]byte{relationFrame(items, "public", "items", 'f',
		wireRelCol{key: true, name: "id", oid: 23}, wireRelCol{name: "a", oid: 25}, wireRelCol{name: "b", oid: 25},
		wireRelCol{name: "c", oid: 25}, wireRelCol{name: "d", oid: 25})}
	frames = append(frames, beginFrame(0x10000, 1))
	const rows = 1000
	for i := range rows {
		frames = append(frames, insertFrame(items, wt("12345"), wt("some title text"), wn(), wt("2024-01-01 00:00:00+00"), wt(string(rune('a'+i%26)))))
	}
	frames = append(frames, commitFrame(0x10000, 0x10100))
	bld := NewBuilder(Options{})
	b.ReportAllocs()
	for b.Loop() {
		for _, f := range frames {
			if _, err := bld.ApplyWAL(f, 0); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.N)*rows/b.Elapsed().Seconds(), "changes/s")
}
