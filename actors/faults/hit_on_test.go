//go:build faults

package faults

import (
	"errors"
	"testing"
	"time"
)

func TestHitFiresFromTheConfiguredHit(t *testing.T) {
	s, err := Parse("writer.append:error@3")
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 4; i++ {
		err := s.Hit("writer.append")
		if fired := errors.Is(err, ErrInjected); fired != (i >= 3) {
			t.Fatalf("hit %d: got %v", i, err)
		}
	}
	if s.Hits("writer.append") != 4 {
		t.Fatalf("hits: got %d, want 4", s.Hits("writer.append"))
	}
	if s.Hit("elsewhere") != nil {
		t.Fatal("an unconfigured point fired")
	}
}

func TestHitPanicsWithThePoint(t *testing.T) {
	s, _ := Parse("consumer.deliver:panic")
	defer func() {
		inj, ok := recover().(*Injected)
		if !ok || inj.Point != "consumer.deliver" {
			t.Fatalf("recovered %v", inj)
		}
	}()
	_ = s.Hit("consumer.deliver")
	t.Fatal("no panic")
}

func TestHitSleeps(t *testing.T) {
	s, _ := Parse("race.window:sleep=30ms")
	start := time.Now()
	if err := s.Hit("race.window"); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 30*time.Millisecond {
		t.Fatalf("slept %v, want at least 30ms", d)
	}
}
