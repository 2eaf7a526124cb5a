package storage

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"github.com/dgraph-io/badger/v4"

	"github.com/shapesync/shapesync/replication/lsn"
)

// LoadReport is what LoadAll found.
type LoadReport struct {
	Shapes     int         // shapes with a durable view
	Records    int         // H| records
	Tombstones []Tombstone // deletions to resume (DeleteShape)
	Damaged    []Damaged   // shapes whose metadata contradicts their index: blocked, to be dropped (D3)
}

// Damaged names a shape LoadAll could not restore.
type Damaged struct {
	ShapeID uint64
	Reason  string
}

// LoadAll restores, from the M|, C|, H| and X| keys and S|acked, every
// shape's view and writer state and the acked position. Its cost follows the
// number of shapes and chunks, not the volume of their logs. It first syncs
// the DB, so whatever badger recovered from its logs is durable before it is
// served. Writers created before LoadAll are stale afterwards.
func (s *Store) LoadAll() (LoadReport, error) {
	if err := s.enter(); err != nil {
		return LoadReport{}, err
	}
	defer s.life.RUnlock()
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if err := s.db.Sync(); err != nil {
		return LoadReport{}, fmt.Errorf("load shape store: sync: %w", err)
	}
	var (
		rep     LoadReport
		acked   lsn.LSN
		records = map[uint64]recordRef{}
		metas   = map[uint64]shapeMeta{}
		snaps   = map[uint64][]SnapshotChunk{}
		changes = map[uint64][]ChangeChunk{}
		maxID   uint64
	)
	err := s.db.View(func(txn *badger.Txn) error {
		if it, err := txn.Get([]byte(keyAcked)); err == nil {
			if err := it.Value(func(v []byte) (err error) { acked, err = decodeLSN(v); return err }); err != nil {
				return fmt.Errorf("stored acked LSN (S|acked): %w", err)
			}
		} else if !errors.Is(err, badger.ErrKeyNotFound) {
			return err
		}
		if err := scan(txn, prefixShape, func(k, v []byte) error {
			rec, err := decodeShapeRecord(string(k[2:]), v)
			if err != nil {
				return fmt.Errorf("shape record %q: %w", clip(k), err)
			}
			records[rec.ID] = recordRef{handle: rec.Handle, hash: rec.DefinitionHash}
			maxID = max(maxID, rec.ID)
			return nil
		}); err != nil {
			return err
		}
		if err := scan(txn, prefixTombstone, func(k, v []byte) error {
			t, err := decodeTombstone(k, v)
			if err != nil {
				return err
			}
			rep.Tombstones = append(rep.Tombstones, t)
			maxID = max(maxID, t.ShapeID)
			return nil
		}); err != nil {
			return err
		}
		if err := scan(txn, prefixShapeMeta, func(k, v []byte) error {
			if len(k) != idKeyLen {
				return fmt.Errorf("%w: meta key %q", ErrCorrupt, clip(k))
			}
			id := binary.BigEndian.Uint64(k[2:])
			maxID = max(maxID, id)
			m, err := decodeShapeMeta(v)
			if err != nil {
				rep.Damaged = append(rep.Damaged, Damaged{id, err.Error()})
				return nil
			}
			metas[id] = m
			return nil
		}); err != nil {
			return err
		}
		return scan(txn, prefixChunk, func(k, v []byte) error {
			key, err := DecodeKey(k)
			if err != nil {
				return err
			}
			switch key.Kind {
			case KeySnapshotChunk:
				c, err := decodeSnapshotChunk(key.Chunk, v)
				if err != nil {
					return fmt.Errorf("%s: %w", key, err)
				}
				snaps[key.ShapeID] = append(snaps[key.ShapeID], c)
			case KeyChangeChunk:
				c, err := decodeChangeChunk(key.Offset, v)
				if err != nil {
					return fmt.Errorf("%s: %w", key, err)
				}
				changes[key.ShapeID] = append(changes[key.ShapeID], c)
			}
			return nil
		})
	})
	if err != nil {
		return LoadReport{}, fmt.Errorf("load shape store: %w (if this persists, purge the store: "+
			"every shape is then re-created from Postgres)", err)
	}

	blocked := map[uint64]string{}
	for _, t := range rep.Tombstones {
		blocked[t.ShapeID] = "deleted: " + t.Reason
	}
	for _, d := range rep.Damaged {
		blocked[d.ShapeID] = "damaged: " + d.Reason
	}
	var views []*ShapeView
	for id, m := range metas {
		if blocked[id] != "" {
			continue
		}
		v, err := restoreView(id, m, snaps[id], changes[id])
		if err != nil {
			rep.Damaged = append(rep.Damaged, Damaged{id, err.Error()})
			blocked[id] = "damaged: " + err.Error()
			continue
		}
		views = append(views, v)
	}
	slices.SortFunc(rep.Damaged, func(a, b Damaged) int { return cmp.Compare(a.ShapeID, b.ShapeID) })

	s.state.Lock()
	defer s.state.Unlock()
	s.gen++
	s.syncedSeq = 0
	s.blocked, s.records = blocked, records
	s.views.Clear()
	for _, v := range views {
		s.publish(v)
	}
	s.acked.Store(uint64(acked))
	s.seeID(maxID)
	rep.Shapes, rep.Records = len(views), len(records)
	return rep, nil
}

// restoreView checks a shape's chunk index against its metadata and builds
// its view. Index entries past the metadata are the torn end of a batch
// whose M| record did not land; replay rewrites them, so they are ignored.
func restoreView(id uint64, m shapeMeta, snap []SnapshotChunk, changes []ChangeChunk) (*ShapeView, error) {
	if uint64(len(snap)) > m.Snap.Chunk {
		snap = snap[:m.Snap.Chunk]
	}
	row := uint64(0)
	for i, c := range snap {
		if c.N != uint64(i) || c.FirstRow != row {
			return nil, fmt.Errorf("snapshot chunk %d: index has a gap", i)
		}
		row += c.Rows
	}
	if uint64(len(snap)) != m.Snap.Chunk || row != m.Snap.ChunkFirstRow {
		return nil, fmt.Errorf("snapshot index has %d chunks up to row %d, metadata says %d up to row %d",
			len(snap), row, m.Snap.Chunk, m.Snap.ChunkFirstRow)
	}
	n := 0
	for n < len(changes) && changes[n].End.Compare(m.Committed) <= 0 {
		n++
	}
	changes = changes[:n]
	start := lsn.SnapshotEnd
	for _, c := range changes {
		if c.Start != start {
			return nil, fmt.Errorf("change chunk ending at %s starts at %s, expected %s", c.End, c.Start, start)
		}
		start = c.End
	}
	if uint64(len(changes)) != m.ClosedChanges || m.Open.Start != start {
		return nil, fmt.Errorf("change index has %d chunks up to %s, metadata says %d up to %s",
			len(changes), start, m.ClosedChanges, m.Open.Start)
	}
	return &ShapeView{id: id, meta: m, snap: snap, changes: changes}, nil
}

// scan calls fn for every key with the prefix; v is valid during the call.
func scan(txn *badger.Txn, prefix string, fn func(k, v []byte) error) error {
	p := []byte(prefix)
	it := txn.NewIterator(badger.IteratorOptions{Prefix: p, PrefetchValues: true, PrefetchSize: 64})
	defer it.Close()
	for it.Seek(p); it.ValidForPrefix(p); it.Next() {
		item := it.Item()
		if err := item.Value(func(v []byte) error { return fn(item.Key(), v) }); err != nil {
			return err
		}
	}
	return nil
}
