//go:build !faults

package faults

import (
	"fmt"
	"os"
)

// Enabled reports whether this binary was built with the faults tag.
const Enabled = false

// FromEnv returns no faults; a non-empty SHAPESYNC_FAULTS is an error,
// because the faults it asks for cannot happen in this binary.
func FromEnv() (*Set, error) {
	if v := os.Getenv(EnvVar); v != "" {
		return nil, fmt.Errorf("%s=%q is set but this binary was built without -tags faults; rebuild with it or unset the variable", EnvVar, v)
	}
	return nil, nil
}

// Hit does nothing in a binary built without the faults tag.
func (s *Set) Hit(string) error { return nil }
