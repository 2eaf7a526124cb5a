package filter

import (
	"fmt"
	"strconv"
	"testing"

	"github.com/shapesync/shapesync/replication/events"
)

// The routing workload of PERFORMANCE W1c / E9: n shapes `id = k` on one
// table, every change an insert that hits exactly one of them. With the
// index the cost per change must stay flat in n; BenchmarkBruteForce is the
// linear baseline (evaluate every shape's condition) for the ratio.

var benchSizes = []int{100, 1_000, 10_000}

func benchChanges(n int) []*events.Change {
	// 1024 distinct rows cycling over the ids, so map look-ups are not all
	// served from one hot cache line.
	changes := make([]*events.Change, 1024)
	for i := range changes {
		k := (i * 7919) % n
		changes[i] = insert(events.Tuple{{Text: strconv.Itoa(k)}, {Text: "payload"}})
	}
	return changes
}

func BenchmarkAffected(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("shapes=%d", n), func(b *testing.B) {
			x := New[uint64]()
			for k := range n {
				if err := x.Add(items, uint64(k), Eq{Column: 0, Value: strconv.Itoa(k)}); err != nil {
					b.Fatal(err)
				}
			}
			changes := benchChanges(n)
			dst := make([]uint64, 0, 8)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				dst = x.Affected(items, changes[i%len(changes)], dst[:0])
				if len(dst) != 1 {
					b.Fatalf("change hit %d shapes, want 1", len(dst))
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/change")
		})
	}
}

func BenchmarkBruteForce(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("shapes=%d", n), func(b *testing.B) {
			ids := make([]uint64, n)
			conds := make([]Condition, n)
			for k := range n {
				ids[k], conds[k] = uint64(k), Eq{Column: 0, Value: strconv.Itoa(k)}
			}
			changes := benchChanges(n)
			dst := make([]uint64, 0, 8)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				c := changes[i%len(changes)]
				dst = dst[:0]
				for j, cond := range conds {
					if Matches(cond, c.New) {
						dst = append(dst, ids[j])
					}
				}
				if len(dst) != 1 {
					b.Fatalf("change hit %d shapes, want 1", len(dst))
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/change")
		})
	}
}
