package faults

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// EnvVar names the environment variable FromEnv reads.
const EnvVar = "SHAPESYNC_FAULTS"

// ExitCode is the status a process exits with at an "exit" fault, so a
// harness can tell an injected crash from a real one.
const ExitCode = 86

// ErrInjected is wrapped by the error an "error" fault returns.
var ErrInjected = errors.New("injected fault")

// Kind is what a fault does when its point is hit.
type Kind int

const (
	Exit  Kind = iota + 1 // os.Exit(ExitCode) at once: no deferred calls, no flush
	Panic                 // panic with an *Injected value
	Error                 // Hit returns an error wrapping ErrInjected
	Sleep                 // sleep, then carry on (widens a race window)
)

func (k Kind) String() string {
	switch k {
	case Exit:
		return "exit"
	case Panic:
		return "panic"
	case Error:
		return "error"
	case Sleep:
		return "sleep"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Action is one configured fault.
type Action struct {
	Kind  Kind
	Sleep time.Duration // for Sleep
	From  int           // fire from this hit on (1-based)
}

// Injected is the panic value of a "panic" fault.
type Injected struct{ Point string }

func (i *Injected) Error() string { return "injected panic at fault point " + i.Point }

// Set is a parsed SHAPESYNC_FAULTS: the configured points with their hit
// counters. A nil *Set has no faults.
type Set struct {
	points map[string]*point
}

type point struct {
	action Action
	hits   atomic.Int64
}

// Parse reads a SHAPESYNC_FAULTS value. An empty spec gives an empty Set.
func Parse(spec string) (*Set, error) {
	s := &Set{points: make(map[string]*point)}
	if strings.TrimSpace(spec) == "" {
		return s, nil
	}
	for _, item := range strings.Split(spec, ",") {
		item = strings.TrimSpace(item)
		name, act, ok := strings.Cut(item, ":")
		if !ok {
			return nil, fmt.Errorf("%s: %q: want <point>:<action>", EnvVar, item)
		}
		if err := checkPoint(name); err != nil {
			return nil, fmt.Errorf("%s: %q: %w", EnvVar, item, err)
		}
		if _, dup := s.points[name]; dup {
			return nil, fmt.Errorf("%s: point %q configured twice", EnvVar, name)
		}
		a, err := parseAction(act)
		if err != nil {
			return nil, fmt.Errorf("%s: %q: %w", EnvVar, item, err)
		}
		s.points[name] = &point{action: a}
	}
	return s, nil
}

func checkPoint(name string) error {
	if name == "" {
		return errors.New("empty point name")
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return fmt.Errorf("point name %q: use lower-case letters, digits, '.', '_' and '-'", name)
		}
	}
	return nil
}

func parseAction(s string) (Action, error) {
	a := Action{From: 1}
	s, from, hasFrom := strings.Cut(s, "@")
	if hasFrom {
		n, err := strconv.Atoi(from)
		if err != nil || n < 1 {
			return Action{}, fmt.Errorf("@%s: want a hit number >= 1", from)
		}
		a.From = n
	}
	kind, arg, hasArg := strings.Cut(s, "=")
	switch kind {
	case "exit":
		a.Kind = Exit
	case "panic":
		a.Kind = Panic
	case "error":
		a.Kind = Error
	case "sleep":
		if !hasArg {
			return Action{}, errors.New("sleep needs a duration: sleep=200ms")
		}
		d, err := time.ParseDuration(arg)
		if err != nil || d <= 0 {
			return Action{}, fmt.Errorf("sleep=%s: want a positive Go duration such as 200ms", arg)
		}
		a.Kind, a.Sleep = Sleep, d
		return a, nil
	default:
		return Action{}, fmt.Errorf("unknown action %q: use exit, panic, error or sleep=<duration>", kind)
	}
	if hasArg {
		return Action{}, fmt.Errorf("action %s takes no argument", kind)
	}
	return a, nil
}

// Lookup returns the action configured for point.
func (s *Set) Lookup(point string) (Action, bool) {
	if s == nil {
		return Action{}, false
	}
	p, ok := s.points[point]
	if !ok {
		return Action{}, false
	}
	return p.action, true
}

// Points lists the configured point names.
func (s *Set) Points() []string {
	if s == nil {
		return nil
	}
	out := make([]string, 0, len(s.points))
	for name := range s.points {
		out = append(out, name)
	}
	return out
}

// Hits is how often point was hit (always 0 without the faults tag).
func (s *Set) Hits(point string) int64 {
	if s == nil {
		return 0
	}
	if p, ok := s.points[point]; ok {
		return p.hits.Load()
	}
	return 0
}
