package main

import (
	"fmt"
	"slices"
	"strings"
)

// visit is a BFS state: a package, and whether the path to it from the
// package being judged ran through third-party, unrestricted packages only
// (then a restricted family found there counts as the judged package's own
// import, rule 3).
type visit struct {
	pkg    string
	direct bool
}

// checkPackage walks everything path reaches, breadth first so each
// violation carries a shortest chain, and stops at the first forbidden
// package on every path.
func (c *checker) checkPackage(path, rel string, e *Entry) []Violation {
	parent := map[visit]visit{}
	seen := map[visit]bool{}
	var queue []visit
	push := func(from *visit, to visit) {
		if seen[to] {
			return
		}
		seen[to] = true
		if from != nil {
			parent[to] = *from
		}
		queue = append(queue, to)
	}
	for _, imp := range c.graph[path].Imports {
		push(nil, visit{imp, true})
	}
	reported := map[string]bool{}
	var out []Violation
	report := func(v visit, key, reason string) {
		if reported[key] {
			return
		}
		chain := []string{v.pkg}
		for cur, ok := parent[v]; ok; cur, ok = parent[cur] {
			chain = append(chain, cur.pkg)
		}
		chain = append(chain, path)
		slices.Reverse(chain)
		if c.blamedEarlier(chain, key) {
			return // but another path to the same target may still be ours
		}
		reported[key] = true
		for i := range chain {
			chain[i] = c.display(chain[i])
		}
		out = append(out, Violation{Importer: rel, Target: c.display(v.pkg), Chain: chain, Reason: reason})
	}

	for len(queue) > 0 {
		v := queue[0]
		queue = queue[1:]
		n := c.graph[v.pkg]
		if n.Standard {
			continue // the standard library imports nothing restricted
		}
		direct := false
		if depRel, ok := c.rel(v.pkg); ok {
			dep := c.match(depRel)
			if dep == nil {
				continue // reported once as not in the table
			}
			switch {
			case slices.Contains(e.NeverReach, dep.Pattern):
				report(v, "pkg:"+depRel, fmt.Sprintf("%s must never reach %s, even transitively", e.Pattern, dep.Pattern))
				continue
			// A project package reached with direct set is an import of the
			// judged package itself (third-party packages never import ours).
			case v.direct && !slices.Contains(e.May, dep.Pattern):
				report(v, "pkg:"+depRel, e.Rule)
				continue
			}
		} else if fam := c.familyOf(n.Module); fam != "" {
			switch {
			case slices.Contains(e.Never, fam):
				report(v, "family:"+fam, fmt.Sprintf("%s must never reach %s, even transitively", e.Pattern, fam))
				continue
			case v.direct && !slices.Contains(e.Modules, fam):
				report(v, "family:"+fam, fmt.Sprintf("%s is allowed only in %s", fam, c.allowedIn(fam)))
				continue
			}
		} else {
			direct = v.direct
		}
		for _, imp := range n.Imports {
			push(&v, visit{imp, direct})
		}
	}
	return out
}

// blamedEarlier reports whether a transitive violation is already some
// other package's own: the chain goes through a project package that is
// bound by the same ban, or that makes an import it may not make (the root
// cause, reported at that package). Repeating it for everything above would
// only add noise.
func (c *checker) blamedEarlier(chain []string, key string) bool {
	kind, target, _ := strings.Cut(key, ":")
	for i := 1; i < len(chain)-1; i++ {
		midRel, ok := c.rel(chain[i])
		if !ok {
			continue
		}
		me := c.match(midRel)
		if me == nil {
			continue
		}
		switch kind {
		case "pkg":
			if te := c.match(target); te != nil && slices.Contains(me.NeverReach, te.Pattern) {
				return true
			}
		case "family":
			if slices.Contains(me.Never, target) {
				return true
			}
		}
		if nextRel, ok := c.rel(chain[i+1]); ok {
			if ne := c.match(nextRel); ne != nil && !slices.Contains(me.May, ne.Pattern) {
				return true
			}
		}
		if fam, ok := c.ownRestricted(chain[i+1:]); ok && !slices.Contains(me.Modules, fam) {
			return true
		}
	}
	return false
}

// ownRestricted reports the family that rest (what follows a project
// package on a chain) begins with, when it reaches it through unrestricted
// third-party packages only: then it is that project package's own import
// (rule 4).
func (c *checker) ownRestricted(rest []string) (string, bool) {
	for _, p := range rest {
		if _, ok := c.rel(p); ok {
			return "", false
		}
		if fam := c.familyOf(c.graph[p].Module); fam != "" {
			return fam, true
		}
	}
	return "", false
}

// allowedIn lists the table patterns that may import fam, for messages.
func (c *checker) allowedIn(fam string) string {
	var in []string
	for _, e := range c.Table {
		if slices.Contains(e.Modules, fam) {
			in = append(in, e.Pattern)
		}
	}
	if len(in) == 0 {
		return "no package"
	}
	return strings.Join(in, ", ")
}
