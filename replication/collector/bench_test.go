package collector

import (
	"fmt"
	"strconv"
	"testing"

	"github.com/shapesync/shapesync/replication/events"
	"github.com/shapesync/shapesync/replication/lsn"
	"github.com/shapesync/shapesync/shapes/filter"
	"github.com/shapesync/shapesync/shapes/protocol"
)

// BenchmarkRouting is the routing cost per transaction (SHAPE_API issue
// acceptance, PERFORMANCE W1c): n shapes `id = k` on one table, every
// transaction one insert (begin, insert and commit in one fragment, as the
// builder sends a small transaction) that matches exactly one of them. One
// op is the whole round through the router: Event, every Delivered answer,
// and the writer's flush report, so the flush tracker stays in its steady
// state. Per shape count:
//
//   - index: the conditions are filter.Eq, what the wiring builds for
//     `id = k`; the cost must stay flat in n.
//   - residual: the same conditions as opaque predicates (filter.Residual),
//     so the index evaluates every shape's condition on every change but
//     still delivers to one; the predicate parses the id and compares, far
//     cheaper than a where-clause evaluation, so this baseline flatters
//     the linear scan.
//   - all: no conditions, which is how the collector routed before the
//     index: every shape of the table gets every change, answers, and is
//     tracked until flushed, and its consumer evaluates the where clause.
func BenchmarkRouting(b *testing.B) {
	for _, n := range []int{100, 1_000, 10_000} {
		for _, mode := range []string{"index", "residual", "all"} {
			b.Run(fmt.Sprintf("shapes=%d/%s", n, mode), func(b *testing.B) {
				benchRouting(b, n, mode)
			})
		}
	}
}

func benchCondition(mode string, k int) filter.Condition {
	switch mode {
	case "index":
		return filter.Eq{Column: 0, Value: strconv.Itoa(k)}
	case "residual":
		want := int64(k)
		return filter.Residual{Matches: func(row events.Tuple) bool {
			if len(row) == 0 || row[0].Null {
				return false
			}
			id, err := strconv.ParseInt(row[0].Text, 10, 64)
			return err != nil || id == want
		}}
	}
	return nil
}

func benchRouting(b *testing.B, n int, mode string) {
	r := newRouter(0)
	for k := range n {
		id := protocol.ShapeID(k + 1)
		if _, err := r.Subscribe(id, "h"+strconv.Itoa(k), tableA, pid("c"+strconv.Itoa(k)), benchCondition(mode, k)); err != nil {
			b.Fatal(err)
		}
	}
	// 1024 rows cycling over the ids, so look-ups do not all hit one
	// cache line.
	changes := make([]events.Change, 1024)
	for i := range changes {
		changes[i] = ins(events.Tuple{{Text: strconv.Itoa((i * 7919) % n)}, {Text: "payload"}})
	}
	want := 1
	if mode == "all" {
		want = n
	}
	xid, commit := uint32(0), lsn.LSN(0)
	round := func(i int) {
		xid++
		commit += 100
		f := &events.Fragment{Xid: xid, CommitLSN: commit, EndLSN: commit + 8, HasBegin: true, Commit: true, Changes: changes[i%len(changes) : i%len(changes)+1]}
		st, err := r.Event(&protocol.Event{Epoch: 1, Seq: uint64(xid), Event: f})
		if err != nil {
			b.Fatal(err)
		}
		if i > 0 && len(st.Sends) != want {
			b.Fatalf("transaction %d reached %d shapes, want %d", xid, len(st.Sends), want)
		}
		// A new map each time, as the writer sends one per batch (a cleared
		// map keeps its size, and ranging over it costs as much).
		flushed := make(map[protocol.ShapeID]lsn.LSN, len(st.Sends))
		for _, s := range st.Sends {
			next, err := r.Delivered(s.Shape, s.Msg.(*protocol.Deliver).Seq)
			if err != nil {
				b.Fatal(err)
			}
			if next.Handled != nil {
				st.Handled = next.Handled
			}
			flushed[s.Shape] = commit
		}
		if st.Handled == nil {
			b.Fatalf("transaction %d not handled after every answer", xid)
		}
		r.Flushed(flushed)
		if r.Position() != commit+8 {
			b.Fatalf("position %s after transaction %d, want %s", r.Position(), xid, commit+8)
		}
	}
	// The first change after the subscriptions reaches every shape (see
	// tableState); it is not part of the steady state measured.
	round(0)
	b.ReportAllocs()
	for i := 1; b.Loop(); i++ {
		round(i)
	}
	b.ReportMetric(float64(want), "deliveries/txn")
}
