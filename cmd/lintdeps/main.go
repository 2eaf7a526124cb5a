package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// Exit codes.
const (
	exitClean     = 0
	exitViolation = 1
	exitFailure   = 2
)

// run is the whole program: it checks the packages matched by the
// positional patterns (default ./...) once per build-tag set and prints one
// line per violation.
func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("lintdeps", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("C", ".", "module root to check")
	module := fs.String("module", "", "project module path (default: the main module of -C)")
	tagSets := fs.String("tagsets", ";faults", "build-tag sets to check, separated by ';' (an empty set is the default build; faults adds the fault-hook build)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: lintdeps [-C dir] [-module path] [-tagsets 'a,b;c'] [packages]\n\nEnforces the import layers of ARCHITECTURE §2 on non-test imports.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return exitFailure
	}
	patterns := fs.Args()
	if len(patterns) == 0 {
		patterns = []string{"./..."}
	}
	if *module == "" {
		m, err := modulePath(*dir)
		if err != nil {
			fmt.Fprintln(stderr, "lintdeps:", err)
			return exitFailure
		}
		*module = m
	}
	rules := Rules{Module: *module, Table: layerTable(), Families: restrictedFamilies()}

	// A violation found in the default build is printed once; one found only
	// with tags says which.
	var lines []string
	seen := map[string]bool{}
	for _, tags := range strings.Split(*tagSets, ";") {
		tags = strings.TrimSpace(tags)
		g, err := loadGraph(*dir, tags, patterns)
		if err != nil {
			fmt.Fprintln(stderr, "lintdeps:", err)
			return exitFailure
		}
		vs, err := Check(g, rules)
		if err != nil {
			fmt.Fprintln(stderr, "lintdeps:", err)
			return exitFailure
		}
		for _, v := range vs {
			line := v.String()
			if seen[line] {
				continue
			}
			seen[line] = true
			if tags != "" {
				line += " [-tags " + tags + "]"
			}
			lines = append(lines, line)
		}
	}
	for _, l := range lines {
		fmt.Fprintln(stdout, l)
	}
	if len(lines) > 0 {
		return exitViolation
	}
	return exitClean
}
