package storage

// DefaultChunkBytesThreshold is ELECTRIC_SHAPE_CHUNK_BYTES_THRESHOLD's
// default (SHAPE_API §8): 10 MiB.
const DefaultChunkBytesThreshold = 10 << 20

// entrySize is what one message adds to its chunk's running total under the
// §8 rule: its JSON length plus one (the line break of the reference's log
// format). The same rule applies to snapshot rows and change messages.
func entrySize(n int) uint64 { return uint64(n) + 1 }

// fillChunk adds an entry of size bytes to a chunk holding total bytes and
// returns the chunk's new total. When it reaches or exceeds the threshold
// the chunk ends after this entry (closes) and the next chunk starts empty.
func fillChunk(total, size, threshold uint64) (sum uint64, closes bool) {
	sum = total + size
	return sum, sum >= threshold
}
