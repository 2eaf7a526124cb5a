package snapshot

import (
	"reflect"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/shapesync/shapesync/replication/lsn"
)

func TestParsePgSnapshot(t *testing.T) {
	t.Parallel()
	ok := []struct {
		in   string
		want lsn.Snapshot
	}{
		{"745:745:", lsn.Snapshot{Xmin: 745, Xmax: 745}},
		{"745:749:745,747", lsn.Snapshot{Xmin: 745, Xmax: 749, Xip: []uint64{745, 747}}},
		{"0:0:", lsn.Snapshot{}},
		{"4294967296:4294967300:4294967299", lsn.Snapshot{Xmin: 1 << 32, Xmax: 1<<32 + 4, Xip: []uint64{1<<32 + 3}}},
		{"18446744073709551614:18446744073709551615:18446744073709551614", lsn.Snapshot{Xmin: 1<<64 - 2, Xmax: 1<<64 - 1, Xip: []uint64{1<<64 - 2}}},
	}
	for _, c := range ok {
		got, err := ParsePgSnapshot(c.in)
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("ParsePgSnapshot(%q) = %+v, %v; want %+v", c.in, got, err, c.want)
		}
		if f := FormatPgSnapshot(got); f != c.in {
			t.Errorf("FormatPgSnapshot(%+v) = %q; want %q", got, f, c.in)
		}
	}
	bad := []string{
		"", "745", "745:749", "745:749:745:1", ":749:", "745::", "a:749:", "745:b:",
		"-1:5:", "+1:5:", " 1:5:", "1:5: 2", "01:5:", "1:05:", "1:5:02",
		"5:1:",                    // xmin above xmax
		"5:9:4",                   // xip below xmin
		"5:9:9",                   // xip at xmax
		"5:9:7,6",                 // not ascending
		"5:9:6,6",                 // duplicate
		"5:9:6,",                  // empty element
		"5:9:,6",                  // empty element
		"1:18446744073709551616:", // overflow
	}
	for _, in := range bad {
		if got, err := ParsePgSnapshot(in); err == nil {
			t.Errorf("ParsePgSnapshot(%q) = %+v; want an error", in, got)
		} else if !strings.Contains(err.Error(), "parse snapshot") {
			t.Errorf("ParsePgSnapshot(%q): error %q does not say what failed", in, err)
		}
	}
}

// Every snapshot Postgres can produce survives Format → Parse.
func TestPgSnapshotRoundTrip(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(t *rapid.T) {
		xmin := rapid.Uint64Max(1<<63).Draw(t, "xmin")
		span := rapid.Uint64Max(1000).Draw(t, "span")
		s := lsn.Snapshot{Xmin: xmin, Xmax: xmin + span}
		for x := s.Xmin; x < s.Xmax; x++ {
			if rapid.Float64Range(0, 1).Draw(t, "in") < 0.1 {
				s.Xip = append(s.Xip, x)
			}
		}
		got, err := ParsePgSnapshot(FormatPgSnapshot(s))
		if err != nil {
			t.Fatal(err)
		}
		if got.Xmin != s.Xmin || got.Xmax != s.Xmax || !reflect.DeepEqual(append([]uint64{}, got.Xip...), append([]uint64{}, s.Xip...)) {
			t.Fatalf("round trip of %+v gave %+v", s, got)
		}
	})
}

// FuzzParsePgSnapshot: no input panics, and whatever is accepted is a
// consistent snapshot in canonical form.
func FuzzParsePgSnapshot(f *testing.F) {
	for _, seed := range []string{
		"745:745:", "745:749:745,747", "0:0:", "1:5:02", "5:9:7,6", "::", ":::", ",", "1:2:1,",
		"18446744073709551615:18446744073709551615:", "18446744073709551616:1:",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		s, err := ParsePgSnapshot(in)
		if err != nil {
			return
		}
		if FormatPgSnapshot(s) != in {
			t.Fatalf("accepted %q but it formats as %q", in, FormatPgSnapshot(s))
		}
		if s.Xmin > s.Xmax {
			t.Fatalf("accepted xmin %d > xmax %d", s.Xmin, s.Xmax)
		}
		for i, x := range s.Xip {
			if x < s.Xmin || x >= s.Xmax || (i > 0 && x <= s.Xip[i-1]) {
				t.Fatalf("accepted xip %v outside [%d,%d) or unsorted", s.Xip, s.Xmin, s.Xmax)
			}
		}
	})
}
