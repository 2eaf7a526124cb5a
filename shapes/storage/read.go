package storage

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"

	"github.com/shapesync/shapesync/replication/lsn"
)

// Errors of the read path.
var (
	ErrShapeNotFound = errors.New("storage: no durable log for this shape (not written yet, deleted or damaged)")
	ErrBeyondEnd     = errors.New("storage: read past the shape's durable end")
)

// Read calls emit for every entry of the shape's log with an offset in
// (from, to], in log order: snapshot rows of the chunks after from (a row of
// chunk n has offset 0_n), then change items. to must not exceed the view's
// End(), so clients only ever see durable, whole transactions; use ChunkEnd
// to choose it. The bytes passed to emit are valid only during the call. An
// error from emit stops the read and is returned.
//
// Read holds one badger read transaction for its duration, so it sees one
// consistent state even while the shape is being deleted; a slow emit keeps
// that state (and Close) waiting, so stream to slow clients in pieces.
func (s *Store) Read(id uint64, from, to lsn.LogOffset, emit func([]byte) error) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.life.RUnlock()
	txn := s.db.NewTransaction(false)
	defer txn.Discard()
	// The view is taken after the transaction: DeleteShape removes the view
	// before it deletes a key, so a view seen here means every key of it is
	// in this transaction's snapshot.
	v, ok := s.View(id)
	if !ok {
		return fmt.Errorf("read shape %d: %w", id, ErrShapeNotFound)
	}
	if end := v.End(); end.Less(to) {
		return fmt.Errorf("read shape %d up to %s, end is %s: %w", id, to, end, ErrBeyondEnd)
	}
	if !from.Less(to) {
		return nil
	}
	prefix := shapePrefix(prefixLog, id)
	it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
	defer it.Close()
	r := reader{it: it, prefix: prefix, id: id, emit: emit}

	if from.Before || (from.Tx == 0 && from.Op != lsn.OpInf) {
		first := uint64(0)
		if !from.Before {
			first = from.Op + 1
		}
		hi := uint64(len(v.snap))
		if to.Tx == 0 && to.Op != lsn.OpInf {
			hi = min(hi, to.Op+1)
		}
		for c := first; c < hi; c++ {
			if err := r.snapshotChunk(v.snap[c]); err != nil {
				return err
			}
		}
	}
	if to.Tx > 0 {
		return r.changes(lsn.Max(from, lsn.SnapshotEnd), to)
	}
	return nil
}

type reader struct {
	it     *badger.Iterator
	prefix []byte
	id     uint64
	emit   func([]byte) error
	buf    []byte // key scratch
}

// snapshotChunk emits exactly the rows the chunk index names, so rows left
// behind by a torn write after the chunk's last row are never served.
func (r *reader) snapshotChunk(c SnapshotChunk) error {
	r.buf = appendSnapshotRowKey(r.buf[:0], r.id, c.N, c.FirstRow)
	r.it.Seek(r.buf)
	for i := uint64(0); i < c.Rows; i++ {
		r.buf = appendSnapshotRowKey(r.buf[:0], r.id, c.N, c.FirstRow+i)
		if !r.it.ValidForPrefix(r.prefix) || !bytes.Equal(r.it.Item().Key(), r.buf) {
			return fmt.Errorf("%w: shape %d snapshot chunk %d misses row %d", ErrCorrupt, r.id, c.N, c.FirstRow+i)
		}
		if err := r.item(); err != nil {
			return err
		}
		r.it.Next()
	}
	return nil
}

// changes emits the change items in (after, to].
func (r *reader) changes(after, to lsn.LogOffset) error {
	r.buf = appendChangeKey(r.buf[:0], r.id, after)
	for r.it.Seek(r.buf); r.it.ValidForPrefix(r.prefix); r.it.Next() {
		k := r.it.Item().Key()
		if len(k) < offsetKeyLen {
			return fmt.Errorf("%w: shape %d: short log key %q", ErrCorrupt, r.id, clip(k))
		}
		off := lsn.LogOffset{Tx: binary.BigEndian.Uint64(k[idKeyLen+1:]), Op: binary.BigEndian.Uint64(k[idKeyLen+10:])}
		if off.Tx == 0 || off.Compare(after) <= 0 {
			continue // an item at after, and its continuation parts
		}
		if to.Less(off) {
			return nil
		}
		if len(k) != offsetKeyLen {
			return fmt.Errorf("%w: shape %d: continuation at %s without its item", ErrCorrupt, r.id, off)
		}
		if err := r.item(); err != nil {
			return err
		}
	}
	return nil
}

// item emits the item under the iterator. A split item is reassembled from
// its continuation parts, leaving the iterator on the last part.
func (r *reader) item() error {
	var total, parts uint64
	err := r.it.Item().Value(func(v []byte) error {
		if len(v) == 0 || v[0] != splitDescriptorTag {
			return r.emit(v)
		}
		var err error
		total, parts, err = decodeSplitDescriptor(v)
		return err
	})
	if err != nil || parts == 0 {
		return err
	}
	base := r.it.Item().KeyCopy(nil)
	out := make([]byte, 0, total)
	for p := uint64(1); p <= parts; p++ {
		r.it.Next()
		r.buf = appendPart(append(r.buf[:0], base...), p)
		if !r.it.ValidForPrefix(r.prefix) || !bytes.Equal(r.it.Item().Key(), r.buf) {
			return fmt.Errorf("%w: shape %d: split item misses part %d", ErrCorrupt, r.id, p)
		}
		if err := r.it.Item().Value(func(v []byte) error { out = append(out, v...); return nil }); err != nil {
			return err
		}
	}
	if uint64(len(out)) != total {
		return fmt.Errorf("%w: shape %d: split item of %d bytes reassembled to %d", ErrCorrupt, r.id, total, len(out))
	}
	return r.emit(out)
}
