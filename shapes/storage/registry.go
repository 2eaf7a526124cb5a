package storage

import (
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"
)

// ShapeState is the registry's state of a shape, kept in its H| record.
type ShapeState struct {
	SnapshotStarted bool
	SnapshotDone    bool
	Provisional     bool // created in fallback mode (G1): kept only if slot continuity holds
}

// ShapeRecord is a registered shape: H|<handle> holds it and
// D|<hash>|<handle> indexes it by definition hash.
type ShapeRecord struct {
	Handle         string
	ID             uint64
	DefinitionHash string
	Definition     []byte // opaque (canonical JSON owned by the registry)
	State          ShapeState
}

func (r ShapeRecord) validate() error {
	if r.ID == 0 {
		return fmt.Errorf("shape record %q: %w", r.Handle, ErrInvalidShapeID)
	}
	if err := checkName("handle", r.Handle); err != nil {
		return err
	}
	return checkHash(r.DefinitionHash)
}

func encodeShapeRecord(r ShapeRecord) []byte {
	b := make([]byte, 0, 16+len(r.DefinitionHash)+len(r.Definition))
	b = append(b, valueVersion)
	b = appendU64(b, r.ID)
	var flags byte
	if r.State.SnapshotStarted {
		flags |= 1
	}
	if r.State.SnapshotDone {
		flags |= 2
	}
	if r.State.Provisional {
		flags |= 4
	}
	b = append(b, flags)
	b = appendBytesField(b, []byte(r.DefinitionHash))
	return appendBytesField(b, r.Definition)
}

func decodeShapeRecord(handle string, v []byte) (ShapeRecord, error) {
	d := decoder{b: v}
	d.version()
	r := ShapeRecord{Handle: handle, ID: d.u64()}
	flags := d.byte1()
	r.DefinitionHash = string(d.bytesField())
	if def := d.bytesField(); len(def) > 0 {
		r.Definition = append([]byte(nil), def...)
	}
	if err := d.end(); err != nil {
		return ShapeRecord{}, err
	}
	if flags&^7 != 0 {
		return ShapeRecord{}, fmt.Errorf("%w: unknown shape record flags %#x", ErrCorrupt, flags)
	}
	r.State = ShapeState{SnapshotStarted: flags&1 != 0, SnapshotDone: flags&2 != 0, Provisional: flags&4 != 0}
	if err := r.validate(); err != nil {
		return ShapeRecord{}, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	return r, nil
}

// PutShape writes (or rewrites) a shape record and its definition index
// entry, durably: it returns after db.Sync(). A handle keeps its id for life.
func (s *Store) PutShape(r ShapeRecord) error {
	if err := r.validate(); err != nil {
		return err
	}
	if err := s.enter(); err != nil {
		return err
	}
	defer s.life.RUnlock()
	if s.blockedReason(r.ID) != "" {
		return fmt.Errorf("put shape %q (id %d): %w", r.Handle, r.ID, ErrShapeBlocked)
	}
	err := s.db.Update(func(txn *badger.Txn) error {
		hk := shapeKey(r.Handle)
		if it, err := txn.Get(hk); err == nil {
			var old ShapeRecord
			if err := it.Value(func(v []byte) (err error) { old, err = decodeShapeRecord(r.Handle, v); return err }); err != nil {
				return err
			}
			if old.ID != r.ID {
				return fmt.Errorf("handle %q belongs to shape %d, not %d", r.Handle, old.ID, r.ID)
			}
			if old.DefinitionHash != r.DefinitionHash {
				if err := txn.Delete(definitionKey(old.DefinitionHash, r.Handle)); err != nil {
					return err
				}
			}
		} else if !errors.Is(err, badger.ErrKeyNotFound) {
			return err
		}
		if err := txn.Set(hk, encodeShapeRecord(r)); err != nil {
			return err
		}
		return txn.Set(definitionKey(r.DefinitionHash, r.Handle), nil)
	})
	if err == nil {
		err = s.db.Sync()
	}
	if err != nil {
		return fmt.Errorf("put shape %q: %w", r.Handle, err)
	}
	s.seeID(r.ID)
	s.state.Lock()
	s.records[r.ID] = recordRef{handle: r.Handle, hash: r.DefinitionHash}
	s.state.Unlock()
	return nil
}

// GetShape reads a shape record by handle.
func (s *Store) GetShape(handle string) (ShapeRecord, bool, error) {
	if err := s.enter(); err != nil {
		return ShapeRecord{}, false, err
	}
	defer s.life.RUnlock()
	var rec ShapeRecord
	err := s.db.View(func(txn *badger.Txn) error {
		it, err := txn.Get(shapeKey(handle))
		if err != nil {
			return err
		}
		return it.Value(func(v []byte) (err error) { rec, err = decodeShapeRecord(handle, v); return err })
	})
	switch {
	case errors.Is(err, badger.ErrKeyNotFound):
		return ShapeRecord{}, false, nil
	case err != nil:
		return ShapeRecord{}, false, fmt.Errorf("get shape %q: %w", clip([]byte(handle)), err)
	}
	return rec, true, nil
}

// ListShapes returns every shape record, ordered by handle.
func (s *Store) ListShapes() ([]ShapeRecord, error) {
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.life.RUnlock()
	var out []ShapeRecord
	err := s.db.View(func(txn *badger.Txn) error {
		return scan(txn, prefixShape, func(k, v []byte) error {
			rec, err := decodeShapeRecord(string(k[len(prefixShape):]), v)
			if err != nil {
				return err
			}
			out = append(out, rec)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list shapes: %w", err)
	}
	return out, nil
}

// HandlesForHash returns the handles registered for a definition hash.
func (s *Store) HandlesForHash(hash string) ([]string, error) {
	if err := checkHash(hash); err != nil {
		return nil, err
	}
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.life.RUnlock()
	p := definitionPrefix(hash)
	var out []string
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: p})
		defer it.Close()
		for it.Seek(p); it.ValidForPrefix(p); it.Next() {
			out = append(out, string(it.Item().Key()[len(p):]))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("handles for hash %q: %w", clip([]byte(hash)), err)
	}
	return out, nil
}

// DeleteShapeRecord removes a handle's H| and D| keys durably (the shape's
// log is removed by DeleteShape). Deleting a missing handle is not an error.
func (s *Store) DeleteShapeRecord(handle string) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.life.RUnlock()
	var id uint64
	err := s.db.Update(func(txn *badger.Txn) error {
		it, err := txn.Get(shapeKey(handle))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		} else if err != nil {
			return err
		}
		var rec ShapeRecord
		if err := it.Value(func(v []byte) (err error) { rec, err = decodeShapeRecord(handle, v); return err }); err != nil {
			return err
		}
		id = rec.ID
		if err := txn.Delete(definitionKey(rec.DefinitionHash, handle)); err != nil {
			return err
		}
		return txn.Delete(shapeKey(handle))
	})
	if err == nil {
		err = s.db.Sync()
	}
	if err != nil {
		return fmt.Errorf("delete shape record %q: %w", clip([]byte(handle)), err)
	}
	if id != 0 {
		s.state.Lock()
		delete(s.records, id)
		s.state.Unlock()
	}
	return nil
}

// PutStackMeta durably stores the S|meta value (schema version, slot name,
// system id, timeline: opaque here, owned by the caller) for the D8/B12 checks.
func (s *Store) PutStackMeta(v []byte) error { return s.putSystem(keyStackMeta, v) }

// StackMeta reads S|meta; false when it was never written.
func (s *Store) StackMeta() ([]byte, bool, error) { return s.getSystem(keyStackMeta) }

// PutRelations durably stores S|relations (tracked relations, opaque here).
func (s *Store) PutRelations(v []byte) error { return s.putSystem(keyRelations, v) }

// Relations reads S|relations; false when it was never written.
func (s *Store) Relations() ([]byte, bool, error) { return s.getSystem(keyRelations) }

func (s *Store) putSystem(key string, v []byte) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.life.RUnlock()
	err := s.db.Update(func(txn *badger.Txn) error { return txn.Set([]byte(key), append([]byte(nil), v...)) })
	if err == nil {
		err = s.db.Sync()
	}
	if err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	return nil
}

func (s *Store) getSystem(key string) ([]byte, bool, error) {
	if err := s.enter(); err != nil {
		return nil, false, err
	}
	defer s.life.RUnlock()
	var out []byte
	err := s.db.View(func(txn *badger.Txn) error {
		it, err := txn.Get([]byte(key))
		if err != nil {
			return err
		}
		out, err = it.ValueCopy(nil)
		return err
	})
	switch {
	case errors.Is(err, badger.ErrKeyNotFound):
		return nil, false, nil
	case err != nil:
		return nil, false, fmt.Errorf("get %s: %w", key, err)
	}
	return out, true, nil
}
