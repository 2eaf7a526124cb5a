package builder

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"pgregory.net/rapid"

	"github.com/shapesync/shapesync/actors"
	"github.com/shapesync/shapesync/replication/decode"
	"github.com/shapesync/shapesync/replication/events"
	"github.com/shapesync/shapesync/replication/lsn"
	"github.com/shapesync/shapesync/shapes/protocol"
)

var errBadItem = errors.New("bad item")

// fakeDecoder turns an item whose payload is one byte n into n events
// numbered walStart*10+i, and the payload "!" into an error, so queue tests
// control exactly how many events each item yields.
type fakeDecoder struct{ resets int }

func (d *fakeDecoder) ApplyWAL(data []byte, start lsn.LSN) ([]events.Event, error) {
	if string(data) == "!" {
		return nil, errBadItem
	}
	var out []events.Event
	for i := range int(data[0]) {
		out = append(out, &events.WalEnd{LSN: start*10 + lsn.LSN(i)})
	}
	return out, nil
}

func (d *fakeDecoder) WalEnd(l lsn.LSN) []events.Event { return []events.Event{&events.WalEnd{LSN: l}} }
func (d *fakeDecoder) Reset()                          { d.resets++ }

// item yields n events numbered id*10 …
func item(id uint64, n int) protocol.WalItem {
	return protocol.WalItem{WALStart: lsn.LSN(id), Data: []byte{byte(n)}}
}

func batch(epoch, seq uint64, items ...protocol.WalItem) *protocol.WalBatch {
	return &protocol.WalBatch{Epoch: epoch, Seq: seq, Items: items}
}

var pump = &actors.PID{Id: "replication"}

func sentLSN(t *testing.T, out Output) lsn.LSN {
	t.Helper()
	if out.Send == nil {
		t.Fatalf("nothing sent: %+v", out)
	}
	return out.Send.Event.(*events.WalEnd).LSN
}

func credits(out Output) []uint64 {
	var seqs []uint64
	for _, c := range out.Credits {
		seqs = append(seqs, c.Done.Seq)
	}
	return seqs
}

// ok fails t on a queue error: ok(t)(q.Offer(…)).
func ok(t testing.TB) func(Output, error) Output {
	return func(out Output, err error) Output {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
}

func TestQueueOneEventInFlight(t *testing.T) {
	t.Parallel()
	q := NewQueue(&fakeDecoder{})
	out := ok(t)(q.Offer(batch(1, 1, item(1, 2), item(2, 1)), pump))
	if got := sentLSN(t, out); got != 10 || out.Send.Seq != 1 || out.Send.Epoch != 1 {
		t.Fatalf("first event %+v", out.Send)
	}
	// A second batch while the first event is in flight sends nothing.
	if out := ok(t)(q.Offer(batch(1, 2, item(3, 1)), pump)); out.Send != nil || len(out.Credits) != 0 {
		t.Fatalf("sent %+v while an event was in flight", out)
	}
	var got []lsn.LSN
	var done []uint64
	for q.InFlight() != nil {
		ev := q.InFlight()
		got = append(got, ev.Event.(*events.WalEnd).LSN)
		out := ok(t)(q.Handled(ev.Epoch, ev.Seq))
		done = append(done, credits(out)...)
		if out.Send != nil && out.Send.Seq != ev.Seq+1 {
			t.Fatalf("seq %d after %d", out.Send.Seq, ev.Seq)
		}
	}
	if want := []lsn.LSN{10, 11, 20, 30}; !slices.Equal(got, want) {
		t.Fatalf("events %v; want %v", got, want)
	}
	if !slices.Equal(done, []uint64{1, 2}) {
		t.Fatalf("credits %v; want [1 2]", done)
	}
	if q.Pending() != 0 {
		t.Fatalf("%d batches still pending", q.Pending())
	}
}

func TestQueueCredits(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		first *protocol.WalBatch
		want  []uint64 // credits returned by Offer of first
	}{
		{"ok - a batch with no events is credited at once", batch(1, 7, item(1, 0), item(2, 0)), []uint64{7}},
		{"ok - an empty batch is credited at once", batch(1, 8), []uint64{8}},
		{"ok - a batch with events waits for them", batch(1, 9, item(1, 0), item(2, 1)), nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			q := NewQueue(&fakeDecoder{})
			out := ok(t)(q.Offer(tc.first, pump))
			if got := credits(out); !slices.Equal(got, tc.want) {
				t.Fatalf("credits %v; want %v", got, tc.want)
			}
			for _, c := range out.Credits {
				if c.To != pump || c.Done.Epoch != 1 {
					t.Fatalf("credit %+v goes to %v", c.Done, c.To)
				}
			}
		})
	}
}

func TestQueueCreditsAfterLastEventHandled(t *testing.T) {
	t.Parallel()
	q := NewQueue(&fakeDecoder{})
	ok(t)(q.Offer(batch(1, 1, item(1, 1)), pump))
	// An eventless batch behind one in flight keeps its place in line.
	if out := ok(t)(q.Offer(batch(1, 2, item(2, 0)), pump)); len(out.Credits) != 0 {
		t.Fatalf("batch 2 credited ahead of batch 1: %v", credits(out))
	}
	out := ok(t)(q.Handled(1, 1))
	if got := credits(out); !slices.Equal(got, []uint64{1, 2}) {
		t.Fatalf("credits %v; want [1 2]", got)
	}
}

func TestQueueEpochs(t *testing.T) {
	t.Parallel()
	dec := &fakeDecoder{}
	q := NewQueue(dec)
	ok(t)(q.Offer(batch(5, 1, item(1, 2)), pump))
	ok(t)(q.Offer(batch(5, 2, item(2, 1)), pump))
	resetsBefore := dec.resets

	out := ok(t)(q.Offer(batch(6, 1, item(7, 1)), pump))
	current := out.Send
	if !out.Reset || dec.resets != resetsBefore+1 {
		t.Fatalf("a newer epoch must reset the decoder: %+v, resets %d", out, dec.resets)
	}
	if got := sentLSN(t, out); got != 70 || out.Send.Epoch != 6 {
		t.Fatalf("new epoch sends %+v", out.Send)
	}
	if len(out.Credits) != 0 || q.Pending() != 1 {
		t.Fatalf("old epoch's batches must be dropped, not credited: %v, pending %d", credits(out), q.Pending())
	}
	// The old epoch's answer and batches are stale.
	if out := ok(t)(q.Handled(5, 1)); !out.Stale || out.Send != nil {
		t.Fatalf("old answer not stale: %+v", out)
	}
	if out := ok(t)(q.Offer(batch(5, 3, item(3, 1)), pump)); !out.Stale || q.Pending() != 1 {
		t.Fatalf("old batch not dropped: %+v", out)
	}
	if out := ok(t)(q.Handled(6, 99)); !out.Stale {
		t.Fatalf("answer for another seq not stale: %+v", out)
	}
	out = ok(t)(q.Handled(current.Epoch, current.Seq))
	if out.Stale || !slices.Equal(credits(out), []uint64{1}) {
		t.Fatalf("the event in flight was not accepted or its batch not credited: %+v", out)
	}
}

func TestQueueWalEndMarker(t *testing.T) {
	t.Parallel()
	q := NewQueue(&fakeDecoder{})
	out := ok(t)(q.Offer(batch(1, 1, protocol.WalItem{WalEnd: 0x1234}), pump))
	if got := sentLSN(t, out); got != 0x1234 {
		t.Fatalf("marker became %v", got)
	}
}

func TestQueueErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		items []protocol.WalItem
		want  error
	}{
		{"error - decoder error", []protocol.WalItem{item(1, 1), {WALStart: 2, Data: []byte("!")}}, errBadItem},
		{"error - item with data and a marker", []protocol.WalItem{item(1, 1), {WALStart: 2, Data: []byte{1}, WalEnd: 9}}, ErrBothDataAndWalEnd},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			q := NewQueue(&fakeDecoder{})
			out := ok(t)(q.Offer(batch(1, 1, tc.items...), pump))
			// The events before the bad item are delivered first.
			if got := sentLSN(t, out); got != 10 {
				t.Fatalf("first event %v", got)
			}
			if _, err := q.Handled(1, 1); !errors.Is(err, tc.want) {
				t.Fatalf("err = %v; want %v", err, tc.want)
			}
			if _, err := q.Offer(batch(2, 1, item(5, 1)), pump); !errors.Is(err, tc.want) {
				t.Fatalf("a broken queue must keep failing, got %v", err)
			}
		})
	}
}

// TestQueueProperties feeds random batches with random interleavings of
// arrivals and answers and checks the contract: events leave in decode
// order numbered 1, 2, 3, …, never two in flight, and every batch is
// credited exactly once, in order, only after its last event was handled.
func TestQueueProperties(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(t *rapid.T) {
		nBatches := rapid.IntRange(1, 8).Draw(t, "batches")
		var batches []*protocol.WalBatch
		var want []lsn.LSN
		lastEvent := map[uint64]int{} // batch seq -> index in want of its last event
		id := uint64(0)
		for b := range nBatches {
			seq := uint64(b + 1)
			var items []protocol.WalItem
			for range rapid.IntRange(0, 4).Draw(t, "items") {
				id++
				n := rapid.IntRange(0, 3).Draw(t, "events")
				items = append(items, item(id, n))
				for i := range n {
					want = append(want, lsn.LSN(id*10+uint64(i)))
				}
			}
			lastEvent[seq] = len(want) - 1
			batches = append(batches, batch(1, seq, items...))
		}

		q := NewQueue(&fakeDecoder{})
		var got []lsn.LSN
		var credited []uint64
		var inflight *protocol.Event
		next := 0
		record := func(out Output, err error) {
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range out.Credits {
				if last := lastEvent[c.Done.Seq]; last >= len(got) || (last >= 0 && inflight != nil) {
					t.Fatalf("batch %d credited before its last event (#%d) was handled (got %d events, in flight %v)",
						c.Done.Seq, last, len(got), inflight != nil)
				}
				credited = append(credited, c.Done.Seq)
			}
			if out.Send != nil {
				if inflight != nil {
					t.Fatalf("event %d sent while %d in flight", out.Send.Seq, inflight.Seq)
				}
				if out.Send.Seq != uint64(len(got)+1) {
					t.Fatalf("seq %d; want %d", out.Send.Seq, len(got)+1)
				}
				inflight = out.Send
				got = append(got, out.Send.Event.(*events.WalEnd).LSN)
			}
		}
		for next < len(batches) || inflight != nil {
			if next < len(batches) && (inflight == nil || rapid.Bool().Draw(t, "offer")) {
				record(q.Offer(batches[next], pump))
				next++
				continue
			}
			ev := inflight
			inflight = nil
			record(q.Handled(ev.Epoch, ev.Seq))
		}
		if !slices.Equal(got, want) {
			t.Fatalf("events %v; want %v", got, want)
		}
		var wantCredits []uint64
		for _, b := range batches {
			wantCredits = append(wantCredits, b.Seq)
		}
		if !slices.Equal(credited, wantCredits) {
			t.Fatalf("credits %v; want %v", credited, wantCredits)
		}
	})
}

// TestQueueWithTheRealDecoder runs hand-framed pgoutput through
// decode.Builder: a relation, then one transaction split over two batches.
func TestQueueWithTheRealDecoder(t *testing.T) {
	t.Parallel()
	q := NewQueue(decode.NewBuilder(decode.Options{}))
	all := append([]protocol.WalItem{xlog(0, pgRelation(1, "items", 'f', "id", "v"))}, txn(700, 0x100, "1", "2")...)
	var got []string
	handle := func(out Output, err error) Output {
		t.Helper()
		out = ok(t)(out, err)
		for out.Send != nil {
			got = append(got, fmt.Sprintf("%T", out.Send.Event))
			out = ok(t)(q.Handled(out.Send.Epoch, out.Send.Seq))
		}
		return out
	}
	handle(q.Offer(batch(1, 1, all[:3]...), pump))
	handle(q.Offer(batch(1, 2, all[3:]...), pump))
	if want := []string{"*events.RelationEvent", "*events.Fragment"}; !slices.Equal(got, want) {
		t.Fatalf("events %v; want %v", got, want)
	}
}
