package registry

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/shapesync/shapesync/replication/events"
	"github.com/shapesync/shapesync/shapes/protocol"
	"github.com/shapesync/shapesync/shapes/shape"
)

// Record is a shape as it is kept durably.
type Record struct {
	Handle       string
	ID           protocol.ShapeID
	Hash         string
	Body         []byte // encoded by encodeBody: the definition and its table
	SnapshotDone bool
}

// Records is the durable side of the registry, implemented on the shape
// store by the wiring. Every method may block; the registry calls them from
// its owned goroutine only.
type Records interface {
	// AllocateShapeID returns a fresh storage id, never reused.
	AllocateShapeID() protocol.ShapeID
	// Put writes a record durably (synced before it returns).
	Put(ctx context.Context, r Record) error
	// List returns every stored record.
	List(ctx context.Context) ([]Record, error)
	// Delete removes a shape's record and reclaims its log.
	Delete(ctx context.Context, r Record) error
}

// body is what a record keeps besides its keys: the definition and the
// table it was created on, so a restart rebuilds the shape exactly as it
// was without reading the catalog.
type body struct {
	Definition shape.Definition `json:"definition"`
	Table      *events.Table    `json:"table"`
}

func encodeBody(def shape.Definition, t *events.Table) ([]byte, error) {
	b, err := json.Marshal(body{Definition: def, Table: t})
	if err != nil {
		return nil, fmt.Errorf("encode shape record: %w", err)
	}
	return b, nil
}

func decodeBody(b []byte) (shape.Definition, *events.Table, error) {
	var v body
	if err := json.Unmarshal(b, &v); err != nil {
		return shape.Definition{}, nil, fmt.Errorf("decode shape record: %w", err)
	}
	if v.Table == nil {
		return shape.Definition{}, nil, fmt.Errorf("decode shape record: no table")
	}
	return v.Definition, v.Table, nil
}
