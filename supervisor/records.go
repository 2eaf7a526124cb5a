package supervisor

import (
	"context"
	"fmt"

	"github.com/shapesync/shapesync/shapes/protocol"
	"github.com/shapesync/shapesync/shapes/registry"
	"github.com/shapesync/shapesync/shapes/storage"
)

// shapeRecords keeps the registry's records in the shape store
// (registry.Records over storage).
type shapeRecords struct {
	store *storage.StoreView
}

func (r shapeRecords) open() (*storage.Store, error) {
	s := r.store.Store()
	if s == nil {
		return nil, fmt.Errorf("the shape store is not open")
	}
	return s, nil
}

func (r shapeRecords) AllocateShapeID() protocol.ShapeID {
	s, err := r.open()
	if err != nil {
		return 0
	}
	return protocol.ShapeID(s.AllocateShapeID())
}

func (r shapeRecords) Put(_ context.Context, rec registry.Record) error {
	s, err := r.open()
	if err != nil {
		return err
	}
	return s.PutShape(storage.ShapeRecord{
		Handle: rec.Handle, ID: uint64(rec.ID), DefinitionHash: rec.Hash, Definition: rec.Body,
		State: storage.ShapeState{SnapshotStarted: true, SnapshotDone: rec.SnapshotDone},
	})
}

func (r shapeRecords) List(context.Context) ([]registry.Record, error) {
	s, err := r.open()
	if err != nil {
		return nil, err
	}
	list, err := s.ListShapes()
	if err != nil {
		return nil, err
	}
	out := make([]registry.Record, len(list))
	for i, rec := range list {
		out[i] = registry.Record{Handle: rec.Handle, ID: protocol.ShapeID(rec.ID), Hash: rec.DefinitionHash, Body: rec.Definition, SnapshotDone: rec.State.SnapshotDone}
	}
	return out, nil
}

func (r shapeRecords) Delete(ctx context.Context, rec registry.Record) error {
	s, err := r.open()
	if err != nil {
		return err
	}
	if err := s.DeleteShapeRecord(rec.Handle); err != nil {
		return fmt.Errorf("delete the record of shape %s: %w", rec.Handle, err)
	}
	if _, err := s.DeleteShape(ctx, uint64(rec.ID), "invalidated"); err != nil {
		return fmt.Errorf("reclaim the log of shape %s: %w", rec.Handle, err)
	}
	return nil
}
