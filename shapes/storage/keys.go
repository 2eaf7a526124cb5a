package storage

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/shapesync/shapesync/replication/lsn"
)

// The key layout is the contract of ARCHITECTURE §1.4. Every integer is
// 8-byte big-endian, so byte order equals numeric order; the literal '|'
// separators sit at fixed positions and never take part in a comparison
// between keys of the same shape and region.
const (
	sep = '|'

	prefixSystem     = "S|"
	prefixShape      = "H|"
	prefixDefinition = "D|"
	prefixLog        = "L|"
	prefixChunk      = "C|"
	prefixShapeMeta  = "M|"
	prefixTombstone  = "X|"

	keyStackMeta = "S|meta"
	keyAcked     = "S|acked"
	keyRelations = "S|relations"

	idKeyLen       = 2 + 8                    // M|<id>, X|<id>
	offsetKeyLen   = idKeyLen + 1 + 8 + 1 + 8 // L|<id>|<tx>|<op>, C|<id>|<tx>|<op>
	snapshotKeyLen = offsetKeyLen + 1 + 8     // L|<id>|0|<chunk>|<row>
	partSuffixLen  = 1 + 8                    // |<part> of a continuation key

	// maxNameLen bounds handles and hashes so that D|<hash>|<handle> stays
	// well below badger's 65,000-byte key limit.
	maxNameLen = 16 << 10
)

// ErrInvalidKey is returned by DecodeKey and Key.Encode for bytes or fields
// that are not a key of this store.
var ErrInvalidKey = errors.New("storage: invalid key")

// KeyKind names one row of the key layout table.
type KeyKind uint8

// Key kinds, one per row of ARCHITECTURE §1.4.
const (
	KeyInvalid       KeyKind = iota
	KeyStackMeta             // S|meta
	KeyAcked                 // S|acked
	KeyRelations             // S|relations
	KeyShape                 // H|<handle>
	KeyDefinition            // D|<hash>|<handle>
	KeySnapshotRow           // L|<id>|0|<chunk>|<row>[|<part>]
	KeyChange                // L|<id>|<tx>|<op>[|<part>], tx > 0
	KeySnapshotChunk         // C|<id>|0|<n>
	KeyChangeChunk           // C|<id>|<endTx>|<endOp>, endTx > 0
	KeyShapeMeta             // M|<id>
	KeyTombstone             // X|<id>
)

var kindNames = [...]string{"invalid", "stack-meta", "acked", "relations", "shape", "definition",
	"snapshot-row", "change", "snapshot-chunk", "change-chunk", "shape-meta", "tombstone"}

func (k KeyKind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("KeyKind(%d)", uint8(k))
}

// Key is a decoded key. Only the fields of its Kind are meaningful.
type Key struct {
	Kind    KeyKind
	ShapeID uint64        // L, C, M, X
	Handle  string        // H, D
	Hash    string        // D
	Offset  lsn.LogOffset // KeyChange: the item's offset; KeyChangeChunk: the chunk's end
	Chunk   uint64        // KeySnapshotRow, KeySnapshotChunk
	Row     uint64        // KeySnapshotRow
	Part    uint64        // KeySnapshotRow, KeyChange: 0 for an item, 1… for its continuation parts
}

func (k Key) String() string {
	switch k.Kind {
	case KeyShape:
		return fmt.Sprintf("H|%s", k.Handle)
	case KeyDefinition:
		return fmt.Sprintf("D|%s|%s", k.Hash, k.Handle)
	case KeySnapshotRow:
		return fmt.Sprintf("L|%d|0|%d|%d/%d", k.ShapeID, k.Chunk, k.Row, k.Part)
	case KeyChange:
		return fmt.Sprintf("L|%d|%s/%d", k.ShapeID, k.Offset, k.Part)
	case KeySnapshotChunk:
		return fmt.Sprintf("C|%d|0|%d", k.ShapeID, k.Chunk)
	case KeyChangeChunk:
		return fmt.Sprintf("C|%d|%s", k.ShapeID, k.Offset)
	case KeyShapeMeta:
		return fmt.Sprintf("M|%d", k.ShapeID)
	case KeyTombstone:
		return fmt.Sprintf("X|%d", k.ShapeID)
	}
	return k.Kind.String()
}

// Encode renders the key's bytes; it fails for fields its kind cannot hold
// (an empty handle, a hash containing '|', a change at tx 0, …).
func (k Key) Encode() ([]byte, error) {
	switch k.Kind {
	case KeyStackMeta:
		return []byte(keyStackMeta), nil
	case KeyAcked:
		return []byte(keyAcked), nil
	case KeyRelations:
		return []byte(keyRelations), nil
	case KeyShape:
		if err := checkName("handle", k.Handle); err != nil {
			return nil, err
		}
		return shapeKey(k.Handle), nil
	case KeyDefinition:
		if err := checkHash(k.Hash); err != nil {
			return nil, err
		}
		if err := checkName("handle", k.Handle); err != nil {
			return nil, err
		}
		return definitionKey(k.Hash, k.Handle), nil
	case KeySnapshotRow:
		return appendPart(appendSnapshotRowKey(nil, k.ShapeID, k.Chunk, k.Row), k.Part), nil
	case KeyChange:
		if k.Offset.Before || k.Offset.Tx == 0 {
			return nil, fmt.Errorf("%w: a change key needs tx > 0, got %s", ErrInvalidKey, k.Offset)
		}
		return appendPart(appendChangeKey(nil, k.ShapeID, k.Offset), k.Part), nil
	case KeySnapshotChunk:
		return appendOffsetKey(nil, prefixChunk, k.ShapeID, 0, k.Chunk), nil
	case KeyChangeChunk:
		if k.Offset.Before || k.Offset.Tx == 0 {
			return nil, fmt.Errorf("%w: a change chunk key needs tx > 0, got %s", ErrInvalidKey, k.Offset)
		}
		return changeChunkKey(k.ShapeID, k.Offset), nil
	case KeyShapeMeta:
		return idKey(prefixShapeMeta, k.ShapeID), nil
	case KeyTombstone:
		return idKey(prefixTombstone, k.ShapeID), nil
	}
	return nil, fmt.Errorf("%w: unknown kind %s", ErrInvalidKey, k.Kind)
}

// DecodeKey parses the bytes of a key. It accepts exactly the encodings
// Encode produces (so Encode(DecodeKey(b)) == b) and never panics.
func DecodeKey(b []byte) (Key, error) {
	bad := func(why string) (Key, error) {
		return Key{}, fmt.Errorf("%w: %s (%q)", ErrInvalidKey, why, clip(b))
	}
	if len(b) < 2 || b[1] != sep {
		return bad("no '<kind>|' prefix")
	}
	switch b[0] {
	case 'S':
		switch string(b) {
		case keyStackMeta:
			return Key{Kind: KeyStackMeta}, nil
		case keyAcked:
			return Key{Kind: KeyAcked}, nil
		case keyRelations:
			return Key{Kind: KeyRelations}, nil
		}
		return bad("unknown system key")
	case 'H':
		h := string(b[2:])
		if checkName("handle", h) != nil {
			return bad("handle empty or too long")
		}
		return Key{Kind: KeyShape, Handle: h}, nil
	case 'D':
		rest := b[2:]
		i := bytes.IndexByte(rest, sep)
		if i < 0 {
			return bad("definition key without '|' after the hash")
		}
		hash, handle := string(rest[:i]), string(rest[i+1:])
		if checkHash(hash) != nil || checkName("handle", handle) != nil {
			return bad("definition key with an empty or too long hash or handle")
		}
		return Key{Kind: KeyDefinition, Hash: hash, Handle: handle}, nil
	case 'M', 'X':
		if len(b) != idKeyLen {
			return bad("shape key of the wrong length")
		}
		kind := KeyShapeMeta
		if b[0] == 'X' {
			kind = KeyTombstone
		}
		return Key{Kind: kind, ShapeID: binary.BigEndian.Uint64(b[2:])}, nil
	case 'C':
		id, tx, op, ok := splitOffsetKey(b)
		if !ok || len(b) != offsetKeyLen {
			return bad("chunk key of the wrong shape")
		}
		if tx == 0 {
			return Key{Kind: KeySnapshotChunk, ShapeID: id, Chunk: op}, nil
		}
		return Key{Kind: KeyChangeChunk, ShapeID: id, Offset: lsn.LogOffset{Tx: tx, Op: op}}, nil
	case 'L':
		return decodeLogKey(b)
	}
	return bad("unknown kind")
}

func decodeLogKey(b []byte) (Key, error) {
	bad := func(why string) (Key, error) {
		return Key{}, fmt.Errorf("%w: %s (%q)", ErrInvalidKey, why, clip(b))
	}
	id, tx, op, ok := splitOffsetKey(b)
	if !ok {
		return bad("log key too short")
	}
	rest := b[offsetKeyLen:]
	if tx != 0 {
		k := Key{Kind: KeyChange, ShapeID: id, Offset: lsn.LogOffset{Tx: tx, Op: op}}
		switch len(rest) {
		case 0:
			return k, nil
		case partSuffixLen:
			if rest[0] != sep {
				return bad("continuation without '|'")
			}
			if k.Part = binary.BigEndian.Uint64(rest[1:]); k.Part == 0 {
				return bad("continuation part 0")
			}
			return k, nil
		}
		return bad("change key of the wrong length")
	}
	if len(rest) != 9 && len(rest) != 9+partSuffixLen {
		return bad("snapshot row key of the wrong length")
	}
	if rest[0] != sep {
		return bad("snapshot row key without '|' before the row")
	}
	k := Key{Kind: KeySnapshotRow, ShapeID: id, Chunk: op, Row: binary.BigEndian.Uint64(rest[1:9])}
	if len(rest) > 9 {
		if rest[9] != sep {
			return bad("continuation without '|'")
		}
		if k.Part = binary.BigEndian.Uint64(rest[10:]); k.Part == 0 {
			return bad("continuation part 0")
		}
	}
	return k, nil
}

// splitOffsetKey reads the common <kind>|<id>|<a>|<b> head of L and C keys.
func splitOffsetKey(b []byte) (id, a, c uint64, ok bool) {
	if len(b) < offsetKeyLen || b[idKeyLen] != sep || b[idKeyLen+9] != sep {
		return 0, 0, 0, false
	}
	return binary.BigEndian.Uint64(b[2:]), binary.BigEndian.Uint64(b[idKeyLen+1:]),
		binary.BigEndian.Uint64(b[idKeyLen+10:]), true
}

func checkName(what, s string) error {
	if s == "" || len(s) > maxNameLen {
		return fmt.Errorf("%w: %s must have 1..%d bytes, got %d", ErrInvalidKey, what, maxNameLen, len(s))
	}
	return nil
}

func checkHash(h string) error {
	if err := checkName("definition hash", h); err != nil {
		return err
	}
	if bytes.IndexByte([]byte(h), sep) >= 0 {
		return fmt.Errorf("%w: definition hash %q contains '|'", ErrInvalidKey, clip([]byte(h)))
	}
	return nil
}

func clip(b []byte) []byte {
	if len(b) > 64 {
		return b[:64]
	}
	return b
}

// The appenders below are the hot-path encoders; they do no validation.

func appendU64(dst []byte, v uint64) []byte { return binary.BigEndian.AppendUint64(dst, v) }

func idKey(prefix string, id uint64) []byte {
	return appendU64(append(make([]byte, 0, idKeyLen), prefix...), id)
}

func appendOffsetKey(dst []byte, prefix string, id, a, b uint64) []byte {
	dst = append(dst, prefix...)
	dst = appendU64(dst, id)
	dst = append(dst, sep)
	dst = appendU64(dst, a)
	dst = append(dst, sep)
	return appendU64(dst, b)
}

// appendChangeKey renders L|<id>|<tx>|<op>.
func appendChangeKey(dst []byte, id uint64, off lsn.LogOffset) []byte {
	return appendOffsetKey(dst, prefixLog, id, off.Tx, off.Op)
}

// appendSnapshotRowKey renders L|<id>|0|<chunk>|<row>.
func appendSnapshotRowKey(dst []byte, id, chunk, row uint64) []byte {
	dst = appendOffsetKey(dst, prefixLog, id, 0, chunk)
	dst = append(dst, sep)
	return appendU64(dst, row)
}

// appendPart turns an item key into the key of its continuation part
// (part 0 is the item key itself). A continuation sorts after its item and
// before the next item, because the item key is a prefix of it.
func appendPart(key []byte, part uint64) []byte {
	if part == 0 {
		return key
	}
	key = append(key, sep)
	return appendU64(key, part)
}

func snapshotChunkKey(id, n uint64) []byte {
	return appendOffsetKey(make([]byte, 0, offsetKeyLen), prefixChunk, id, 0, n)
}

func changeChunkKey(id uint64, end lsn.LogOffset) []byte {
	return appendOffsetKey(make([]byte, 0, offsetKeyLen), prefixChunk, id, end.Tx, end.Op)
}

func shapeKey(handle string) []byte {
	return append(append(make([]byte, 0, 2+len(handle)), prefixShape...), handle...)
}

func definitionKey(hash, handle string) []byte {
	k := make([]byte, 0, 3+len(hash)+len(handle))
	k = append(append(append(k, prefixDefinition...), hash...), sep)
	return append(k, handle...)
}

func definitionPrefix(hash string) []byte {
	return append(append([]byte(prefixDefinition), hash...), sep)
}

// shapePrefix is "<kind>|<id>|", the prefix of every L or C key of a shape.
func shapePrefix(prefix string, id uint64) []byte {
	return append(appendU64(append(make([]byte, 0, idKeyLen+1), prefix...), id), sep)
}
