package consumer

import (
	"errors"
	"reflect"
	"testing"

	"pgregory.net/rapid"

	"github.com/shapesync/shapesync/replication/lsn"
)

func TestStateRoundTrip(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(t *rapid.T) {
		v := Visibility{
			Known:     rapid.Bool().Draw(t, "known"),
			Filtering: rapid.Bool().Draw(t, "filtering"),
			Snapshot: lsn.Snapshot{
				Xmin: rapid.Uint64().Draw(t, "xmin"),
				Xmax: rapid.Uint64().Draw(t, "xmax"),
				Xip:  rapid.SliceOfN(rapid.Uint64(), 0, 20).Draw(t, "xip"),
				WAL:  lsn.LSN(rapid.Uint64().Draw(t, "wal")),
			},
		}
		if len(v.Snapshot.Xip) == 0 {
			v.Snapshot.Xip = nil
		}
		got, err := DecodeState(EncodeState(v))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, v) {
			t.Fatalf("round trip: %+v, want %+v", got, v)
		}
	})
}

// State stored by a build before the WAL position (version 1) still reads,
// with the position unknown, so filtering continues rather than ending early.
func TestDecodeStateVersion1(t *testing.T) {
	t.Parallel()
	v2 := EncodeState(Visibility{Known: true, Filtering: true, Snapshot: lsn.Snapshot{Xmin: 1, Xmax: 9, Xip: []uint64{3}, WAL: 77}})
	v1 := append([]byte{1}, v2[1:len(v2)-8]...)
	got, err := DecodeState(v1)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Filtering || got.Snapshot.WAL != 0 || got.Snapshot.Xmax != 9 || len(got.Snapshot.Xip) != 1 {
		t.Fatalf("version 1 state read as %+v", got)
	}
}

func TestDecodeStateRejectsDamage(t *testing.T) {
	t.Parallel()
	good := EncodeState(Visibility{Known: true, Filtering: true, Snapshot: lsn.Snapshot{Xmin: 1, Xmax: 9, Xip: []uint64{3, 4}}})
	tests := []struct {
		name string
		in   []byte
	}{
		{"error - unknown version", append([]byte{9}, good[1:]...)},
		{"error - too short", good[:10]},
		{"error - truncated xip list", good[:len(good)-1]},
		{"error - trailing bytes", append(append([]byte(nil), good...), 0)},
		{"error - unknown flags", append([]byte{good[0], 0x80}, good[2:]...)},
		{"error - absurd xip count", append(append([]byte(nil), good[:18]...), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if _, err := DecodeState(tc.in); !errors.Is(err, errBadState) {
				t.Fatalf("DecodeState: err %v, want errBadState", err)
			}
		})
	}
	if v, err := DecodeState(nil); err != nil || v.Known {
		t.Fatalf("empty state: %+v, %v; want unknown visibility", v, err)
	}
}

func FuzzDecodeState(f *testing.F) {
	f.Add(EncodeState(Visibility{Known: true, Filtering: true, Snapshot: lsn.Snapshot{Xmin: 5, Xmax: 7, Xip: []uint64{6}}}))
	f.Add([]byte{1, 0})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := DecodeState(b)
		if err != nil {
			return
		}
		again, err := DecodeState(EncodeState(v))
		if err != nil || !reflect.DeepEqual(again, v) {
			t.Fatalf("accepted %x as %+v, which does not survive a round trip: %+v, %v", b, v, again, err)
		}
	})
}
