package snapshot

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5"

	"github.com/shapesync/shapesync/replication/events"
)

func TestSelectSQL(t *testing.T) {
	t.Parallel()
	tb := &events.Table{Schema: `my "schema"`, Name: "Items", Columns: []events.TableColumn{
		{Name: "id", TypeName: "int4"},
		{Name: "code", TypeName: "bpchar"},
		{Name: "codes", TypeName: "bpchar", IsArray: true, Dims: 1},
		{Name: `we"ird`, TypeName: "text"},
	}}
	got, err := SelectSQL(tb, []int{3, 0, 1, 2})
	want := `SELECT "we""ird"::text, "id"::text, CASE WHEN "code" IS NULL THEN NULL ELSE concat("code", '') END, "codes"::text FROM "my ""schema"""."Items"`
	if err != nil || got != want {
		t.Errorf("SelectSQL =\n%s, %v\nwant\n%s", got, err, want)
	}
	got, err = SelectWhereSQL(tb, []int{0}, `"id" > $1`)
	if want := `SELECT "id"::text FROM "my ""schema"""."Items" WHERE ("id" > $1)`; err != nil || got != want {
		t.Errorf("SelectWhereSQL = %s, %v", got, err)
	}
	for _, cols := range [][]int{{4}, {-1}, {}} {
		if _, err := SelectSQL(tb, cols); err == nil {
			t.Errorf("SelectSQL accepted columns %v", cols)
		}
	}
	bad := &events.Table{Schema: "public", Name: "a\x00b", Columns: tb.Columns}
	if _, err := SelectSQL(bad, []int{0}); err == nil {
		t.Error("SelectSQL accepted a name with NUL")
	}
}

// typesTable has a column of each common type; typesRows fill it with
// ordinary values, edge cases and NULLs.
const typesTable = `CREATE TABLE types (
	id int PRIMARY KEY,
	i2 int2, i4 int4, i8 int8, f4 float4, f8 float8, num numeric(12,4), anynum numeric,
	b bool, t text, vc varchar(10), c char(5), bs bytea, u uuid,
	d date, ts timestamp, tstz timestamptz, tm time, tmtz timetz, iv interval,
	js json, jsb jsonb,
	ia int[], ia2 int[][], ba bool[], ta text[], ca char(3)[],
	e mood, dom posint, comp pair, ip inet, net cidr, mac macaddr, r int4range, pt point,
	money money, bits varbit, x xml)`

var typesRows = []string{
	`(1, 1, 2, 3, 4.5, 0.1, 12.34, 1e-10,
	  true, 'hello', 'short', 'ab', '\x0001fffe', '0b5c0d4a-4e6c-4b1e-9d4b-7e2f6c1d2a3b',
	  '2024-01-31', '2024-01-31 12:34:56.789', '2024-01-31 12:34:56.789+02', '12:34:56', '12:34:56+05:30', '1 year 2 months 3 days 04:05:06',
	  '{"foo":"bar",  "n": 1}', '{"foo":"bar",  "n": 1}',
	  '{1,2,3}', '{{1,2},{3,4}}', '{t,f}', '{"a b","c,d","e\"f",NULL,"NULL"}', '{"x","yy"}',
	  'happy', 7, ROW(1, 'one'), '10.0.0.1', '10.0.0.0/8', '08:00:2b:01:02:03', '[1,10)', '(1.5,2.5)',
	  12.5, B'1011', '<a>x</a>')`,
	`(2, -32768, -2147483648, 9223372036854775807, 'Infinity', 'NaN', -0.0001, 123456789012345678901234567890.123,
	  false, '', '', '', '', '00000000-0000-0000-0000-000000000000',
	  'infinity', '-infinity', '1999-12-31 23:59:59.999999+00', '00:00:00', '00:00:00+00', '-1 days -00:00:01',
	  '[]', '{"b": [1, 2], "a": null}',
	  '{}', '{{NULL,1},{2,NULL}}', '{}', '{"ü","€ ✓", "back\\slash"}', '{NULL}',
	  'sad', 1, ROW(NULL, ''), '::1', '2001:db8::/32', 'ff:ff:ff:ff:ff:ff', 'empty', '(0,0)',
	  -1, B'', '')`,
	`(3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
	  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`,
	`(4, 0, 0, 0, '-Infinity', 1e300, 0, 'NaN',
	  true, 'NULL', 'x', 'abcde', '\x00', 'ffffffff-ffff-ffff-ffff-ffffffffffff',
	  '2024-02-29', '2024-02-29 00:00:00', '2024-02-29 00:00:00+00', '23:59:59.999999', '23:59:59-12', '0',
	  'null', '"str"',
	  '{-1}', '{{1}}', '{f}', '{""}', '{"a  "}',
	  'happy', 2, ROW(2, 'a"b'), '192.168.1.5/24', '192.168.1.0/24', '00:00:00:00:00:00', '(,5]', '(-1e+30,1e-30)',
	  0, B'0', '<!-- c -->')`,
}

// TestSelectSQLMatchesPgoutput compares, for every common type, the values
// the snapshot query reads with the ones pgoutput sends for the same rows
// under the same display settings (SHAPE_API §12.6). The only differences
// allowed are the two the spec names (§25.2): bool as true/false, and inet
// with a full-length mask.
//
// Not parallel: creating a logical slot waits for every running
// transaction of the cluster.
func TestSelectSQLMatchesPgoutput(t *testing.T) {
	d := newDB(t)
	for _, sql := range []string{
		"CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')",
		"CREATE DOMAIN posint AS int CHECK (VALUE > 0)",
		"CREATE TYPE pair AS (a int, b text)",
		typesTable,
		"ALTER PUBLICATION " + testPub + " ADD TABLE types",
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
	d.exec(t, "INSERT INTO types VALUES "+strings.Join(typesRows, ", "))

	tb := d.lookup(t, "public", "types")
	cols := allColumns(tb)
	snapshotRows := readSnapshotRows(t, d, tb, cols)
	streamRows := readPgoutputInserts(t, d, slot)
	if len(snapshotRows) != len(typesRows) || len(streamRows) != len(typesRows) {
		t.Fatalf("%d snapshot rows, %d stream rows; want %d", len(snapshotRows), len(streamRows), len(typesRows))
	}
	differences := 0
	for id, snapRow := range snapshotRows {
		streamRow, ok := streamRows[id]
		if !ok {
			t.Fatalf("row %s missing from the stream", id)
		}
		for i, c := range tb.Columns {
			sv, pv := snapRow[i], streamRow[i]
			if (sv == nil) != (pv == nil) {
				t.Errorf("row %s %s: snapshot %s, stream %s (NULL must stay NULL)", id, c.Name, show(sv), show(pv))
				continue
			}
			if sv == nil || *sv == *pv {
				continue
			}
			switch {
			case c.Name == "b" && (*sv == "true" && *pv == "t" || *sv == "false" && *pv == "f"):
				differences++
			case c.Name == "ip" && strings.TrimSuffix(strings.TrimSuffix(*sv, "/32"), "/128") == *pv:
				differences++
			default:
				t.Errorf("row %s %s (%s): snapshot %q, stream %q", id, c.Name, c.TypeName, *sv, *pv)
			}
		}
	}
	// Rows 1, 2 and 4 differ in b; rows 1 and 2 (full-length masks) in ip.
	if differences != 5 {
		t.Errorf("%d known differences (bool, inet); want 5", differences)
	}

	// The display settings of ConfigurePool are in effect (SHAPE_API §12.6
	// table): without them these would render differently.
	for col, want := range map[string]string{
		"bs":   `\x0001fffe`,
		"d":    "2024-01-31",
		"tstz": "2024-01-31 10:34:56.789+00",
		"iv":   "P1Y2M3DT4H5M6S",
		"f8":   "0.1",
		"jsb":  `{"n": 1, "foo": "bar"}`,
		"js":   `{"foo":"bar",  "n": 1}`,
		"ta":   `{"a b","c,d","e\"f",NULL,"NULL"}`,
		"b":    "true",
		"ip":   "10.0.0.1/32",
	} {
		if got := *snapshotRows["1"][columnIndex(tb, col)]; got != want {
			t.Errorf("row 1 %s = %q; want %q", col, got, want)
		}
	}

	// char(n) keeps its padding, which the plain cast drops; NULL stays NULL.
	if got := *snapshotRows["1"][columnIndex(tb, "c")]; got != "ab   " {
		t.Errorf("char(5) 'ab' read as %q", got)
	}
	if got := d.queryString(t, "SELECT c::text FROM types WHERE id = 1"); got != "ab" {
		t.Errorf("the plain cast gives %q; the test no longer shows why concat is used", got)
	}
	if got := snapshotRows["3"][columnIndex(tb, "c")]; got != nil {
		t.Errorf("NULL char(5) read as %q", *got)
	}
	if got := *snapshotRows["4"][columnIndex(tb, "ca")]; got != `{"a  "}` {
		t.Errorf("char(3)[] read as %q", got)
	}
}

func randomSlot(t *testing.T) string {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "snapshot_test_" + hex.EncodeToString(b)
}

func columnIndex(tb *events.Table, name string) int {
	for i, c := range tb.Columns {
		if c.Name == name {
			return i
		}
	}
	panic("no column " + name)
}

func show(s *string) string {
	if s == nil {
		return "NULL"
	}
	return fmt.Sprintf("%q", *s)
}

// readSnapshotRows runs SelectSQL on a snapshot-pool connection, as Run
// does, keyed by the first column's text.
func readSnapshotRows(t *testing.T, d *db, tb *events.Table, cols []int) map[string][]*string {
	t.Helper()
	sql, err := SelectSQL(tb, cols)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := d.snap.Query(context.Background(), sql, pgx.QueryResultFormats{pgx.TextFormatCode})
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string][]*string{}
	for rows.Next() {
		out[*textValues(rows.RawValues())[0]] = textValues(rows.RawValues())
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func textValues(raw [][]byte) []*string {
	out := make([]*string, len(raw))
	for i, v := range raw {
		if v != nil {
			s := string(v)
			out[i] = &s
		}
	}
	return out
}

// readPgoutputInserts decodes the slot's pending changes with pgoutput on a
// snapshot-pool connection (so the output functions run under the display
// settings, as on the replication connection) and returns the inserted
// tuples keyed by their first column.
func readPgoutputInserts(t *testing.T, d *db, slot string) map[string][]*string {
	t.Helper()
	rows, err := d.snap.Query(context.Background(),
		"SELECT data FROM pg_logical_slot_get_binary_changes($1, NULL, NULL, 'proto_version', '1', 'publication_names', $2)", slot, testPub)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string][]*string{}
	for rows.Next() {
		var data []byte
		if err := rows.Scan(&data); err != nil {
			t.Fatal(err)
		}
		msg, err := pglogrepl.Parse(data)
		if err != nil {
			t.Fatalf("parse pgoutput message %q: %v", data, err)
		}
		ins, ok := msg.(*pglogrepl.InsertMessage)
		if !ok {
			continue
		}
		vals := make([]*string, len(ins.Tuple.Columns))
		for i, c := range ins.Tuple.Columns {
			switch c.DataType {
			case 'n':
			case 't':
				s := string(c.Data)
				vals[i] = &s
			default:
				t.Fatalf("column %d sent as %q", i, c.DataType)
			}
		}
		out[*vals[0]] = vals
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
