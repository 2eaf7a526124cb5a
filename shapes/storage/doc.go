// Package storage is the durable shape log on badger/v4 (ARCHITECTURE §1.4
// "Storage on badger"): one DB per stack directory holding every shape's
// log, chunk index, metadata and registry records, and the acknowledged LSN.
//
// # What it owns
//
// The key layout, which is a contract (all integers 8-byte big-endian, so
// keys sort by offset and snapshot rows, tx = 0, sort before stream items):
//
//	S|meta                      stack metadata (opaque: schema version, slot, system id, timeline)
//	S|acked                     last LSN acknowledged to Postgres; the synced value is the durable position
//	S|relations                 tracked relations (opaque)
//	H|<handle>                  shape record: id, definition hash, definition, state
//	D|<hash>|<handle>           definition → handle index (empty value)
//	L|<id>|0|<chunk>|<row>      snapshot row (JSON, ready to send); snapshot-end ends the last chunk
//	L|<id>|<tx>|<op>            stream item (JSON, ready to send), tx > 0
//	…|<part>                    continuation part 1…n of an item longer than MaxValueBytes (16 MiB)
//	C|<id>|0|<n>                snapshot chunk n: first row, rows, bytes (offset 0_n = its end)
//	C|<id>|<endTx>|<endOp>      closed change chunk: start offset, bytes, items (immutable)
//	M|<id>                      per-shape metadata: snapshot cursor, committed offset, open chunk, consumer state
//	X|<id>                      tombstone of a deletion in progress
//
// Shape ids are 8-byte counters; LoadAll starts the counter above every id
// that has a key, so an id is never reused while any key of it exists.
//
// # How it is driven
//
// The storage engine (Store, Writer, Batch) has no actors and starts no
// goroutines. Decisions are pure (key encoding, the §8 chunking rule in
// fillChunk, ShapeView.ChunkEnd, the offset checks of Batch); I/O happens
// only in Store methods:
//
//   - the store-writer actor owns a Writer (Store.NewWriter) and fills
//     Batches with AppendSnapshotRow, EndSnapshot, AppendChange, Commit,
//     Rollback, SetConsumerMeta and PersistAck; its badger-io goroutine calls Store.WriteAndSync(batch),
//     one WriteBatch + db.Sync() (SyncWrites is off: Sync is the durability
//     point). Only after Sync returns are the new views published and the
//     Result returned (I3: ack only after durability);
//   - HTTP readers call Store.View (an atomically published, immutable
//     ShapeView), ShapeView.ChunkEnd and Store.Read without locks held by
//     writers; reads never pass a view's End, so clients see only durable,
//     whole transactions;
//   - the store actor calls Open, LoadAll, GCValueLog, PurgeAll and Close;
//     the registry PutShape/GetShape/ListShapes/DeleteShapeRecord; the
//     cleaner DeleteShape and Tombstones.
//
// # The actors
//
// Two actors host the engine (actor_store.go, actor_writer.go):
//
//   - store (StoreChildSpec): opens the DB and runs LoadAll in an owned
//     goroutine, publishes the *Store through the StoreView the wiring
//     created (it outlives restarts), reports the store-open condition,
//     runs value-log GC on a ticker and closes the DB when it stops;
//   - store-writer (WriterChildSpec): owns a Writer and the open Batch and
//     does group commit with double buffering — while one sealed batch is
//     in WriteAndSync on the badger-io goroutine, the next one fills. It
//     turns Append/CommitMark, Rollback, ConsumerState, SnapshotRows,
//     SnapshotEnd and PersistAck messages (shapes/protocol) into batch
//     calls; only after WriteAndSync returned does it report FlushedBatch
//     and AckPersisted to the collector and send the replies held for the
//     sync (I3). Accepted is immediate while the pending bytes are under the
//     bound, else after the next sync (credit). A failed sync is retried
//     with backoff and acknowledges nothing (D5). Its decisions live in
//     writerCore, tested without actors.
//
// Offsets are monotonic per shape (I5): an append at or below the last
// offset is rejected, except a replay at or below the durable commit, which
// is verified against the stored bytes and not rewritten (see Writer).
//
// # Imports
//
// Layer 2 (components). It imports the standard library, badger (only this
// package may), zap, protoactor (for its actors), and layer 0
// (replication/lsn, actors, shapes/protocol). It never imports other
// layer-2 packages, http, supervisor, chaos or replication/pgcluster; http/*
// must never import it (it reaches badger); other layer-2 packages talk to it
// through shapes/protocol messages and the interfaces the wiring injects.
package storage
