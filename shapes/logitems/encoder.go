package logitems

import (
	"errors"
	"fmt"

	"github.com/shapesync/shapesync/replication/events"
	"github.com/shapesync/shapesync/replication/lsn"
)

// Replica is the shape's replica mode (SHAPE_API §12.3): how much of a row
// updates and deletes carry.
type Replica uint8

// The replica modes. The zero value is the protocol's default.
const (
	ReplicaDefault Replica = iota
	ReplicaFull
)

// Item is one encoded log entry: its offset in the shape log and the JSON
// text of the message, ready to be stored and sent. JSON is owned by the
// item: the encoder never writes to it again.
type Item struct {
	Offset lsn.LogOffset
	JSON   []byte
}

// Tx identifies the transaction a change belongs to.
type Tx struct {
	// CommitLSN is the tx part of every offset and the "lsn" header.
	CommitLSN lsn.LSN
	// Xid is reported in the "txids" header.
	Xid uint32
}

// Config describes the shape an Encoder writes for.
type Config struct {
	// Schema and Table name the shape's root table; they appear in the
	// "relation" header and in keys (changes of a partition are reported
	// under the root).
	Schema, Table string
	// Relation is the layout the changes' tuples follow: column names and
	// type OIDs. An encoder is bound to it; after a relation change that the
	// shape survives, build a new encoder.
	Relation *events.Relation
	// Columns are the shape's columns as indexes into Relation.Columns, in
	// the order they are written to "value" (and the order of snapshot
	// rows). ColumnIndexes maps names to indexes.
	Columns []int
	// KeyColumns are indexes into Relation.Columns in primary-key order; for
	// a table without a primary key, all columns in attribute order. Each
	// must also be in Columns (SHAPE_API §5.3 guarantees it).
	KeyColumns []int
	// KeyBaseTypes optionally overrides, per key column, the type OID used
	// to canonicalise key text (CanonicalKeyText); give the base type of
	// domain columns here. Zero entries, or a nil slice, use the relation's
	// type OID.
	KeyBaseTypes []uint32
	Replica      Replica
}

// Encoder writes the log items of one shape. It holds scratch buffers, so it
// is not safe for concurrent use: each consumer owns one.
type Encoder struct {
	relHeader []byte // `"relation":["schema","table"]`
	keyPrefix []byte // raw `"schema"."table"`
	cols      []encColumn
	keys      []keyColumn
	replica   Replica
	minLen    int // tuples must hold at least this many values

	scratch []byte // the item being written
	rowKey  []byte // raw key of the item's row
	oldKey  []byte // raw keys of a key-changing update
	newKey  []byte
}

type encColumn struct {
	idx   int    // index into the relation's tuple
	name  []byte // JSON member name with colon: `"title":`
	isKey bool
}

type keyColumn struct {
	idx int // index into the relation's tuple
	pos int // index into the shape's columns (snapshot rows)
	oid uint32
}

// NewEncoder checks cfg and precomputes the parts of every item that depend
// only on the shape.
func NewEncoder(cfg Config) (*Encoder, error) {
	if cfg.Relation == nil {
		return nil, errors.New("logitems: encoder needs a relation")
	}
	rel := cfg.Relation
	if len(cfg.Columns) == 0 {
		return nil, fmt.Errorf("logitems: shape on %s.%s has no columns", cfg.Schema, cfg.Table)
	}
	if len(cfg.KeyColumns) == 0 {
		return nil, fmt.Errorf("logitems: shape on %s.%s has no key columns; pass every column for a table without a primary key", cfg.Schema, cfg.Table)
	}
	if cfg.KeyBaseTypes != nil && len(cfg.KeyBaseTypes) != len(cfg.KeyColumns) {
		return nil, fmt.Errorf("logitems: %d key base types for %d key columns", len(cfg.KeyBaseTypes), len(cfg.KeyColumns))
	}
	if cfg.Replica > ReplicaFull {
		return nil, fmt.Errorf("logitems: unknown replica mode %d", cfg.Replica)
	}
	e := &Encoder{replica: cfg.Replica}
	e.relHeader = append(e.relHeader, `"relation":[`...)
	e.relHeader = AppendJSONString(e.relHeader, cfg.Schema)
	e.relHeader = append(e.relHeader, ',')
	e.relHeader = AppendJSONString(e.relHeader, cfg.Table)
	e.relHeader = append(e.relHeader, ']')
	e.keyPrefix = appendKeyRelation(nil, cfg.Schema, cfg.Table)

	pos := make(map[int]int, len(cfg.Columns))
	for p, idx := range cfg.Columns {
		if idx < 0 || idx >= len(rel.Columns) {
			return nil, fmt.Errorf("logitems: column index %d out of range for %s.%s with %d columns", idx, rel.Schema, rel.Name, len(rel.Columns))
		}
		if _, dup := pos[idx]; dup {
			return nil, fmt.Errorf("logitems: column %q listed twice", rel.Columns[idx].Name)
		}
		pos[idx] = p
		name := AppendJSONString(nil, rel.Columns[idx].Name)
		e.cols = append(e.cols, encColumn{idx: idx, name: append(name, ':')})
		e.minLen = max(e.minLen, idx+1)
	}
	for k, idx := range cfg.KeyColumns {
		p, ok := pos[idx]
		if !ok {
			if idx < 0 || idx >= len(rel.Columns) {
				return nil, fmt.Errorf("logitems: key column index %d out of range for %s.%s", idx, rel.Schema, rel.Name)
			}
			return nil, fmt.Errorf("logitems: key column %q is not one of the shape's columns", rel.Columns[idx].Name)
		}
		if e.cols[p].isKey {
			return nil, fmt.Errorf("logitems: key column %q listed twice", rel.Columns[idx].Name)
		}
		e.cols[p].isKey = true
		oid := rel.Columns[idx].TypeOID
		if cfg.KeyBaseTypes != nil && cfg.KeyBaseTypes[k] != 0 {
			oid = cfg.KeyBaseTypes[k]
		}
		e.keys = append(e.keys, keyColumn{idx: idx, pos: p, oid: oid})
	}
	return e, nil
}

// ColumnIndexes maps column names to indexes into rel.Columns, in the order
// given.
func ColumnIndexes(rel *events.Relation, names []string) ([]int, error) {
	out := make([]int, 0, len(names))
	for _, n := range names {
		found := -1
		for i, c := range rel.Columns {
			if c.Name == n {
				found = i
				break
			}
		}
		if found < 0 {
			return nil, fmt.Errorf("logitems: column %q not found on %s.%s", n, rel.Schema, rel.Name)
		}
		out = append(out, found)
	}
	return out, nil
}

// appendKeyOf appends the raw key of a relation-ordered tuple.
func (e *Encoder) appendKeyOf(dst []byte, t events.Tuple) []byte {
	dst = append(dst, e.keyPrefix...)
	for _, k := range e.keys {
		v := t[k.idx]
		dst = appendKeySection(dst, canonicalKeyText(k.oid, v.Text), v.Null)
	}
	return dst
}

// finish copies the scratch buffer into an item of exactly its size: items
// live on in caches and storage queues, so they must not pin spare capacity.
func (e *Encoder) finish(off lsn.LogOffset) Item {
	return Item{Offset: off, JSON: append(make([]byte, 0, len(e.scratch)), e.scratch...)}
}
