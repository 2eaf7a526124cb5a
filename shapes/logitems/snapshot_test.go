package logitems

import (
	"bytes"
	"testing"

	"github.com/shapesync/shapesync/replication/events"
)

func TestAppendSnapshotRow(t *testing.T) {
	t.Parallel()
	e := itemsEncoder(t, ReplicaDefault)
	const want = `{"key":"\"public\".\"items\"/\"1\"","value":{"id":"1","title":"A","done":"true"},"headers":{"operation":"insert","relation":["public","items"]}}`
	got, err := e.AppendSnapshotRow([]byte("keep"), events.Tuple{val("1"), val("A"), val("true")})
	if err != nil {
		t.Fatal(err)
	}
	if string(got[:4]) != "keep" {
		t.Fatal("AppendSnapshotRow clobbered dst")
	}
	sameJSON(t, got[4:], want)
	raw, err := e.AppendSnapshotRowRaw(nil, [][]byte{[]byte("1"), []byte("A"), []byte("true")})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(raw, got[4:]) {
		t.Errorf("raw and tuple forms differ:\n%s\n%s", raw, got[4:])
	}

	nulls, _ := e.AppendSnapshotRow(nil, events.Tuple{val("2"), null, null})
	sameJSON(t, nulls, `{"key":"\"public\".\"items\"/\"2\"","value":{"id":"2","title":null,"done":null},"headers":{"operation":"insert","relation":["public","items"]}}`)
	rawNulls, _ := e.AppendSnapshotRowRaw(nil, [][]byte{[]byte("2"), nil, nil})
	if !bytes.Equal(nulls, rawNulls) {
		t.Errorf("raw NULLs differ: %s", rawNulls)
	}
	// An empty, non-nil value is the empty string, not NULL.
	empty, _ := e.AppendSnapshotRowRaw(nil, [][]byte{[]byte("3"), {}, nil})
	sameJSON(t, empty, `{"key":"\"public\".\"items\"/\"3\"","value":{"id":"3","title":"","done":null},"headers":{"operation":"insert","relation":["public","items"]}}`)

	for _, bad := range []events.Tuple{{val("1")}, {val("1"), val("2"), val("3"), val("4")}} {
		if _, err := e.AppendSnapshotRow(nil, bad); err == nil {
			t.Errorf("row of %d values accepted", len(bad))
		}
	}
	if _, err := e.AppendSnapshotRowRaw(nil, [][]byte{nil}); err == nil {
		t.Error("short raw row accepted")
	}
}

// Items own their bytes: encoding more does not change earlier items.
func TestItemsDoNotAlias(t *testing.T) {
	t.Parallel()
	e := itemsEncoder(t, ReplicaFull)
	first, _ := e.AppendChange(nil, tx, &events.Change{Kind: events.Insert, New: row("1", "a", "t", "")}, MatchBoth, false)
	keep := string(first[0].JSON)
	for i := 0; i < 10; i++ {
		_, _ = e.AppendChange(nil, tx, &events.Change{Kind: events.Update, Old: row("1", "a", "t", ""), New: row("2", "a much longer title that needs more room", "f", "")}, MatchBoth, true)
		_, _ = e.AppendSnapshotRow(nil, events.Tuple{val("9"), val("zzzz"), val("t")})
	}
	if string(first[0].JSON) != keep {
		t.Fatalf("item changed after later encodes:\n%s\n%s", keep, first[0].JSON)
	}
	if cap(first[0].JSON) != len(first[0].JSON) {
		t.Errorf("item JSON keeps spare capacity %d > %d", cap(first[0].JSON), len(first[0].JSON))
	}
}
