// Package faults holds the test-build fault hooks of shapesync
// (ARCHITECTURE §4 (i), RELIABILITY §harness): named points in the code
// where a chaos scenario can make the process exit, panic, fail or sleep.
//
// A hook is a call at the point, on a *Set the wiring hands to producers:
//
//	if err := f.Hit("store.before_sync"); err != nil { … } // injected error
//
// The Set comes from FromEnv, which reads SHAPESYNC_FAULTS:
//
//	SHAPESYNC_FAULTS=<point>:<action>[@<n>][,…]
//	action: exit | panic | error | sleep=<Go duration>
//	@n:     fire from the n-th hit of the point on (default: every hit)
//
// e.g. SHAPESYNC_FAULTS=store.before_sync:exit@3,consumer.deliver:sleep=200ms.
//
// Hooks act only in binaries built with the build tag "faults"; without
// it Hit is a no-op that returns nil, and FromEnv refuses a non-empty
// SHAPESYNC_FAULTS so that a scenario never silently runs without its
// faults. There is no package-level mutable state: hit counters live in
// the Set. chaos/service builds the tagged binary once per test run
// (BuildOptions.Tags = ["faults"]) and starts it as a child process.
//
// Layer 0 with package actors: it imports only the standard library, may
// be imported by any package that hosts a fault point, and must never
// import another shapesync package.
package faults
