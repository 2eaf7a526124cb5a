package storage

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// Tombstone is an X|<id> record: a deletion that started and, while the key
// exists, has not finished. DeleteShape resumes it.
type Tombstone struct {
	ShapeID uint64
	Reason  string
	At      time.Time
	Handle  string // the shape's registry keys to remove, if it had any
	Hash    string
}

func encodeTombstone(t Tombstone) []byte {
	b := append(make([]byte, 0, 16+len(t.Reason)+len(t.Handle)+len(t.Hash)), valueVersion)
	b = appendU64(b, uint64(t.At.UnixNano()))
	b = appendBytesField(b, []byte(t.Reason))
	b = appendBytesField(b, []byte(t.Handle))
	return appendBytesField(b, []byte(t.Hash))
}

func decodeTombstone(k, v []byte) (Tombstone, error) {
	if len(k) != idKeyLen {
		return Tombstone{}, fmt.Errorf("%w: tombstone key %q", ErrCorrupt, clip(k))
	}
	d := decoder{b: v}
	d.version()
	t := Tombstone{ShapeID: binary.BigEndian.Uint64(k[2:])}
	t.At = time.Unix(0, int64(d.u64()))
	t.Reason = string(d.bytesField())
	t.Handle = string(d.bytesField())
	t.Hash = string(d.bytesField())
	if err := d.end(); err != nil {
		return Tombstone{}, fmt.Errorf("tombstone of shape %d: %w", t.ShapeID, err)
	}
	return t, nil
}

// Tombstones lists the deletions that have not finished.
func (s *Store) Tombstones() ([]Tombstone, error) {
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.life.RUnlock()
	var out []Tombstone
	err := s.db.View(func(txn *badger.Txn) error {
		return scan(txn, prefixTombstone, func(k, v []byte) error {
			t, err := decodeTombstone(k, v)
			out = append(out, t)
			return err
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list tombstones: %w", err)
	}
	return out, nil
}

// DeleteShape removes every key of a shape: its log (L|), chunk index (C|),
// metadata (M|) and registry keys (H|, D|). It first fences the shape (its
// view disappears, later writes to it are dropped), then writes and syncs the
// X|<id> tombstone, so a deletion interrupted by a crash is resumed by calling
// DeleteShape again (LoadAll reports the tombstones). The log is deleted in
// write batches of at most Options.DeleteBatchKeys keys with
// Options.DeletePause between them, not with DropPrefix, which would stop
// every write of the store. It returns the number of keys deleted.
func (s *Store) DeleteShape(ctx context.Context, id uint64, reason string) (int, error) {
	if id == 0 {
		return 0, ErrInvalidShapeID
	}
	if err := s.enter(); err != nil {
		return 0, err
	}
	defer s.life.RUnlock()

	// Fence under writeMu: no batch is between its check and its write.
	s.writeMu.Lock()
	s.state.Lock()
	ref := s.records[id]
	delete(s.records, id)
	s.blocked[id] = "deleted: " + reason
	s.views.Delete(id)
	s.state.Unlock()
	s.writeMu.Unlock()

	t, err := s.tombstone(id, reason, ref)
	if err != nil {
		return 0, err
	}
	n := 0
	if t.Handle != "" {
		if err := s.deleteRecordOf(id, t.Handle, t.Hash); err != nil {
			return 0, err
		}
	}
	for _, p := range [][]byte{shapePrefix(prefixLog, id), shapePrefix(prefixChunk, id), idKey(prefixShapeMeta, id)} {
		k, err := s.deleteRange(ctx, p)
		n += k
		if err != nil {
			return n, fmt.Errorf("delete shape %d: %w (the tombstone stays; call DeleteShape again to resume)", id, err)
		}
	}
	err = s.db.Update(func(txn *badger.Txn) error { return txn.Delete(idKey(prefixTombstone, id)) })
	if err == nil {
		err = s.db.Sync()
	}
	if err != nil {
		return n, fmt.Errorf("delete shape %d: remove tombstone: %w", id, err)
	}
	return n, nil
}

// tombstone writes X|<id> durably, keeping an earlier tombstone (which may
// name registry keys already gone from memory).
func (s *Store) tombstone(id uint64, reason string, ref recordRef) (Tombstone, error) {
	k := idKey(prefixTombstone, id)
	t := Tombstone{ShapeID: id, Reason: reason, At: time.Now(), Handle: ref.handle, Hash: ref.hash}
	err := s.db.Update(func(txn *badger.Txn) error {
		if it, err := txn.Get(k); err == nil {
			return it.Value(func(v []byte) (err error) { t, err = decodeTombstone(k, v); return err })
		} else if !errors.Is(err, badger.ErrKeyNotFound) {
			return err
		}
		return txn.Set(k, encodeTombstone(t))
	})
	if err == nil {
		err = s.db.Sync()
	}
	if err != nil {
		return Tombstone{}, fmt.Errorf("delete shape %d: write tombstone: %w", id, err)
	}
	return t, nil
}

// deleteRecordOf removes H|<handle> and D|<hash>|<handle> if they still
// belong to shape id.
func (s *Store) deleteRecordOf(id uint64, handle, hash string) error {
	err := s.db.Update(func(txn *badger.Txn) error {
		it, err := txn.Get(shapeKey(handle))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return txn.Delete(definitionKey(hash, handle))
		} else if err != nil {
			return err
		}
		var rec ShapeRecord
		if err := it.Value(func(v []byte) (err error) { rec, err = decodeShapeRecord(handle, v); return err }); err != nil {
			return err
		}
		if rec.ID != id {
			return nil
		}
		if err := txn.Delete(definitionKey(rec.DefinitionHash, handle)); err != nil {
			return err
		}
		return txn.Delete(shapeKey(handle))
	})
	if err != nil {
		return fmt.Errorf("delete shape %d: registry keys of %q: %w", id, clip([]byte(handle)), err)
	}
	return nil
}

// deleteRange deletes the keys with prefix p in rate-limited batches, each
// collected by its own short read transaction.
func (s *Store) deleteRange(ctx context.Context, p []byte) (int, error) {
	n := 0
	for {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		var keys [][]byte
		err := s.db.View(func(txn *badger.Txn) error {
			it := txn.NewIterator(badger.IteratorOptions{Prefix: p})
			defer it.Close()
			for it.Seek(p); it.ValidForPrefix(p) && len(keys) < s.opts.DeleteBatchKeys; it.Next() {
				keys = append(keys, it.Item().KeyCopy(nil))
			}
			return nil
		})
		if err != nil || len(keys) == 0 {
			return n, err
		}
		wb := s.db.NewWriteBatch()
		for _, k := range keys {
			if err = wb.Delete(k); err != nil {
				break
			}
		}
		if err == nil {
			err = wb.Flush()
		}
		wb.Cancel()
		if err != nil {
			return n, err
		}
		n += len(keys)
		if len(keys) < s.opts.DeleteBatchKeys {
			return n, nil
		}
		t := time.NewTimer(s.opts.DeletePause)
		select {
		case <-ctx.Done():
			t.Stop()
			return n, ctx.Err()
		case <-t.C:
		}
	}
}

// PurgeAll drops every key of the store (all shapes, records, S| keys),
// using badger's DropAll, which stops all writes while it runs: call it only
// while the shapes subsystem is stopped (slot lost, continuity gone). Views
// disappear first; every Writer becomes stale. Shape ids keep counting up.
func (s *Store) PurgeAll() error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.life.RUnlock()
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	s.state.Lock()
	s.gen++
	s.syncedSeq = 0
	s.blocked, s.records = map[uint64]string{}, map[uint64]recordRef{}
	s.views.Clear()
	s.acked.Store(0)
	s.state.Unlock()
	if err := s.db.DropAll(); err != nil {
		return fmt.Errorf("purge shape store: %w (retry; if it keeps failing, stop the service and "+
			"delete the store directory)", err)
	}
	return nil
}
