package decode

import (
	"errors"
	"fmt"

	"github.com/jackc/pglogrepl"
)

// ErrMalformed marks a WAL payload that is not a well-formed pgoutput v1
// message: truncated, with trailing bytes, a length past the end of the frame
// or an unknown message or tuple kind.
var ErrMalformed = errors.New("malformed pgoutput message")

// errDecoderPanic marks a panic recovered from pglogrepl. The frame check is
// meant to make it unreachable; the fuzz target fails when it shows up.
var errDecoderPanic = errors.New("pglogrepl decoder panicked")

// Decode parses one pgoutput v1 message (XLogData.WALData). Malformed input
// gives an error wrapping ErrMalformed, never a panic.
//
// The caller must pass a private copy of the payload: a LogicalDecodingMessage's
// Content aliases walData (tuple values are copied by pglogrepl).
func Decode(walData []byte) (msg pglogrepl.Message, err error) {
	if err := checkFrame(walData); err != nil {
		return nil, err
	}
	// The frame check above makes every read in pglogrepl's decoders stay in
	// bounds; this recover keeps a gap in it from taking the process down.
	defer func() {
		if r := recover(); r != nil {
			msg = nil
			err = fmt.Errorf("%w: %w: %v", ErrMalformed, errDecoderPanic, r)
		}
	}()
	msg, err = pglogrepl.Parse(walData)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrMalformed, pglogrepl.MessageType(walData[0]), err)
	}
	return msg, nil
}

// checkFrame walks the pgoutput v1 layout of data without decoding it, so that
// pglogrepl only ever sees frames whose every length fits: its decoders index
// without bounds checks and allocate whatever a length field claims (a
// garbage Truncate count would ask for gigabytes before failing).
func checkFrame(data []byte) error {
	if len(data) == 0 {
		return fmt.Errorf("%w: empty payload", ErrMalformed)
	}
	kind := pglogrepl.MessageType(data[0])
	r := frameReader{buf: data, off: 1, msg: kind}
	switch kind {
	case pglogrepl.MessageTypeBegin:
		r.skip(8+8+4, "final LSN, commit time and xid")
	case pglogrepl.MessageTypeCommit:
		r.skip(1+8+8+8, "flags, commit LSN, end LSN and commit time")
	case pglogrepl.MessageTypeOrigin:
		r.skip(8, "origin LSN")
		r.cstring("origin name")
	case pglogrepl.MessageTypeRelation:
		r.skip(4, "relation id")
		r.cstring("namespace")
		r.cstring("relation name")
		r.skip(1, "replica identity")
		n := r.u16("column count")
		for i := 0; i < int(n) && r.err == nil; i++ {
			r.skip(1, "column flags")
			r.cstring("column name")
			r.skip(4+4, "column type and modifier")
		}
	case pglogrepl.MessageTypeType:
		r.skip(4, "type id")
		r.cstring("type namespace")
		r.cstring("type name")
	case pglogrepl.MessageTypeInsert:
		r.skip(4, "relation id")
		r.expect("new row marker", 'N')
		r.tuple("new row")
	case pglogrepl.MessageTypeUpdate:
		r.skip(4, "relation id")
		switch r.peek("row marker") {
		case 'K', 'O':
			r.skip(1, "old row marker")
			r.tuple("old row")
		}
		r.expect("new row marker", 'N')
		r.tuple("new row")
	case pglogrepl.MessageTypeDelete:
		r.skip(4, "relation id")
		r.expect("old row marker", 'K', 'O')
		r.tuple("old row")
	case pglogrepl.MessageTypeTruncate:
		n := r.u32("relation count")
		r.skip(1, "options")
		if r.err == nil && uint64(n)*4 != uint64(r.left()) {
			r.fail(fmt.Sprintf("%d relation ids need %d bytes, %d left", n, uint64(n)*4, r.left()))
		}
		r.skip(int(n)*4, "relation ids")
	case pglogrepl.MessageTypeMessage:
		r.skip(1+8, "flags and LSN")
		r.cstring("prefix")
		r.skip(int(r.u32("content length")), "content")
	default:
		return fmt.Errorf("%w: unsupported message type %q (shapesync streams proto_version 1)", ErrMalformed, rune(kind))
	}
	if r.err == nil && r.left() != 0 {
		r.fail(fmt.Sprintf("%d trailing bytes", r.left()))
	}
	return r.err
}

// frameReader is a bounds-checked cursor; the first failure sticks and every
// later read is a no-op, so a layout reads as straight-line code.
type frameReader struct {
	buf []byte
	off int
	msg pglogrepl.MessageType
	err error
}

func (r *frameReader) left() int { return len(r.buf) - r.off }

func (r *frameReader) fail(detail string) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: %s message at byte %d: %s", ErrMalformed, r.msg, r.off, detail)
	}
}

func (r *frameReader) need(n int, what string) bool {
	if r.err != nil {
		return false
	}
	if n < 0 || n > r.left() {
		r.fail(fmt.Sprintf("%s needs %d bytes, %d left", what, n, r.left()))
		return false
	}
	return true
}

func (r *frameReader) skip(n int, what string) {
	if r.need(n, what) {
		r.off += n
	}
}

func (r *frameReader) peek(what string) byte {
	if !r.need(1, what) {
		return 0
	}
	return r.buf[r.off]
}

func (r *frameReader) expect(what string, allowed ...byte) {
	c := r.peek(what)
	if r.err != nil {
		return
	}
	for _, a := range allowed {
		if c == a {
			r.off++
			return
		}
	}
	r.fail(fmt.Sprintf("%s is %q, want one of %q", what, rune(c), allowed))
}

func (r *frameReader) u16(what string) uint16 {
	if !r.need(2, what) {
		return 0
	}
	v := uint16(r.buf[r.off])<<8 | uint16(r.buf[r.off+1])
	r.off += 2
	return v
}

func (r *frameReader) u32(what string) uint32 {
	if !r.need(4, what) {
		return 0
	}
	b := r.buf[r.off:]
	r.off += 4
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

func (r *frameReader) cstring(what string) {
	if r.err != nil {
		return
	}
	for i := r.off; i < len(r.buf); i++ {
		if r.buf[i] == 0 {
			r.off = i + 1
			return
		}
	}
	r.fail(what + " has no terminating NUL")
}

// tuple checks a TupleData: a column count, then per column a kind byte and,
// for text and binary values, a length and that many bytes. Labels are only
// formatted on failure: this runs for every column of every change.
func (r *frameReader) tuple(what string) {
	if r.err == nil && r.left() < 2 {
		r.fail(fmt.Sprintf("%s column count needs 2 bytes, %d left", what, r.left()))
	}
	n := r.u16("")
	for i := 0; i < int(n) && r.err == nil; i++ {
		if r.left() < 1 {
			r.fail(fmt.Sprintf("%s column %d kind needs 1 bytes, 0 left", what, i))
			return
		}
		switch kind := r.buf[r.off]; kind {
		case pglogrepl.TupleDataTypeNull, pglogrepl.TupleDataTypeToast:
			r.off++
		case pglogrepl.TupleDataTypeText, pglogrepl.TupleDataTypeBinary:
			r.off++
			if r.left() < 4 {
				r.fail(fmt.Sprintf("%s column %d length needs 4 bytes, %d left", what, i, r.left()))
				return
			}
			l := r.u32("")
			if uint64(l) > uint64(r.left()) {
				r.fail(fmt.Sprintf("%s column %d length %d exceeds the %d bytes left", what, i, l, r.left()))
				return
			}
			r.off += int(l)
		default:
			r.fail(fmt.Sprintf("%s column %d kind %q is not n, u, t or b", what, i, rune(kind)))
		}
	}
}
