package filter

import (
	"fmt"

	"github.com/shapesync/shapesync/replication/events"
)

// TableKey names a table as the stream does (schema and name): shapes are
// defined on names, and a relation whose OID changed under the same name is
// still routed to them, so the consumer can see the relation change.
type TableKey struct {
	Schema string
	Name   string
}

// KeyOf is the key of the relation a change belongs to.
func KeyOf(rel *events.Relation) TableKey {
	return TableKey{Schema: rel.Schema, Name: rel.Name}
}

func (k TableKey) String() string { return k.Schema + "." + k.Name }

// maxPaths bounds how many index paths one shape may occupy. OR inside AND
// multiplies paths ((a OR b) AND (c OR d) takes four); past the bound the
// whole condition is evaluated as one residual instead, so a pathological
// where clause costs one predicate call per change rather than memory
// exponential in its size.
const maxPaths = 64

// Index routes changes to shapes. S identifies a shape (the collector uses
// a dense id or the handle). Not safe for concurrent use; see the package
// comment.
type Index[S comparable] struct {
	tables map[TableKey]*tableIndex[S]
	arrays arrayCache
	seen   map[S]struct{}
}

type tableIndex[S comparable] struct {
	root node[S]
	// placed is the condition each shape was placed with, replayed by
	// Remove to find the same paths.
	placed map[S]Condition
}

// New returns an empty index.
func New[S comparable]() *Index[S] {
	return &Index[S]{tables: map[TableKey]*tableIndex[S]{}, seen: map[S]struct{}{}}
}

// Add registers a shape on a table, replacing the condition it had there
// before. It fails, changing nothing, when the condition is malformed.
func (x *Index[S]) Add(table TableKey, shape S, cond Condition) error {
	if err := validate(cond); err != nil {
		return fmt.Errorf("filter: add shape %v on %s: %w", shape, table, err)
	}
	t := x.tables[table]
	if t == nil {
		t = &tableIndex[S]{placed: map[S]Condition{}}
		x.tables[table] = t
	}
	if old, ok := t.placed[shape]; ok {
		t.root.place([]Condition{old}, shape, false)
	}
	if paths(cond) > maxPaths {
		whole := cond
		cond = Residual{Matches: func(row events.Tuple) bool { return Matches(whole, row) }}
	}
	t.placed[shape] = cond
	t.root.place([]Condition{cond}, shape, true)
	return nil
}

// Remove unregisters a shape from a table and reports whether it was there.
func (x *Index[S]) Remove(table TableKey, shape S) bool {
	t := x.tables[table]
	if t == nil {
		return false
	}
	cond, ok := t.placed[shape]
	if !ok {
		return false
	}
	t.root.place([]Condition{cond}, shape, false)
	delete(t.placed, shape)
	if len(t.placed) == 0 {
		delete(x.tables, table)
	}
	return true
}

// Len is the number of shapes registered on a table.
func (x *Index[S]) Len(table TableKey) int {
	if t := x.tables[table]; t != nil {
		return len(t.placed)
	}
	return 0
}

// AllOf appends every shape of the table to dst, in no particular order:
// the audience of a TRUNCATE or a relation message.
func (x *Index[S]) AllOf(table TableKey, dst []S) []S {
	if t := x.tables[table]; t != nil {
		for s := range t.placed {
			dst = append(dst, s)
		}
	}
	return dst
}

// Affected appends to dst, once each and in no particular order, the shapes
// of the table whose condition matches the change's old or new row (every
// shape for a TRUNCATE). Inserts match New, deletes Old, updates either, so
// a row moving out of a shape still reaches it.
func (x *Index[S]) Affected(table TableKey, change *events.Change, dst []S) []S {
	if change == nil {
		return dst
	}
	if change.Kind == events.Truncate {
		return x.AllOf(table, dst)
	}
	t := x.tables[table]
	if t == nil {
		return dst
	}
	start := len(dst)
	for _, row := range [2]events.Tuple{change.Old, change.New} {
		if row == nil {
			continue
		}
		x.arrays.reset()
		dst = t.root.collect(row, &x.arrays, dst)
	}
	return x.dedup(dst, start)
}

// dedupSmall is the result size up to which a quadratic scan beats a map.
const dedupSmall = 16

// dedup removes repeated shapes from dst[start:], keeping first positions.
func (x *Index[S]) dedup(dst []S, start int) []S {
	found := dst[start:]
	if len(found) < 2 {
		return dst
	}
	kept := found[:0]
	if len(found) <= dedupSmall {
		for i, s := range found {
			dup := false
			for _, k := range kept {
				if k == s {
					dup = true
					break
				}
			}
			if !dup {
				kept = append(kept, found[i])
			}
		}
	} else {
		for _, s := range found {
			if _, dup := x.seen[s]; !dup {
				x.seen[s] = struct{}{}
				kept = append(kept, s)
			}
		}
		clear(x.seen)
	}
	return dst[:start+len(kept)]
}

// paths counts the index paths a condition occupies, saturating past
// maxPaths.
func paths(c Condition) int {
	switch c := c.(type) {
	case In:
		return max(len(c.Values), 1)
	case And:
		n := 1
		for _, t := range c.Terms {
			n = min(n*paths(t), maxPaths+1)
		}
		return n
	case Or:
		n := 0
		for _, b := range c.Branches {
			n = min(n+paths(b), maxPaths+1)
		}
		return max(n, 1)
	}
	return 1
}
