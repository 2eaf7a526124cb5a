package main

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// Graph is a build's non-test import graph: every package `go list -deps`
// reports, by import path.
type Graph map[string]Node

// Node is one package of the graph.
type Node struct {
	Imports  []string // import paths, as resolved by go list
	Module   string   // module path; "" for the standard library
	Standard bool
}

// Family is a restricted third-party module family.
type Family struct {
	Name    string
	Modules []string // module paths without a /vN suffix
}

// Entry is one row of the layer table, for one project package or subtree.
type Entry struct {
	Pattern    string   // module-relative: "shapes/where", or "http/..." for a subtree
	Layer      int      // for messages
	May        []string // patterns of the entries it may import directly
	NeverReach []string // patterns it must not reach by any path, whatever its imports may
	Modules    []string // restricted families it may import itself
	Never      []string // restricted families it must not reach by any path
	Rule       string   // the rule in words, quoted by violations
}

// Violation is one broken rule.
type Violation struct {
	Importer string   // module-relative path of the package that breaks the rule
	Target   string   // what it must not import: a package (module-relative when in the project); "" for an unknown package
	Chain    []string // Importer, …, Target: the shortest import path to it
	Reason   string
}

func (v Violation) String() string {
	if v.Target == "" {
		return fmt.Sprintf("%s: %s", v.Importer, v.Reason)
	}
	return fmt.Sprintf("%s: must not import %s (%s): %s", v.Importer, v.Target, v.Reason, strings.Join(v.Chain, " -> "))
}

// Rules is the checker's input besides the graph.
type Rules struct {
	Module   string // the project's module path
	Table    []Entry
	Families []Family
}

var majorSuffix = regexp.MustCompile(`/v[0-9]+$`)

// checker is Rules compiled for lookups.
type checker struct {
	Rules
	graph   Graph
	entries map[string]*Entry // by pattern
	family  map[string]string // module path (no /vN) → family name
}

// Check reports every violation of the rules in g, sorted. Only packages of
// the project module are judged; their paths in the output are relative to
// it. The rules:
//
//  1. Every project package must match a table entry.
//  2. A package's own imports of project packages must be in its entry's
//     May. Since every package is judged, what a package reaches is then
//     within the transitive closure of its May.
//  3. A package must not reach a pattern in its entry's NeverReach by any
//     path (only cmd/* reaches supervisor, even through a package that may
//     import it).
//  4. A package may import a restricted family only when its entry's Modules
//     names it. "Import" counts the package's own imports and what it reaches
//     through unrestricted third-party modules (a wrapper cannot launder an
//     import), but not what it reaches through another project package (that
//     one is judged itself) or through a restricted family it may import
//     (protoactor pulling in the Prometheus client is protoactor's business).
//  5. A package must not reach a family in its entry's Never by any path.
//
// A transitive violation (3, 5) is reported at the package nearest to the
// forbidden one that is itself bound by the rule, not again at everything
// above it, unless a package also has a path of its own to it.
func Check(g Graph, r Rules) ([]Violation, error) {
	c, err := compile(g, r)
	if err != nil {
		return nil, err
	}
	var out []Violation
	for _, path := range slices.Sorted(maps.Keys(g)) {
		rel, ok := c.rel(path)
		if !ok {
			continue
		}
		e := c.match(rel)
		if e == nil {
			out = append(out, Violation{Importer: rel,
				Reason: "not in the layer table: add it to ARCHITECTURE §2 and to layerTable in cmd/lintdeps/table.go"})
			continue
		}
		out = append(out, c.checkPackage(path, rel, e)...)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out, nil
}

func compile(g Graph, r Rules) (*checker, error) {
	c := &checker{Rules: r, graph: g, entries: map[string]*Entry{}, family: map[string]string{}}
	known := map[string]bool{}
	for _, f := range r.Families {
		known[f.Name] = true
		for _, m := range f.Modules {
			c.family[m] = f.Name
		}
	}
	for i := range r.Table {
		e := &r.Table[i]
		if c.entries[e.Pattern] != nil {
			return nil, fmt.Errorf("layer table: %s listed twice", e.Pattern)
		}
		c.entries[e.Pattern] = e
	}
	for _, e := range r.Table {
		for _, p := range concat(e.May, e.NeverReach) {
			if c.entries[p] == nil {
				return nil, fmt.Errorf("layer table: %s may import %s, which has no entry", e.Pattern, p)
			}
		}
		for _, f := range concat(e.Modules, e.Never) {
			if !known[f] {
				return nil, fmt.Errorf("layer table: %s names unknown module family %s", e.Pattern, f)
			}
		}
	}
	return c, nil
}

// rel returns path relative to the project module, or false for packages
// outside it.
func (c *checker) rel(path string) (string, bool) {
	if path == c.Module {
		return ".", true
	}
	rest, ok := strings.CutPrefix(path, c.Module+"/")
	return rest, ok
}

// match finds the entry for a module-relative path: an exact pattern, else
// the longest subtree pattern that contains it.
func (c *checker) match(rel string) *Entry {
	if e := c.entries[rel]; e != nil && !strings.HasSuffix(rel, "/...") {
		return e
	}
	var best *Entry
	for pattern, e := range c.entries {
		root, ok := strings.CutSuffix(pattern, "/...")
		if !ok || !hasPathPrefix(rel, root) {
			continue
		}
		if best == nil || len(pattern) > len(best.Pattern) {
			best = e
		}
	}
	return best
}

func hasPathPrefix(path, root string) bool {
	return path == root || strings.HasPrefix(path, root+"/")
}

// familyOf names the restricted family of a module path, or "".
func (c *checker) familyOf(module string) string {
	return c.family[majorSuffix.ReplaceAllString(module, "")]
}

// display is how a package appears in messages.
func (c *checker) display(path string) string {
	if rel, ok := c.rel(path); ok {
		return rel
	}
	return path
}
