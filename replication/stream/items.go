package stream

import "github.com/shapesync/shapesync/replication/lsn"

// ItemKind tells the two kinds of WalItem apart.
type ItemKind uint8

const (
	// KindXLogData carries one pgoutput message.
	KindXLogData ItemKind = iota + 1
	// KindWalEnd is an idle marker: a primary keepalive's wal_end.
	KindWalEnd
)

// WalItem is one entry of the stream, in the order the server sent it.
type WalItem struct {
	Kind ItemKind
	// WALStart is the XLogData's WAL position. pgoutput sets it to the
	// record's LSN (a commit's is the end of its commit record), and to 0 for
	// a message that is not the last written for its record (the Relation
	// sent before a change). Decoding must take positions from the messages.
	WALStart lsn.LSN
	// Data is the pgoutput message, a private copy: pgconn's read buffer is
	// reused by the next receive (GO_STACK L3).
	Data []byte
	// WalEnd, on a KindWalEnd marker, is the server's wal_end: everything
	// before it that matters has been sent ahead of the marker, so outside a
	// transaction the flush tracker may treat it as an empty commit (B5,
	// B11). It travels in the item stream, never beside it, so it cannot
	// overtake data received before it.
	WalEnd lsn.LSN
}

// Batch is what the pump hands downstream in one Deliver call. Each
// delivered batch takes one credit; the receiver returns it with
// Pump.Credit once the batch is handled.
type Batch struct {
	Items []WalItem
	// Bytes is the sum of len(Data) over Items.
	Bytes int
}
