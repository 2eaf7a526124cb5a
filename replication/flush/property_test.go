package flush

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"pgregory.net/rapid"

	"github.com/shapesync/shapesync/replication/lsn"
)

// model is the brute-force definition: the stream as a list of commits and
// WalEnd markers, each commit with one flag per shape it was delivered to.
// The position is the end of the longest prefix of the stream whose every
// delivery is durable (or unpinned by removal), never below the start.
type model struct {
	start lsn.LSN
	items []modelItem
}

type modelItem struct {
	commit     lsn.LSN
	end        lsn.LSN
	walEnd     bool
	deliveries map[ShapeID]bool // shape → durable
}

func (m *model) position() lsn.LSN {
	p := m.start
	for _, it := range m.items {
		for _, done := range it.deliveries {
			if !done {
				return p
			}
		}
		p = max(p, it.end)
	}
	return p
}

// flushed marks the shape's deliveries with commit ≤ c durable; removal marks
// all of them. Deliveries made later are not affected.
func (m *model) flushed(s ShapeID, c lsn.LSN, all bool) {
	for _, it := range m.items {
		if _, ok := it.deliveries[s]; ok && !it.walEnd && (all || it.commit <= c) {
			it.deliveries[s] = true
		}
	}
}

var shapeIDs = []ShapeID{"a", "b", "c", "d", "e"}

func TestTrackerAgainstModel(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(t *rapid.T) {
		start := lsn.LSN(rapid.Uint64Range(0, 1<<40).Draw(t, "start"))
		tr := NewTracker(start)
		m := &model{start: start}
		next := start // the least LSN a new commit may start at
		var lastCommit lsn.LSN
		haveCommit := false
		prev := tr.Position()
		for i := range rapid.IntRange(1, 80).Draw(t, "ops") {
			var desc string
			switch rapid.IntRange(0, 9).Draw(t, "op") {
			case 0, 1, 2:
				c := next + lsn.LSN(rapid.IntRange(0, 40).Draw(t, "commit gap"))
				end := c + lsn.LSN(rapid.IntRange(1, 40).Draw(t, "length"))
				shapes := rapid.SliceOfN(rapid.SampledFrom(shapeIDs), 0, 4).Draw(t, "shapes")
				if _, err := tr.Commit(end, c, shapes); err != nil {
					t.Fatalf("op %d: Commit(%s, %s): %v", i, end, c, err)
				}
				it := modelItem{commit: c, end: end, deliveries: map[ShapeID]bool{}}
				for _, s := range shapes {
					it.deliveries[s] = false
				}
				m.items = append(m.items, it)
				next, lastCommit, haveCommit = end, c, true
				desc = fmt.Sprintf("commit %s..%s to %v", c, end, shapes)
			case 3:
				// Out of order: rejected, and nothing changes.
				if !haveCommit {
					continue
				}
				c := lastCommit - min(lastCommit, lsn.LSN(rapid.IntRange(0, 5).Draw(t, "back")))
				if _, err := tr.Commit(c+1, c, []ShapeID{"a"}); err == nil {
					t.Fatalf("op %d: Commit at %s after %s accepted", i, c, lastCommit)
				}
				desc = "rejected commit"
			case 4:
				// Usually ahead, sometimes stale.
				l := next + lsn.LSN(rapid.IntRange(0, 40).Draw(t, "walend ahead"))
				if rapid.IntRange(0, 3).Draw(t, "stale") == 0 {
					l = next - min(next, lsn.LSN(rapid.IntRange(0, 20).Draw(t, "walend behind")))
				}
				tr.WalEnd(l)
				m.items = append(m.items, modelItem{end: l, walEnd: true})
				next = max(next, l)
				desc = fmt.Sprintf("walend %s", l)
			case 5, 6, 7, 8:
				s := rapid.SampledFrom(shapeIDs).Draw(t, "flushed shape")
				c := lsn.LSN(rapid.Uint64Range(uint64(start), uint64(next)+10).Draw(t, "flushed to"))
				tr.Flushed(s, c)
				m.flushed(s, c, false)
				desc = fmt.Sprintf("flushed %s to %s", s, c)
			default:
				s := rapid.SampledFrom(shapeIDs).Draw(t, "removed shape")
				tr.RemoveShape(s)
				m.flushed(s, 0, true)
				desc = fmt.Sprintf("remove %s", s)
			}
			got, want := tr.Position(), m.position()
			if got != want {
				t.Fatalf("op %d (%s): position %s; the model says %s", i, desc, got, want)
			}
			if got < prev {
				t.Fatalf("op %d (%s): position went back from %s to %s", i, desc, prev, got)
			}
			prev = got
		}
		// Once every shape has flushed everything, the position is the last
		// thing seen.
		for _, s := range shapeIDs {
			tr.Flushed(s, next)
		}
		if tr.Position() != tr.LastSeen() || tr.PendingShapes() != 0 {
			t.Fatalf("all flushed: position %s, last seen %s, %d pending", tr.Position(), tr.LastSeen(), tr.PendingShapes())
		}
		want := start
		for _, it := range m.items {
			want = max(want, it.end)
		}
		if tr.LastSeen() != want {
			t.Fatalf("last seen %s; want %s", tr.LastSeen(), want)
		}
	})
}

// BenchmarkTracker: 10,000 shapes, each commit delivered to three of them,
// every shape flushing a few commits late.
func BenchmarkTracker(b *testing.B) {
	const shapes = 10_000
	ids := make([]ShapeID, shapes)
	for i := range ids {
		ids[i] = ShapeID(fmt.Sprintf("shape-%d", i))
	}
	rng := rand.New(rand.NewPCG(1, 2))
	tr := NewTracker(0)
	c := lsn.LSN(100)
	type sent struct {
		id ShapeID
		c  lsn.LSN
	}
	var lag []sent
	b.ReportAllocs()
	for b.Loop() {
		to := []ShapeID{ids[rng.IntN(shapes)], ids[rng.IntN(shapes)], ids[rng.IntN(shapes)]}
		if _, err := tr.Commit(c+10, c, to); err != nil {
			b.Fatal(err)
		}
		for _, id := range to {
			lag = append(lag, sent{id, c})
		}
		for len(lag) > 3000 {
			tr.Flushed(lag[0].id, lag[0].c)
			lag = lag[1:]
		}
		c += 20
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "commits/s")
}
