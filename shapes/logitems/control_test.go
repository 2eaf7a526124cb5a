package logitems

import (
	"testing"

	"github.com/shapesync/shapesync/replication/lsn"
)

func TestControlMessages(t *testing.T) {
	t.Parallel()
	cases := []struct {
		got  []byte
		want string
	}{
		{AppendUpToDate(nil, 0), `{"headers":{"control":"up-to-date","global_last_seen_lsn":"0"}}`},
		{AppendUpToDate(nil, lsn.LSN(^uint64(0))), `{"headers":{"control":"up-to-date","global_last_seen_lsn":"18446744073709551615"}}`},
		{AppendUpToDate(nil, 0x16B3748), `{"headers":{"control":"up-to-date","global_last_seen_lsn":"23803720"}}`},
		{AppendSnapshotEnd(nil, lsn.Snapshot{Xmin: 100, Xmax: 105}), `{"headers":{"control":"snapshot-end","xmin":"100","xmax":"105","xip_list":[]}}`},
		{AppendSnapshotEnd(nil, lsn.Snapshot{Xmin: 1<<33 - 2, Xmax: 1<<33 + 3, Xip: []uint64{1<<33 - 2, 1<<33 + 1}}), `{"headers":{"control":"snapshot-end","xmin":"8589934590","xmax":"8589934595","xip_list":["8589934590","8589934593"]}}`},
		{AppendMustRefetch(nil), `{"headers":{"control":"must-refetch"}}`},
	}
	for _, c := range cases {
		// Byte comparison: these are fixed texts, and the client parses the
		// numbers as strings.
		if string(c.got) != c.want {
			t.Errorf("got %s, want %s", c.got, c.want)
		}
		decodeJSON(t, c.got)
	}
	if got := string(AppendMustRefetch([]byte("["))); got != `[{"headers":{"control":"must-refetch"}}` {
		t.Errorf("AppendMustRefetch does not append: %s", got)
	}
}
