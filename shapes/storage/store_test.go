package storage

import (
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

func TestBadgerLogsGoToZap(t *testing.T) {
	t.Parallel()
	core, logs := observer.New(zapcore.DebugLevel)
	s, err := Open(t.TempDir(), Options{Logger: zap.New(core)})
	must(t, err)
	must(t, s.Close())
	n := 0
	for _, e := range logs.All() {
		if e.LoggerName != "badger" {
			t.Errorf("log line from %q, want logger \"badger\": %s", e.LoggerName, e.Message)
		}
		if strings.HasSuffix(e.Message, "\n") {
			t.Errorf("log line keeps badger's newline: %q", e.Message)
		}
		n++
	}
	if n == 0 {
		t.Fatalf("badger logged nothing through zap on open and close")
	}
}

func TestOpenLockedDirectoryFailsClearly(t *testing.T) {
	t.Parallel()
	s, dir := newTestStore(t, Options{})
	_ = s
	if s2, err := Open(dir, Options{}); err == nil {
		s2.Close()
		t.Fatalf("a second Open of the same directory succeeded")
	} else if !strings.Contains(err.Error(), "directory lock") {
		t.Fatalf("error %q does not name the directory lock", err)
	}
}

func TestClosedStore(t *testing.T) {
	t.Parallel()
	s, err := Open(t.TempDir(), Options{})
	must(t, err)
	_, err = s.LoadAll()
	must(t, err)
	must(t, s.Close())
	must(t, s.Close())
	if err := s.Read(1, off(0, 0), off(0, 1), func([]byte) error { return nil }); err != ErrClosed {
		t.Errorf("Read after Close: %v", err)
	}
	b := s.NewWriter().NewBatch()
	b.Seal()
	if _, err := s.WriteAndSync(b); err != ErrClosed {
		t.Errorf("WriteAndSync after Close: %v", err)
	}
	if _, err := s.LoadAll(); err != ErrClosed {
		t.Errorf("LoadAll after Close: %v", err)
	}
}

func TestInMemoryStore(t *testing.T) {
	t.Parallel()
	s, err := Open("", Options{InMemory: true, ChunkBytesThreshold: 100})
	must(t, err)
	defer s.Close()
	_, err = s.LoadAll()
	must(t, err)
	b := s.NewWriter().NewBatch()
	snapshotRows(t, b, 1, 10)
	big := item("big", 3<<20) // above badger's in-memory transaction limit: split
	must(t, b.AppendChange(1, off(9, 0), big))
	must(t, b.Commit(1, off(9, 0)))
	must(t, b.SetConsumerMeta(1, []byte("xmin=5")))
	mustSync(t, s, b)
	got := flatten(walk(t, s, 1))
	if len(got) != 12 || string(got[11]) != string(big) {
		t.Fatalf("in-memory walk returned %d entries", len(got))
	}
	if v, _ := s.View(1); string(v.ConsumerMeta()) != "xmin=5" {
		t.Fatalf("consumer meta %q", v.ConsumerMeta())
	}
}
