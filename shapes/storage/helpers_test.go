package storage

import (
	"bytes"
	"fmt"
	"os"
	"testing"

	"github.com/dgraph-io/badger/v4"
	"go.uber.org/goleak"

	"github.com/shapesync/shapesync/replication/lsn"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// tb is what the helpers need from *testing.T, *testing.B and *rapid.T.
type tb interface {
	Helper()
	Fatalf(format string, args ...any)
}

// openStore opens a store on a real directory and loads it.
func openStore(t tb, dir string, opts Options) *Store {
	t.Helper()
	s, err := Open(dir, opts)
	if err != nil {
		t.Fatalf("Open(%s): %v", dir, err)
	}
	if _, err := s.LoadAll(); err != nil {
		s.Close()
		t.Fatalf("LoadAll: %v", err)
	}
	return s
}

func newTestStore(t *testing.T, opts Options) (*Store, string) {
	t.Helper()
	dir := t.TempDir()
	s := openStore(t, dir, opts)
	t.Cleanup(func() { s.Close() })
	return s, dir
}

func reopen(t tb, s *Store, dir string, opts Options) *Store {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	return openStore(t, dir, opts)
}

func mustSync(t tb, s *Store, b *Batch) Result {
	t.Helper()
	b.Seal()
	res, err := s.WriteAndSync(b)
	if err != nil {
		t.Fatalf("WriteAndSync: %v", err)
	}
	return res
}

func must(t tb, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}

func off(tx, op uint64) lsn.LogOffset { return lsn.LogOffset{Tx: tx, Op: op} }

// item builds a JSON-looking message of exactly n bytes (n ≥ 16 + len(tag)) naming tag.
func item(tag string, n int) []byte {
	b := []byte(fmt.Sprintf(`{"k":"%s","p":"`, tag))
	for len(b) < n-2 {
		b = append(b, 'x')
	}
	b = append(b, `"}`...)
	if len(b) != n {
		panic(fmt.Sprintf("item %q: cannot build %d bytes", tag, n))
	}
	return b
}

// readRange returns copies of the entries in (from, to].
func readRange(t tb, s *Store, id uint64, from, to lsn.LogOffset) [][]byte {
	t.Helper()
	var out [][]byte
	err := s.Read(id, from, to, func(b []byte) error {
		out = append(out, bytes.Clone(b))
		return nil
	})
	if err != nil {
		t.Fatalf("Read(%d, %s, %s): %v", id, from, to, err)
	}
	return out
}

// response is one client request's result.
type response struct {
	from, end lsn.LogOffset
	body      [][]byte
	upToDate  bool
}

// walk follows a shape from -1 the way a client does (SHAPE_API §9.1):
// ce = ChunkEnd(req), read (req, ce], continue from ce until up-to-date.
func walk(t tb, s *Store, id uint64) []response {
	t.Helper()
	var out []response
	req := lsn.BeforeAll
	for i := 0; ; i++ {
		if i > 100000 {
			t.Fatalf("walk of shape %d does not terminate", id)
		}
		v, ok := s.View(id)
		if !ok {
			t.Fatalf("walk: shape %d has no view", id)
		}
		end := v.End()
		if req.Compare(end) > 0 {
			t.Fatalf("walk: request %s beyond end %s", req, end)
		}
		ce := v.ChunkEnd(req)
		if end.Less(ce) {
			t.Fatalf("walk: chunk end %s for %s beyond end %s", ce, req, end)
		}
		if !req.Before && ce.Less(req) {
			t.Fatalf("walk: chunk end %s before request %s", ce, req)
		}
		r := response{from: req, end: ce, body: readRange(t, s, id, req, ce)}
		r.upToDate = !req.Before && ce.Compare(lsn.Max(end, req)) >= 0
		out = append(out, r)
		if r.upToDate {
			return out
		}
		if ce == req {
			t.Fatalf("walk: no progress at %s", req)
		}
		req = ce
	}
}

func flatten(rs []response) [][]byte {
	var out [][]byte
	for _, r := range rs {
		out = append(out, r.body...)
	}
	return out
}

func equalItems(a, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

// allKeys decodes every key of the DB.
func allKeys(t tb, s *Store) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	if err := s.enter(); err != nil {
		t.Fatalf("allKeys: %v", err)
	}
	defer s.life.RUnlock()
	txn := s.db.NewTransaction(false)
	defer txn.Discard()
	it := txn.NewIterator(badgerIterAll())
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		v, err := it.Item().ValueCopy(nil)
		if err != nil {
			t.Fatalf("allKeys: %v", err)
		}
		out[string(it.Item().KeyCopy(nil))] = v
	}
	return out
}

func tempDir(t tb) (string, func()) {
	dir, err := os.MkdirTemp("", "shapestore-")
	if err != nil {
		t.Fatalf("MkdirTemp: %v", err)
	}
	return dir, func() { os.RemoveAll(dir) }
}

func badgerIterAll() badger.IteratorOptions { return badger.DefaultIteratorOptions }
