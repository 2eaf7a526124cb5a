package logitems

import (
	"testing"

	"github.com/shapesync/shapesync/replication/events"
)

var benchRel = &events.Relation{Schema: "public", Name: "items", Columns: []events.Column{
	{Name: "id", TypeOID: 20}, {Name: "title", TypeOID: 25}, {Name: "done", TypeOID: OIDBool},
	{Name: "created_at", TypeOID: 1184}, {Name: "price", TypeOID: 1700},
}}

func BenchmarkInsert5Columns(b *testing.B) {
	e, err := NewEncoder(Config{Schema: "public", Table: "items", Relation: benchRel, Columns: []int{0, 1, 2, 3, 4}, KeyColumns: []int{0}})
	if err != nil {
		b.Fatal(err)
	}
	ch := &events.Change{Kind: events.Insert, New: events.Tuple{
		val("1234567"), val("Buy milk and \"bread\""), val("f"), val("2024-01-31 12:34:56.789+00"), val("12.3400"),
	}}
	items := make([]Item, 0, 2)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ch.Op = uint64(i) * 2
		items, err = e.AppendChange(items[:0], Tx{CommitLSN: 26800584, Xid: 768}, ch, MatchBoth, false)
		if err != nil || len(items) != 1 {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "items/s")
}

func BenchmarkSnapshotRow5ColumnsRaw(b *testing.B) {
	e, err := NewEncoder(Config{Schema: "public", Table: "items", Relation: benchRel, Columns: []int{0, 1, 2, 3, 4}, KeyColumns: []int{0}})
	if err != nil {
		b.Fatal(err)
	}
	row := [][]byte{[]byte("1234567"), []byte("Buy milk and \"bread\""), []byte("false"), []byte("2024-01-31 12:34:56.789+00"), []byte("12.3400")}
	buf := make([]byte, 0, 4096)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		buf, err = e.AppendSnapshotRowRaw(buf[:0], row)
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
