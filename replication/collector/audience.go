package collector

import (
	"github.com/shapesync/shapesync/replication/events"
	"github.com/shapesync/shapesync/shapes/filter"
	"github.com/shapesync/shapesync/shapes/protocol"
)

// tableState is what the router remembers about a table with shapes,
// besides their conditions in the index.
//
// A consumer detects a changed relation (and invalidates its shape) when a
// change arrives under a relation it has not compared with its table yet.
// Before the index every change of a table reached every shape, so each
// consumer saw the first change under each new relation. The index would
// hide it from the shapes whose condition the row does not satisfy, and
// after a schema change column positions may not even mean what the
// conditions assume. So the first change under a relation other than the
// last one (pointer equality means "same schema", replication/decode) goes
// to every shape of the table, and a newly subscribed shape gets the
// table's next change whatever its condition.
type tableState struct {
	// rel is the relation of the table's last routed change.
	rel *events.Relation
	// fresh holds the shapes subscribed since that change. It is dropped,
	// never cleared, once delivered: a cleared map keeps its size, and
	// ranging over it would cost as much as it once held.
	fresh map[protocol.ShapeID]struct{}
}

func (r *router) joinTable(shape protocol.ShapeID, table tableName) {
	ts := r.tables[table]
	if ts == nil {
		ts = &tableState{}
		r.tables[table] = ts
	}
	if ts.fresh == nil {
		ts.fresh = map[protocol.ShapeID]struct{}{}
	}
	ts.fresh[shape] = struct{}{}
}

func (r *router) leaveTable(shape protocol.ShapeID, table tableName) {
	r.index.Remove(filter.TableKey(table), shape)
	if ts := r.tables[table]; ts != nil {
		delete(ts.fresh, shape)
		if r.index.Len(filter.TableKey(table)) == 0 {
			delete(r.tables, table)
		}
	}
}

// audience appends to dst the shapes the fragment's changes must reach, in
// no particular order and possibly more than once: per change, those whose
// condition its old or new row may satisfy (the index), every shape of the
// table for a TRUNCATE, a change without rows or a new relation, and the
// table's fresh shapes.
func (r *router) audience(f *events.Fragment, dst []protocol.ShapeID) []protocol.ShapeID {
	for i := range f.Changes {
		ch := &f.Changes[i]
		if ch.Relation == nil {
			continue
		}
		key := filter.KeyOf(ch.Relation)
		ts := r.tables[tableName(key)]
		if ts == nil {
			continue
		}
		if ch.Relation != ts.rel {
			ts.rel, ts.fresh = ch.Relation, nil
			dst = r.index.AllOf(key, dst)
			continue
		}
		if len(ts.fresh) > 0 {
			for id := range ts.fresh {
				dst = append(dst, id)
			}
			ts.fresh = nil
		}
		if ch.Old == nil && ch.New == nil {
			// Nothing to look up (Affected covers TRUNCATE itself): the
			// consumers decide.
			dst = r.index.AllOf(key, dst)
			continue
		}
		dst = r.index.Affected(key, ch, dst)
	}
	return dst
}
