package snapshot

import (
	"context"
	"testing"

	"github.com/shapesync/shapesync/replication/events"
)

// TestSelectSQLUserTypes: scalar columns of user-defined types (domains
// above all) read through the output function; built-in types other than
// char(n), and arrays, keep the cast.
func TestSelectSQLUserTypes(t *testing.T) {
	t.Parallel()
	tb := &events.Table{Schema: "public", Name: "t", Columns: []events.TableColumn{
		{Name: "flag", TypeName: "bool", TypeOID: 16},
		{Name: "dom", TypeName: "boolish", TypeOID: firstUserOID},
		{Name: "doms", TypeName: "boolish", TypeOID: firstUserOID + 1, IsArray: true, Dims: 1},
		{Name: "last_builtin", TypeName: "x", TypeOID: firstUserOID - 1},
	}}
	got, err := SelectSQL(tb, []int{0, 1, 2, 3})
	want := `SELECT "flag"::text, CASE WHEN "dom" IS NULL THEN NULL ELSE concat("dom", '') END, "doms"::text, "last_builtin"::text FROM "public"."t"`
	if err != nil || got != want {
		t.Errorf("SelectSQL =\n%s, %v\nwant\n%s", got, err, want)
	}
}

// TestSelectSQLDomainsMatchPgoutput: a domain column reads exactly as
// pgoutput sends it, with no exception, NULL included. A plain ::text of a
// domain goes through its base type's cast: a domain over char(n) would lose
// its padding, and one over bool or inet would read true/false and a
// full-length mask, which (unlike for bool and inet themselves, SHAPE_API
// §25.2) nothing canonicalises in keys, so a key over such a column would
// differ between the snapshot and the stream.
//
// Not parallel: creating a logical slot waits for every running
// transaction of the cluster.
func TestSelectSQLDomainsMatchPgoutput(t *testing.T) {
	d := newDB(t)
	for _, sql := range []string{
		"CREATE DOMAIN code4 AS char(4)",
		"CREATE DOMAIN boolish AS bool",
		"CREATE DOMAIN inetish AS inet",
		"CREATE DOMAIN code4_again AS code4 NOT NULL",
		"CREATE TABLE doms (id int PRIMARY KEY, c code4, b boolish, ip inetish, cc code4_again, ca code4[])",
		"ALTER PUBLICATION " + testPub + " ADD TABLE doms",
	} {
		d.exec(t, sql)
	}
	slot := randomSlot(t)
	d.exec(t, "SELECT pg_create_logical_replication_slot($1, 'pgoutput')", slot)
	t.Cleanup(func() {
		if _, err := d.admin.Exec(context.Background(), "SELECT pg_drop_replication_slot($1)", slot); err != nil {
			t.Errorf("drop slot: %v", err)
		}
	})
	d.exec(t, `INSERT INTO doms VALUES (1, 'ab', true, '10.0.0.1', 'x', '{"y"}'),
		(2, '', false, '::1', '', '{}'), (3, NULL, NULL, NULL, 'abcd', NULL)`)

	tb := d.lookup(t, "public", "doms")
	snapshotRows := readSnapshotRows(t, d, tb, allColumns(tb))
	streamRows := readPgoutputInserts(t, d, slot)
	if len(snapshotRows) != 3 || len(streamRows) != 3 {
		t.Fatalf("%d snapshot rows, %d stream rows; want 3", len(snapshotRows), len(streamRows))
	}
	for id, snapRow := range snapshotRows {
		for i, c := range tb.Columns {
			if sv, pv := show(snapRow[i]), show(streamRows[id][i]); sv != pv {
				t.Errorf("row %s %s (%s): snapshot %s, stream %s", id, c.Name, c.TypeName, sv, pv)
			}
		}
	}
	// The stream's own renderings, so a pgoutput change cannot make the
	// comparison vacuous.
	for col, want := range map[string]string{"c": `"ab  "`, "b": `"t"`, "ip": `"10.0.0.1"`, "cc": `"x   "`, "ca": `"{\"y   \"}"`} {
		if got := show(snapshotRows["1"][columnIndex(tb, col)]); got != want {
			t.Errorf("row 1 %s = %s; want %s", col, got, want)
		}
	}
}
