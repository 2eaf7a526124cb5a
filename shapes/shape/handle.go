package shape

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Handle names one incarnation of a shape (SHAPE_API §6.2): the decimal hash
// of its definition and its creation time in unix microseconds, written
// "<hash>-<µs>". Clients treat it as opaque; it must never be reissued.
type Handle struct {
	Hash   uint64
	Micros int64
}

// NewHandle makes the handle of def created at now. On its own it does not
// guarantee uniqueness (two creations in one microsecond, or a clock that
// went back across a restart); the registry mints through a HandleMinter.
func NewHandle(def *Definition, now time.Time) Handle {
	return Handle{Hash: def.Hash(), Micros: now.UnixMicro()}
}

// String writes "<hash>-<µs>".
func (h Handle) String() string {
	b := make([]byte, 0, 40)
	b = strconv.AppendUint(b, h.Hash, 10)
	b = append(b, '-')
	return string(strconv.AppendInt(b, h.Micros, 10))
}

// ParseHandle reads "<hash>-<µs>", both decimal without sign or leading
// zeros, so that ParseHandle(s).String() == s for every accepted s. Any
// other text is an error (the caller answers such a handle with a 409).
func ParseHandle(s string) (Handle, error) {
	hs, ms, ok := strings.Cut(s, "-")
	if !ok || !canonicalDecimal(hs) || !canonicalDecimal(ms) {
		return Handle{}, fmt.Errorf("shape: handle %q is not <hash>-<unix µs>", s)
	}
	h, err := strconv.ParseUint(hs, 10, 64)
	if err != nil {
		return Handle{}, fmt.Errorf("shape: handle %q: hash: %w", s, err)
	}
	m, err := strconv.ParseInt(ms, 10, 64)
	if err != nil {
		return Handle{}, fmt.Errorf("shape: handle %q: time: %w", s, err)
	}
	return Handle{Hash: h, Micros: m}, nil
}

func canonicalDecimal(s string) bool {
	if s == "" || len(s) > 1 && s[0] == '0' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// HandleMinter mints handles whose microsecond parts strictly increase, so
// no two handles it mints are equal, whatever their hashes, even when the
// clock stalls or steps back. To keep that across restarts the caller
// persists LastMicros (the registry stores every handle durably before
// answering) and passes the largest value to NewHandleMinter.
type HandleMinter struct {
	mu   sync.Mutex
	last int64
}

// NewHandleMinter starts after lastMicros, the largest microsecond part of
// any handle already issued (0 for a new deployment).
func NewHandleMinter(lastMicros int64) *HandleMinter {
	return &HandleMinter{last: lastMicros}
}

// Mint returns a handle for def at now, or one microsecond after the last
// minted handle if now is not later.
func (m *HandleMinter) Mint(def *Definition, now time.Time) Handle {
	h := def.Hash() // outside the lock: hashing allocates
	m.mu.Lock()
	defer m.mu.Unlock()
	us := now.UnixMicro()
	if us <= m.last {
		us = m.last + 1
	}
	m.last = us
	return Handle{Hash: h, Micros: us}
}

// LastMicros is the microsecond part of the last minted handle.
func (m *HandleMinter) LastMicros() int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.last
}
