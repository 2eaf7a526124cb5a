package stream

import (
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/shapesync/shapesync/actors"
	"github.com/shapesync/shapesync/replication/decode"
	"github.com/shapesync/shapesync/replication/events"
	"github.com/shapesync/shapesync/replication/lsn"
	"github.com/shapesync/shapesync/shapes/protocol"
)

// received is one WalBatch as the fake builder got it.
type received struct {
	epoch, seq uint64
	sender     *actors.PID
	items      []protocol.WalItem
}

// commitSeen is a commit fragment decoded from the stream.
type commitSeen struct {
	commitLSN, endLSN lsn.LSN
}

// fakeBuilder plays the txn-builder: it records every WalBatch with its
// sender, decodes it with replication/decode (reset on a new epoch, as the
// real one does) and answers BatchDone to the sender, or holds the credit
// while holding is on.
type fakeBuilder struct {
	mu       sync.Mutex
	batches  []received
	dec      *decode.Builder
	epoch    uint64
	inserted map[uint64][]string // per epoch, in arrival order
	commits  map[uint64][]commitSeen
	err      error
	hold     bool
	held     []received
}

// releaseCredits makes the fake builder return every held credit and stop
// holding.
type releaseCredits struct{}

func newFakeBuilder(hold bool) *fakeBuilder {
	return &fakeBuilder{dec: decode.NewBuilder(decode.Options{}), inserted: map[uint64][]string{}, commits: map[uint64][]commitSeen{}, hold: hold}
}

func (b *fakeBuilder) spawn(t *testing.T, k *actors.Kit) *actors.PID {
	t.Helper()
	pid, err := k.SpawnRoot(actors.ChildSpec{Label: "txn-builder", Bound: actors.Count(64), Policy: actors.Credit,
		Producer: func() actor.Actor { return actor.ReceiveFunc(b.receive) }})
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

func (b *fakeBuilder) receive(ctx actor.Context) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch m := ctx.Message().(type) {
	case *protocol.WalBatch:
		r := received{epoch: m.Epoch, seq: m.Seq, sender: ctx.Sender(), items: m.Items}
		b.batches = append(b.batches, r)
		b.decode(m)
		if b.hold {
			b.held = append(b.held, r)
			return
		}
		ctx.Send(r.sender, &protocol.BatchDone{Epoch: r.epoch, Seq: r.seq})
	case *releaseCredits:
		b.hold = false
		for _, r := range b.held {
			ctx.Send(r.sender, &protocol.BatchDone{Epoch: r.epoch, Seq: r.seq})
		}
		b.held = nil
	}
}

func (b *fakeBuilder) decode(m *protocol.WalBatch) {
	if m.Epoch < b.epoch || b.err != nil {
		return
	}
	if m.Epoch > b.epoch {
		b.epoch = m.Epoch
		b.dec.Reset()
	}
	for _, it := range m.Items {
		var evs []events.Event
		switch {
		case it.WalEnd != 0 && it.Data == nil && it.WALStart == 0:
			evs = b.dec.WalEnd(it.WalEnd)
		case it.WalEnd == 0 && it.Data != nil:
			var err error
			if evs, err = b.dec.ApplyWAL(it.Data, it.WALStart); err != nil {
				b.err = err
				return
			}
		default:
			b.err = fmt.Errorf("item is neither a payload nor a plain wal_end marker: %+v", it)
			return
		}
		for _, ev := range evs {
			f, ok := ev.(*events.Fragment)
			if !ok {
				continue
			}
			for _, ch := range f.Changes {
				if ch.Kind == events.Insert {
					b.inserted[m.Epoch] = append(b.inserted[m.Epoch], ch.New[0].Text)
				}
			}
			if f.Commit {
				b.commits[m.Epoch] = append(b.commits[m.Epoch], commitSeen{commitLSN: f.CommitLSN, endLSN: f.EndLSN})
			}
		}
	}
}

func (b *fakeBuilder) all() []received {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.batches)
}

// epochs lists the epochs seen, in order of first appearance.
func (b *fakeBuilder) epochs() []uint64 {
	var out []uint64
	for _, r := range b.all() {
		if !slices.Contains(out, r.epoch) {
			out = append(out, r.epoch)
		}
	}
	return out
}

func (b *fakeBuilder) insertedIn(epoch uint64) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.inserted[epoch])
}

func (b *fakeBuilder) commitsIn(epoch uint64) []commitSeen {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.commits[epoch])
}

func (b *fakeBuilder) decodeErr() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.err
}

// waitInserted waits until epoch's inserted ids are want, failing early on
// anything that is not a prefix of it.
func (b *fakeBuilder) waitInserted(t *testing.T, epoch uint64, want ...string) {
	t.Helper()
	checkFor(t, actorWait, func() error {
		if err := b.decodeErr(); err != nil {
			t.Fatalf("decoding the stream: %v", err)
		}
		got := b.insertedIn(epoch)
		if len(got) > len(want) || !slices.Equal(got, want[:len(got)]) {
			t.Fatalf("epoch %d inserted %v; want %v", epoch, got, want)
		}
		if len(got) < len(want) {
			return fmt.Errorf("epoch %d inserted %v so far; want %v", epoch, got, want)
		}
		return nil
	})
}

// checkSeqs checks that epoch's batches came from the replication actor
// with seqs 1, 2, 3, … and returns their sender.
func (b *fakeBuilder) checkSeqs(t *testing.T, epoch uint64) *actors.PID {
	t.Helper()
	var sender *actors.PID
	var next uint64 = 1
	for _, r := range b.all() {
		if r.epoch != epoch {
			continue
		}
		if r.seq != next {
			t.Fatalf("epoch %d: batch seq %d; want %d", epoch, r.seq, next)
		}
		next++
		if r.sender == nil || (sender != nil && !r.sender.Equal(sender)) {
			t.Fatalf("epoch %d: batch %d from %v; earlier ones from %v", epoch, r.seq, r.sender, sender)
		}
		sender = r.sender
	}
	if sender == nil {
		t.Fatalf("no batches in epoch %d", epoch)
	}
	return sender
}
