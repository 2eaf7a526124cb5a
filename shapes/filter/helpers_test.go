package filter

import (
	"slices"

	"github.com/shapesync/shapesync/replication/events"
)

var items = TableKey{Schema: "public", Name: "items"}

var itemsRel = &events.Relation{ID: 16384, Schema: "public", Name: "items"}

// row builds a tuple from strings; nil is NULL.
func row(vals ...any) events.Tuple {
	t := make(events.Tuple, len(vals))
	for i, v := range vals {
		if v == nil {
			t[i] = events.Value{Null: true}
			continue
		}
		t[i] = events.Value{Text: v.(string)}
	}
	return t
}

func insert(r events.Tuple) *events.Change {
	return &events.Change{Kind: events.Insert, Relation: itemsRel, New: r}
}

func update(old, new events.Tuple) *events.Change {
	return &events.Change{Kind: events.Update, Relation: itemsRel, Old: old, New: new}
}

func del(old events.Tuple) *events.Change {
	return &events.Change{Kind: events.Delete, Relation: itemsRel, Old: old}
}

// sorted returns the ids sorted, failing loudly on duplicates through the
// caller's comparison (a duplicate makes the slices differ).
func sorted(ids []uint64) []uint64 {
	out := slices.Clone(ids)
	slices.Sort(out)
	return out
}

// bruteForce is the oracle: every shape's condition evaluated on old and new.
func bruteForce(conds map[uint64]Condition, c *events.Change) []uint64 {
	var out []uint64
	for id, cond := range conds {
		if c.Kind == events.Truncate ||
			(c.Old != nil && Matches(cond, c.Old)) ||
			(c.New != nil && Matches(cond, c.New)) {
			out = append(out, id)
		}
	}
	return sorted(out)
}
