package service

import (
	"bytes"
	"fmt"
	"testing"

	"pgregory.net/rapid"
)

func TestOutputRing(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		cap    int
		writes []string
		want   string
	}{
		{"ok - fits", 16, []string{"ab", "cd\n"}, "abcd\n"},
		{"ok - exactly full", 4, []string{"ab", "cd"}, "abcd"},
		{"ok - wraps and drops to the next line", 8, []string{"one\n", "two\n", "six\n"}, "[… 4 earlier bytes dropped …]\ntwo\nsix\n"},
		{"ok - a write bigger than the buffer", 4, []string{"xy", "0123456789"}, "[… 8 earlier bytes dropped …]\n6789"},
		{"ok - partial line dropped", 6, []string{"abcdef\ngh"}, "[… 7 earlier bytes dropped …]\ngh"},
		{"ok - cut at a line end keeps the line", 6, []string{"abc\ndef\ngh"}, "[… 4 earlier bytes dropped …]\ndef\ngh"},
		{"ok - wrapped write cut mid-line", 5, []string{"ab", "cd", "ef\n"}, "[… 7 earlier bytes dropped …]\n"},
		{"ok - empty", 4, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newOutputRing(tc.cap)
			for _, w := range tc.writes {
				if n, err := r.Write([]byte(w)); n != len(w) || err != nil {
					t.Fatalf("Write(%q) = %d, %v", w, n, err)
				}
			}
			if got := r.String(); got != tc.want {
				t.Errorf("String() = %q, want %q", got, tc.want)
			}
		})
	}
}

// The ring holds exactly the last cap bytes of everything written, counts
// the rest as dropped, and String starts at the first full line held.
func TestOutputRingKeepsTheTail(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(t *rapid.T) {
		capacity := rapid.IntRange(1, 64).Draw(t, "cap")
		writes := rapid.SliceOf(rapid.SliceOf(rapid.SampledFrom([]byte("ab\n")))).Draw(t, "writes")
		r := newOutputRing(capacity)
		var all []byte
		for _, w := range writes {
			_, _ = r.Write(w)
			all = append(all, w...)
		}
		held := all[max(0, len(all)-capacity):]
		dropped := len(all) - len(held)
		want := string(held)
		if dropped > 0 {
			if i := bytes.IndexByte(held, '\n'); i >= 0 && all[dropped-1] != '\n' {
				dropped += i + 1
				held = held[i+1:]
			}
			want = fmt.Sprintf("[… %d earlier bytes dropped …]\n%s", dropped, held)
		}
		if got := r.String(); got != want {
			t.Fatalf("after writes %q: String() = %q, want %q", writes, got, want)
		}
	})
}

func TestParseStat(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		stat  string
		comm  string
		state string
		pgrp  int
		ok    bool
	}{
		{"ok - plain", "123 (shapesync) S 1 123 123 0", "shapesync", "S", 123, true},
		{"ok - comm with spaces and parens", "9 (a (b) c) R 2 77 77", "a (b) c", "R", 77, true},
		{"error - truncated", "9 (x) R 2", "", "", 0, false},
		{"error - no comm", "garbage", "", "", 0, false},
		{"error - pgrp not a number", "9 (x) R 2 y", "", "", 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			comm, state, pgrp, ok := parseStat(tc.stat)
			if comm != tc.comm || state != tc.state || pgrp != tc.pgrp || ok != tc.ok {
				t.Errorf("parseStat(%q) = %q %q %d %t, want %q %q %d %t", tc.stat, comm, state, pgrp, ok, tc.comm, tc.state, tc.pgrp, tc.ok)
			}
		})
	}
}
