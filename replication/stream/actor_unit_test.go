package stream

import (
	"context"
	"strings"
	"testing"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/shapesync/shapesync/actors"
	"github.com/shapesync/shapesync/shapes/protocol"
)

// Items keep their kind: payloads their position and bytes, markers only
// their wal_end (the txn-builder rejects an item that has both).
func TestProtocolItems(t *testing.T) {
	t.Parallel()
	in := []WalItem{
		{Kind: KindXLogData, WALStart: 0x100, Data: []byte("B")},
		{Kind: KindXLogData, WALStart: 0, Data: []byte("R")},
		{Kind: KindWalEnd, WalEnd: 0x200, WALStart: 0x150},
	}
	got := protocolItems(in)
	want := []protocol.WalItem{
		{WALStart: 0x100, Data: []byte("B")},
		{WALStart: 0, Data: []byte("R")},
		{WalEnd: 0x200},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d items", len(got))
	}
	for i := range want {
		if got[i].WALStart != want[i].WALStart || got[i].WalEnd != want[i].WalEnd || string(got[i].Data) != string(want[i].Data) {
			t.Fatalf("item %d: got %+v; want %+v", i, got[i], want[i])
		}
	}
}

func TestActorConfigValidate(t *testing.T) {
	t.Parallel()
	k := actors.NewKit(nil, actors.ForTesting())
	t.Cleanup(func() { k.Shutdown(context.Background()) })
	pid := actor.NewPID(k.System().Address(), "txn-builder")
	ok := ActorConfig{Kit: k, Slot: "electric_slot_x", Publication: "electric_publication_x", StartLSN: 0x1000, Builder: pid}
	if err := ok.validate(); err != nil {
		t.Fatalf("valid config: %v", err)
	}
	for _, tc := range []struct {
		name string
		edit func(*ActorConfig)
		want string
	}{
		{"error - no kit", func(c *ActorConfig) { c.Kit = nil }, "Kit is nil"},
		{"error - no builder", func(c *ActorConfig) { c.Builder = nil }, "Builder is nil"},
		{"error - start 0/0", func(c *ActorConfig) { c.StartLSN = 0 }, "StartLSN is 0/0"},
		{"error - negative window", func(c *ActorConfig) { c.Window = -1 }, "Window"},
		{"error - bad slot name", func(c *ActorConfig) { c.Slot = "Bad-Slot" }, "slot"},
		{"error - no publication", func(c *ActorConfig) { c.Publication = "" }, "publication"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := ok
			tc.edit(&cfg)
			err := cfg.validate()
			if err == nil || !strings.Contains(strings.ToLower(err.Error()), strings.ToLower(tc.want)) {
				t.Fatalf("validate = %v; want an error mentioning %q", err, tc.want)
			}
		})
	}
	spec := ChildSpec(ok)
	if spec.Label != "replication" || spec.Policy != actors.Coalesce || spec.Producer == nil {
		t.Fatalf("ChildSpec = %+v", spec)
	}
}
