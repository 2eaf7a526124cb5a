package lsn

import (
	"testing"

	"pgregory.net/rapid"
)

func TestParseOffset(t *testing.T) {
	t.Parallel()
	ok := map[string]LogOffset{
		"-1":                     BeforeAll,
		"-1_0":                   BeforeAll,
		"0_0":                    {Tx: 0, Op: 0},
		"0_inf":                  SnapshotEnd,
		"26800584_4":             {Tx: 26800584, Op: 4},
		"007_03":                 {Tx: 7, Op: 3},
		"18446744073709551615_2": {Tx: ^uint64(0), Op: 2},
	}
	for in, want := range ok {
		got, err := ParseOffset(in)
		if err != nil || got != want {
			t.Errorf("ParseOffset(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "now", "1", "1_", "_1", "1_2_3", "-2_0", "1_-2", " 1_2", "1_2 ", "1.5_2", "1_2.0", "18446744073709551616_0", "1_18446744073709551615", "1_INF", "+1_2"} {
		if _, err := ParseOffset(in); err == nil {
			t.Errorf("ParseOffset(%q) accepted; want has invalid format", in)
		}
	}
}

func TestOffsetOrderAndRoundTrip(t *testing.T) {
	t.Parallel()
	gen := rapid.Custom(func(t *rapid.T) LogOffset {
		if rapid.IntRange(0, 9).Draw(t, "before") == 0 {
			return BeforeAll
		}
		op := rapid.Uint64().Draw(t, "op")
		if rapid.Bool().Draw(t, "inf") {
			op = OpInf
		}
		return LogOffset{Tx: rapid.Uint64().Draw(t, "tx"), Op: op}
	})
	rapid.Check(t, func(t *rapid.T) {
		a, b, c := gen.Draw(t, "a"), gen.Draw(t, "b"), gen.Draw(t, "c")
		back, err := ParseOffset(a.String())
		if err != nil || back != a {
			t.Fatalf("round trip of %v gave %v, %v", a, back, err)
		}
		if a.Compare(b) != -b.Compare(a) {
			t.Fatalf("Compare not antisymmetric for %v, %v", a, b)
		}
		if a.Less(b) && b.Less(c) && !a.Less(c) {
			t.Fatalf("Compare not transitive for %v, %v, %v", a, b, c)
		}
		if !a.Before && !BeforeAll.Less(a) {
			t.Fatalf("-1 not below %v", a)
		}
	})
}

func TestLSNText(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(t *rapid.T) {
		l := LSN(rapid.Uint64().Draw(t, "lsn"))
		back, err := ParseLSN(l.String())
		if err != nil || back != l {
			t.Fatalf("round trip of %d gave %d, %v", uint64(l), uint64(back), err)
		}
	})
	if got, _ := ParseLSN("0/16B3748"); got != 0x16B3748 {
		t.Fatalf("ParseLSN(0/16B3748) = %x", uint64(got))
	}
	for _, bad := range []string{"", "/", "0/", "/1", "G/1", "1/2/3", "123456789/0"} {
		if _, err := ParseLSN(bad); err == nil {
			t.Errorf("ParseLSN(%q) accepted", bad)
		}
	}
}

func TestSnapshotVisibility(t *testing.T) {
	t.Parallel()
	s := Snapshot{Xmin: 100, Xmax: 105, Xip: []uint64{100, 103}}
	cases := map[uint32]bool{99: true, 100: false, 101: true, 102: true, 103: false, 104: true, 105: false, 106: false}
	for xid, want := range cases {
		if got := s.Visible(xid); got != want {
			t.Errorf("Visible(%d) = %v; want %v", xid, got, want)
		}
	}
	// Epoch-extended bounds across the 32-bit wrap: xmin is 2^32-2 of epoch 1,
	// xmax is 3 of epoch 2, and two transactions are still in progress.
	w := Snapshot{Xmin: 1<<33 - 2, Xmax: 1<<33 + 3, Xip: []uint64{1<<33 - 2, 1<<33 + 1}}
	wrap := map[uint32]bool{1<<32 - 3: true, 1<<32 - 2: false, 1<<32 - 1: true, 0: true, 1: false, 2: true, 3: false, 4: false}
	for xid, want := range wrap {
		if got := w.Visible(xid); got != want {
			t.Errorf("wrap Visible(%d) = %v; want %v", xid, got, want)
		}
	}
	if !w.AtOrAfterXmax(3) || w.AtOrAfterXmax(2) || w.AtOrAfterXmax(1<<32-1) {
		t.Errorf("AtOrAfterXmax wrong across the wrap")
	}
}
