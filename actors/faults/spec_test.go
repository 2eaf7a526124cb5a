package faults

import (
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name  string
		spec  string
		point string
		want  Action
	}{
		{"ok - exit", "store.before_sync:exit", "store.before_sync", Action{Kind: Exit, From: 1}},
		{"ok - panic from the third hit", "consumer.deliver:panic@3", "consumer.deliver", Action{Kind: Panic, From: 3}},
		{"ok - error among others", " a:exit , writer.append:error ", "writer.append", Action{Kind: Error, From: 1}},
		{"ok - sleep", "snapshot.before_subscribe:sleep=250ms@2", "snapshot.before_subscribe", Action{Kind: Sleep, Sleep: 250 * time.Millisecond, From: 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Parse(tc.spec)
			if err != nil {
				t.Fatal(err)
			}
			got, ok := s.Lookup(tc.point)
			if !ok || got != tc.want {
				t.Fatalf("Lookup(%q) = %+v, %v; want %+v", tc.point, got, ok, tc.want)
			}
		})
	}
}

func TestParseRejectsBadSpecs(t *testing.T) {
	for _, tc := range []struct {
		name, spec, want string
	}{
		{"error - no action", "store.before_sync", "want <point>:<action>"},
		{"error - unknown action", "a:explode", "unknown action"},
		{"error - bad point name", "Store:exit", "lower-case"},
		{"error - empty point", ":exit", "empty point"},
		{"error - duplicate point", "a:exit,a:panic", "configured twice"},
		{"error - sleep without duration", "a:sleep", "needs a duration"},
		{"error - sleep with a bad duration", "a:sleep=soon", "positive Go duration"},
		{"error - hit number zero", "a:exit@0", "hit number"},
		{"error - argument on exit", "a:exit=1", "takes no argument"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.spec)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Parse(%q): got %v, want an error containing %q", tc.spec, err, tc.want)
			}
		})
	}
}

func TestEmptySpecAndNilSetHaveNoFaults(t *testing.T) {
	s, err := Parse("  ")
	if err != nil || len(s.Points()) != 0 {
		t.Fatalf("empty spec: %v %v", s.Points(), err)
	}
	var none *Set
	if _, ok := none.Lookup("a"); ok || none.Hit("a") != nil {
		t.Fatal("a nil Set has a fault")
	}
}

func FuzzParse(f *testing.F) {
	for _, seed := range []string{"", "a:exit", "a.b:panic@2,c:error", "x:sleep=1ms", "a:", ":", ",,", "a:sleep=-1s", "a:exit@x"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		s, err := Parse(spec) // must never panic
		if err != nil {
			return
		}
		for _, p := range s.Points() {
			a, ok := s.Lookup(p)
			if !ok || a.From < 1 || a.Kind < Exit || a.Kind > Sleep || (a.Kind == Sleep) != (a.Sleep > 0) {
				t.Fatalf("Parse(%q) accepted an invalid action %+v for %q", spec, a, p)
			}
		}
	})
}
