//go:build faults

package faults

import (
	"fmt"
	"os"
	"time"
)

// Enabled reports whether this binary was built with the faults tag.
const Enabled = true

// FromEnv parses SHAPESYNC_FAULTS.
func FromEnv() (*Set, error) { return Parse(os.Getenv(EnvVar)) }

// Hit runs the fault configured for point, if it is due: exit, panic,
// return an error wrapping ErrInjected, or sleep and return nil.
func (s *Set) Hit(point string) error {
	a, ok := s.due(point)
	if !ok {
		return nil
	}
	switch a.Kind {
	case Exit:
		fmt.Fprintf(os.Stderr, "faults: exit at %s\n", point)
		os.Exit(ExitCode)
	case Panic:
		panic(&Injected{Point: point})
	case Error:
		return fmt.Errorf("fault point %s: %w", point, ErrInjected)
	case Sleep:
		time.Sleep(a.Sleep) // the fault is the delay
	}
	return nil
}

// due counts a hit of point and returns the action if it fires now.
func (s *Set) due(name string) (Action, bool) {
	if s == nil {
		return Action{}, false
	}
	p, ok := s.points[name]
	if !ok {
		return Action{}, false
	}
	if p.hits.Add(1) < int64(p.action.From) {
		return Action{}, false
	}
	return p.action, true
}
