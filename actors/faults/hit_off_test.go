//go:build !faults

package faults

import "testing"

func TestHooksAreInertWithoutTheTag(t *testing.T) {
	s, err := Parse("a:panic,b:error,c:exit")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"a", "b", "c"} {
		if err := s.Hit(p); err != nil { // no panic, no exit either
			t.Fatalf("Hit(%q) = %v in a build without the faults tag", p, err)
		}
	}
	t.Setenv(EnvVar, "a:exit")
	if _, err := FromEnv(); err == nil {
		t.Fatal("FromEnv accepted faults it cannot inject")
	}
	t.Setenv(EnvVar, "")
	if s, err := FromEnv(); err != nil || s != nil {
		t.Fatalf("FromEnv without faults: %v %v", s, err)
	}
}
