package shape

import (
	"bytes"
	"encoding/binary"
	"hash/fnv"
	"slices"
)

// canonicalVersion prefixes every canonical form. It is part of the on-disk
// contract: any change to the encoding below needs a new version.
const canonicalVersion = "shapesync/definition/v1\x00"

// Where-clause tags in the canonical form.
const (
	whereNone       = 0
	whereAsGiven    = 1 // Where and Params
	whereNormalized = 2 // NormalizedWhere
)

// AppendCanonical appends the definition's canonical form: a deterministic
// byte encoding of exactly what identifies a shape (SHAPE_API §6.1). Every
// variable-length field is length-prefixed, so distinct definitions never
// encode alike. Layout (uvarint lengths and counts):
//
//	version prefix
//	schema, table (length-prefixed), relation OID (4 bytes big-endian)
//	implicit-columns flag (1 byte); when 0: count, then the sorted,
//	  de-duplicated column names
//	replica (1 byte), log (1 byte)
//	where tag (1 byte): 0 none; 1 where text as given, then the count and
//	  values of the parameters; 2 the normalised where text
//
// Parameters without a where clause are ignored, as the protocol says.
func (d *Definition) AppendCanonical(dst []byte) []byte {
	dst = append(dst, canonicalVersion...)
	dst = appendField(dst, d.Schema)
	dst = appendField(dst, d.Table)
	dst = binary.BigEndian.AppendUint32(dst, d.RelationOID)
	if d.Columns == nil {
		dst = append(dst, 1)
	} else {
		cols := slices.Clone(d.Columns)
		slices.Sort(cols)
		cols = slices.Compact(cols)
		dst = append(dst, 0)
		dst = binary.AppendUvarint(dst, uint64(len(cols)))
		for _, c := range cols {
			dst = appendField(dst, c)
		}
	}
	dst = append(dst, byte(d.Replica), byte(d.Log))
	switch {
	case d.NormalizedWhere != "":
		dst = append(dst, whereNormalized)
		dst = appendField(dst, d.NormalizedWhere)
	case d.Where != "":
		dst = append(dst, whereAsGiven)
		dst = appendField(dst, d.Where)
		dst = binary.AppendUvarint(dst, uint64(len(d.Params)))
		for _, p := range d.Params {
			dst = appendField(dst, p)
		}
	default:
		dst = append(dst, whereNone)
	}
	return dst
}

func appendField(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

// Canonical returns the canonical form (see AppendCanonical).
func (d *Definition) Canonical() []byte { return d.AppendCanonical(nil) }

// Hash is the 64-bit FNV-1a hash of the canonical form. It is stable across
// processes and versions (part of the on-disk contract) and appears in
// handles. Equal hashes do not prove equal definitions: compare with Equal.
func (d *Definition) Hash() uint64 {
	h := fnv.New64a()
	_, _ = h.Write(d.Canonical()) // hash.Hash never fails
	return h.Sum64()
}

// Equal reports whether two definitions denote the same shape.
func (d *Definition) Equal(o *Definition) bool {
	return bytes.Equal(d.Canonical(), o.Canonical())
}
