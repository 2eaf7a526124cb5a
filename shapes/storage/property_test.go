package storage

import (
	"fmt"
	"testing"

	"pgregory.net/rapid"

	"github.com/shapesync/shapesync/replication/lsn"
)

// wal is the property test's Postgres: an append-only list of transactions
// for one shape. Items are fixed when a transaction is first generated, so a
// replay sends the same offsets with the same bytes.
type wal struct {
	txs []walTx
}

type walTx struct {
	tx    uint64
	ops   []uint64
	items [][]byte
}

func (w *wal) gen(t *rapid.T) walTx {
	tx := uint64(1000)
	if n := len(w.txs); n > 0 {
		tx = w.txs[n-1].tx + rapid.Uint64Range(1, 500).Draw(t, "lsnStep")
	}
	x := walTx{tx: tx}
	n := rapid.IntRange(1, 6).Draw(t, "txItems")
	op := uint64(0)
	for i := 0; i < n; i++ {
		x.ops = append(x.ops, op)
		x.items = append(x.items, item(fmt.Sprintf("%d_%d", tx, op), rapid.IntRange(22, 90).Draw(t, "itemSize")))
		op += rapid.Uint64Range(1, 2).Draw(t, "opStep") // key changes take the odd slot
	}
	w.txs = append(w.txs, x)
	return x
}

// modelChunks is the §8 rule written independently: the ends of the chunks a
// sequence of entries closes (their indexes).
func modelChunks(sizes []int, threshold uint64) []int {
	var ends []int
	total := uint64(0)
	for i, n := range sizes {
		total += uint64(n) + 1
		if total >= threshold {
			ends = append(ends, i)
			total = 0
		}
	}
	return ends
}

// TestPropertyClientReadsExactlyTheCommittedLog drives random appends
// (transactions split into fragments), commits, syncs and reopens against a
// real directory; after a reopen the pipeline replays from an earlier commit,
// as it does from the acked LSN. A client that reads from -1 chunk by chunk,
// following ChunkEnd, must get exactly the durable committed items in order,
// without duplicates, and the chunk boundaries must be those of §8.
func TestPropertyClientReadsExactlyTheCommittedLog(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		dir, cleanup := tempDir(t)
		defer cleanup()
		opts := Options{
			ChunkBytesThreshold: rapid.Uint64Range(40, 400).Draw(t, "threshold"),
			MaxValueBytes:       rapid.SampledFrom([]int{48, 1 << 20}).Draw(t, "maxValue"),
		}
		s := openStore(t, dir, opts)
		defer func() { s.Close() }()
		const id = 7

		// The snapshot, possibly synced in several batches.
		var snap [][]byte
		w := s.NewWriter()
		b := w.NewBatch()
		for i, n := 0, rapid.IntRange(0, 25).Draw(t, "rows"); i < n; i++ {
			row := item(fmt.Sprintf("row%d", i), rapid.IntRange(20, 80).Draw(t, "rowSize"))
			must(t, b.AppendSnapshotRow(id, row))
			snap = append(snap, row)
			if rapid.IntRange(0, 4).Draw(t, "syncRows") == 0 {
				mustSync(t, s, b)
				b = w.NewBatch()
			}
		}
		must(t, b.EndSnapshot(id, snapshotEnd))
		snap = append(snap, snapshotEnd)
		mustSync(t, s, b)
		b = w.NewBatch()

		var (
			log       wal
			fedTx     int // the transaction being fed to the writer
			fedItems  int // items of it fed so far
			writerTxs int // transactions committed in the writer
			sealedTxs int // … as of the last sealed batch
			durable   int // … durable: synced
		)
		sync := func() {
			sealedTxs = writerTxs
			res := mustSync(t, s, b)
			if len(res.Rejected) != 0 {
				t.Fatalf("replay rejected: %+v", res.Rejected)
			}
			durable = sealedTxs
			b = w.NewBatch()
		}
		check := func() {
			var want [][]byte
			var sizes []int
			for _, x := range log.txs[:durable] {
				want = append(want, x.items...)
				for _, it := range x.items {
					sizes = append(sizes, len(it))
				}
			}
			rs := walk(t, s, id)
			got := flatten(rs)
			if !equalItems(got, append(append([][]byte{}, snap...), want...)) {
				t.Fatalf("client read %d entries, want %d snapshot + %d committed changes", len(got), len(snap), len(want))
			}
			// Every closed change chunk ends where the §8 model says.
			v, _ := s.View(id)
			var offs []lsn.LogOffset
			for _, x := range log.txs[:durable] {
				for _, op := range x.ops {
					offs = append(offs, off(x.tx, op))
				}
			}
			ends := modelChunks(sizes, opts.ChunkBytesThreshold)
			if len(v.changes) != len(ends) {
				t.Fatalf("%d closed change chunks, the model closes %d", len(v.changes), len(ends))
			}
			for i, e := range ends {
				if v.changes[i].End != offs[e] {
					t.Fatalf("change chunk %d ends at %s, the model says %s", i, v.changes[i].End, offs[e])
				}
			}
			// Snapshot chunks too (snapshot-end closes the last one uncounted).
			rowSizes := make([]int, len(snap)-1)
			for i := range rowSizes {
				rowSizes[i] = len(snap[i])
			}
			if got, want := int(v.SnapshotChunks()), len(modelChunks(rowSizes, opts.ChunkBytesThreshold))+1; got != want {
				t.Fatalf("%d snapshot chunks, the model has %d", got, want)
			}
			// The responses end exactly at 0_0 … 0_k, then at each closed
			// change chunk's end, then at the committed end; only the last is
			// up-to-date.
			var wantEnds []lsn.LogOffset
			for n := uint64(0); n < v.SnapshotChunks(); n++ {
				wantEnds = append(wantEnds, off(0, n))
			}
			for _, e := range ends {
				wantEnds = append(wantEnds, offs[e])
			}
			if last := wantEnds[len(wantEnds)-1]; last != v.End() {
				wantEnds = append(wantEnds, v.End())
			}
			if len(rs) != len(wantEnds) {
				t.Fatalf("%d responses, want %d", len(rs), len(wantEnds))
			}
			for i, r := range rs {
				if r.end != wantEnds[i] {
					t.Fatalf("response %d ends at %s, want %s", i, r.end, wantEnds[i])
				}
				if r.upToDate != (i == len(rs)-1) {
					t.Fatalf("response %d (%s → %s): up-to-date %v", i, r.from, r.end, r.upToDate)
				}
			}
		}

		t.Repeat(map[string]func(*rapid.T){
			"append": func(t *rapid.T) {
				if fedTx == len(log.txs) {
					log.gen(t)
				}
				x := log.txs[fedTx]
				if fedItems == len(x.items) {
					t.Skip("transaction fully fed; commit it first")
				}
				n := rapid.IntRange(1, len(x.items)-fedItems).Draw(t, "fragment")
				for i := fedItems; i < fedItems+n; i++ {
					must(t, b.AppendChange(id, off(x.tx, x.ops[i]), x.items[i]))
				}
				fedItems += n
			},
			"commit": func(t *rapid.T) {
				if fedTx == len(log.txs) || fedItems < len(log.txs[fedTx].items) {
					t.Skip("no complete transaction to commit")
				}
				x := log.txs[fedTx]
				must(t, b.Commit(id, off(x.tx, x.ops[len(x.ops)-1])))
				fedTx++
				fedItems = 0
				writerTxs = fedTx
			},
			"sync": func(t *rapid.T) { sync() },
			"reopen": func(t *rapid.T) {
				// Unsynced work is lost; the writer resumes at the durable commit.
				s = reopen(t, s, dir, opts)
				w = s.NewWriter()
				b = w.NewBatch()
				// The pipeline replays from the acked LSN, at or below the durable commit.
				from := rapid.IntRange(max(0, durable-3), durable).Draw(t, "replayFrom")
				for _, x := range log.txs[from:durable] {
					for i := range x.items {
						must(t, b.AppendChange(id, off(x.tx, x.ops[i]), x.items[i]))
					}
					must(t, b.Commit(id, off(x.tx, x.ops[len(x.ops)-1])))
				}
				fedTx, fedItems, writerTxs, sealedTxs = durable, 0, durable, durable
			},
			"check": func(t *rapid.T) { check() },
		})
		sync()
		check()
		s = reopen(t, s, dir, opts)
		check()
	})
}
