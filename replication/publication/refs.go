package publication

import (
	"maps"
	"slices"
)

// Refs counts, per table OID, the shapes that need the table published.
// The publication actor owns one: AddRelation and RemoveRelation say when
// the count crosses zero, the only moments that need SQL (AddTable,
// RemoveTable). It is pure state, not safe for concurrent use.
//
// Tables are counted by OID, not by name, because a table dropped and
// recreated under the same name is a different table (RELIABILITY C3).
type Refs struct {
	counts map[uint32]int
}

// AddRelation counts one more shape on the table and reports whether it is
// the first, i.e. whether the table must be added to the publication.
func (r *Refs) AddRelation(oid uint32) (needSQL bool) {
	if r.counts == nil {
		r.counts = map[uint32]int{}
	}
	r.counts[oid]++
	return r.counts[oid] == 1
}

// RemoveRelation counts one shape less and reports whether it was the last,
// i.e. whether the table may be dropped from the publication. Removing a
// table that is not counted is a no-op (a removal can race a failed add).
func (r *Refs) RemoveRelation(oid uint32) (needSQL bool) {
	n, ok := r.counts[oid]
	if !ok {
		return false
	}
	if n <= 1 {
		delete(r.counts, oid)
		return true
	}
	r.counts[oid] = n - 1
	return false
}

// Count is the number of shapes counted on the table.
func (r *Refs) Count(oid uint32) int { return r.counts[oid] }

// Wanted lists the tables with at least one shape, in ascending OID order:
// the set the reconciler compares with Members.
func (r *Refs) Wanted() []uint32 {
	return slices.Sorted(maps.Keys(r.counts))
}
