package storage

import (
	"testing"
	"time"
)

// BenchmarkAppendAndSync measures the write path in domain units: 200-byte
// items spread over 16 shapes, one transaction per item, one WriteAndSync
// (WriteBatch + db.Sync) per 1,000 items, on a real directory.
func BenchmarkAppendAndSync(b *testing.B) {
	const (
		itemBytes = 200
		perSync   = 1000
		shapes    = 16
	)
	s, err := Open(b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if _, err := s.LoadAll(); err != nil {
		b.Fatal(err)
	}
	items := make([][]byte, perSync)
	for i := range items {
		items[i] = item("bench", itemBytes)
	}
	w := s.NewWriter()
	batch := w.NewBatch()
	tx := uint64(1)
	b.SetBytes(itemBytes)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		id := uint64(i%shapes) + 1
		o := off(tx, 0)
		if err := batch.AppendChange(id, o, items[i%perSync]); err != nil {
			b.Fatal(err)
		}
		if err := batch.Commit(id, o); err != nil {
			b.Fatal(err)
		}
		tx++
		if (i+1)%perSync == 0 || i == b.N-1 {
			batch.Seal()
			if _, err := s.WriteAndSync(batch); err != nil {
				b.Fatal(err)
			}
			batch = w.NewBatch()
		}
	}
	b.StopTimer()
	secs := time.Since(start).Seconds()
	b.ReportMetric(float64(b.N)/secs, "items/s")
	b.ReportMetric(float64(b.N)*itemBytes/secs/1e6, "MB/s")
}
