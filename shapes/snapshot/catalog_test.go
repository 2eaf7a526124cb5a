package snapshot

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/shapesync/shapesync/replication/events"
	"github.com/shapesync/shapesync/shapes/where"
)

func TestLookupTable(t *testing.T) {
	t.Parallel()
	d := newDB(t)
	for _, sql := range []string{
		"CREATE TYPE mood AS ENUM ('sad', 'happy')",
		"CREATE DOMAIN posint AS int CHECK (VALUE > 0)",
		`CREATE TABLE composite (a int, b text, c int NOT NULL, PRIMARY KEY (b, a))`,
		`CREATE TABLE nopk (x int, y text)`,
		`CREATE TABLE kinds (
			id int PRIMARY KEY,
			ints int[], grid text[][], m mood, p posint, v varchar(10), ch char(4),
			doubled int GENERATED ALWAYS AS (id * 2) STORED,
			gone int)`,
		`ALTER TABLE kinds DROP COLUMN gone`,
		`ALTER TABLE kinds REPLICA IDENTITY FULL`,
		`CREATE VIEW a_view AS SELECT 1 AS one`,
		`CREATE SEQUENCE a_seq`,
		`CREATE TABLE parted (id int, k int, PRIMARY KEY (id, k)) PARTITION BY HASH (k)`,
	} {
		d.exec(t, sql)
	}
	ctx := context.Background()

	t.Run("composite primary key in index order", func(t *testing.T) {
		tb := d.lookup(t, "public", "composite")
		names := columnNames(tb)
		if !reflect.DeepEqual(names, []string{"a", "b", "c"}) {
			t.Fatalf("columns %v", names)
		}
		if !reflect.DeepEqual(tb.PrimaryKey, []int{1, 0}) || !reflect.DeepEqual(tb.KeyColumns(), []int{1, 0}) {
			t.Errorf("PrimaryKey = %v; want [1 0] (b, a)", tb.PrimaryKey)
		}
		if !tb.Columns[2].NotNull || !tb.Columns[0].NotNull || tb.Columns[1].TypeName != "text" {
			t.Errorf("columns %+v", tb.Columns)
		}
		if tb.ReplicaIdentityFull || tb.OID == 0 {
			t.Errorf("OID %d, replica identity full %v", tb.OID, tb.ReplicaIdentityFull)
		}
	})
	t.Run("no primary key", func(t *testing.T) {
		tb := d.lookup(t, "public", "nopk")
		if len(tb.PrimaryKey) != 0 || !reflect.DeepEqual(tb.KeyColumns(), []int{0, 1}) {
			t.Errorf("PrimaryKey %v, KeyColumns %v", tb.PrimaryKey, tb.KeyColumns())
		}
	})
	t.Run("types", func(t *testing.T) {
		tb := d.lookup(t, "public", "kinds")
		if !tb.ReplicaIdentityFull {
			t.Error("replica identity FULL not seen")
		}
		byName := map[string]events.TableColumn{}
		for _, c := range tb.Columns {
			byName[c.Name] = c
		}
		if len(tb.Columns) != 8 || byName["gone"].Name != "" {
			t.Fatalf("columns %v: the dropped column must not appear", columnNames(tb))
		}
		check := func(name, typ string, isArray bool, dims int, mod int32, gen byte) {
			t.Helper()
			c := byName[name]
			if c.TypeName != typ || c.IsArray != isArray || c.Dims != dims || c.TypeMod != mod || c.Generated != gen {
				t.Errorf("%s = %+v; want type %s array %v dims %d mod %d generated %q", name, c, typ, isArray, dims, mod, gen)
			}
		}
		check("id", "int4", false, 0, -1, 0)
		check("ints", "int4", true, 1, -1, 0)
		check("grid", "text", true, 2, -1, 0)
		check("m", "mood", false, 0, -1, 0)
		check("p", "posint", false, 0, -1, 0)
		check("v", "varchar", false, 0, 14, 0) // atttypmod is n + 4
		check("ch", "bpchar", false, 0, 8, 0)
		check("doubled", "int4", false, 0, -1, 's')
		if oid := d.queryString(t, "SELECT oid::text FROM pg_type WHERE typname = 'posint'"); byName["p"].TypeOID == 0 || oid == "" {
			t.Errorf("domain OID %d", byName["p"].TypeOID)
		} else if want := d.queryString(t, "SELECT atttypid::text FROM pg_attribute WHERE attrelid = 'kinds'::regclass AND attname = 'p'"); want != oid {
			t.Errorf("domain column's type is %s, not the domain %s", want, oid)
		}
	})
	t.Run("collations", func(t *testing.T) {
		d.exec(t, `CREATE TABLE collated (a text COLLATE "C", b text COLLATE "POSIX", c text, d varchar(4) COLLATE "C.utf8", n int)`)
		tb := d.lookup(t, "public", "collated")
		var got []string
		for _, c := range tb.Columns {
			got = append(got, c.Collation)
		}
		if want := []string{"C", "POSIX", "", "C.utf8", ""}; !reflect.DeepEqual(got, want) {
			t.Errorf("column collations %q, want %q", got, want)
		}
		// The shared test cluster is initialised with --locale=C.
		if tb.DefaultCollation != "C" || tb.CType != "C" {
			t.Errorf("database collation %q ctype %q, want C and C", tb.DefaultCollation, tb.CType)
		}
	})
	t.Run("partitioned table", func(t *testing.T) {
		tb := d.lookup(t, "public", "parted")
		if !reflect.DeepEqual(tb.PrimaryKey, []int{0, 1}) {
			t.Errorf("PrimaryKey %v", tb.PrimaryKey)
		}
	})
	t.Run("not a table", func(t *testing.T) {
		for name, kind := range map[string]string{"a_view": "v", "a_seq": "S"} {
			_, err := LookupTable(ctx, d.admin, "public", name)
			var nt *NotATableError
			if !errors.As(err, &nt) || nt.Kind != kind || nt.Name != name {
				t.Errorf("%s: %v; want NotATableError kind %s", name, err, kind)
			}
		}
	})
	t.Run("missing", func(t *testing.T) {
		for _, n := range [][2]string{{"public", "nope"}, {"nope", "composite"}, {"public", "Composite"}} {
			_, err := LookupTable(ctx, d.admin, n[0], n[1])
			if !errors.Is(err, ErrTableNotFound) || !strings.Contains(err.Error(), `"`+n[0]+`"."`+n[1]+`"`) {
				t.Errorf("%v: %v; want ErrTableNotFound naming the table", n, err)
			}
		}
	})
}

// Odd identifiers (RELIABILITY F3) are found by their raw names, and the
// snapshot query built for them runs.
func TestLookupTableOddIdentifiers(t *testing.T) {
	t.Parallel()
	d := newDB(t)
	ctx := context.Background()
	cases := []struct{ schema, table, column string }{
		{"public", "MixedCase", "CamelCol"},
		{"public", `has "quotes"`, `col "q"`},
		{"public", "with space", "and space"},
		{"public", "dot.ted", "a.b"},
		{"Ünïcödé sch", "täble €", "çolümn ✓"},
		{"public", "select", "from"},
		{"public", `semi;colon--`, `x'y`},
		{"public", strings.Repeat("l", 63), strings.Repeat("c", 63)},
	}
	for _, c := range cases {
		s, _ := where.QuoteIdent(c.schema)
		rel, _ := where.QualifiedName(c.schema, c.table)
		col, _ := where.QuoteIdent(c.column)
		if c.schema != "public" {
			d.exec(t, "CREATE SCHEMA "+s)
		}
		d.exec(t, "CREATE TABLE "+rel+" (id int PRIMARY KEY, "+col+" text)")
		d.exec(t, "INSERT INTO "+rel+" VALUES (1, $1)", c.table)

		tb, err := LookupTable(ctx, d.admin, c.schema, c.table)
		if err != nil {
			t.Errorf("%q.%q: %v", c.schema, c.table, err)
			continue
		}
		if tb.Schema != c.schema || tb.Name != c.table || columnNames(tb)[1] != c.column || !reflect.DeepEqual(tb.PrimaryKey, []int{0}) {
			t.Errorf("%q.%q: %+v", c.schema, c.table, tb)
		}
		sql, err := SelectSQL(tb, []int{1, 0})
		if err != nil {
			t.Fatal(err)
		}
		var v, id string
		if err := d.admin.QueryRow(ctx, sql).Scan(&v, &id); err != nil || v != c.table || id != "1" {
			t.Errorf("%s: %q, %q, %v", sql, v, id, err)
		}
	}
}

func columnNames(t *events.Table) []string {
	var out []string
	for _, c := range t.Columns {
		out = append(out, c.Name)
	}
	return out
}

func TestCheckGeneratedColumns(t *testing.T) {
	t.Parallel()
	tb := &events.Table{Schema: "public", Name: "gen", Columns: []events.TableColumn{
		{Name: "id"}, {Name: "stored", Generated: 's'}, {Name: "plain"}, {Name: "virt", Generated: 'v'},
	}}
	cases := []struct {
		cols    []int
		version int
		want    string // generated columns named, "" = accepted
	}{
		{[]int{0, 2}, 150000, ""},
		{[]int{0, 1, 2, 3}, 150000, "stored, virt"},
		{[]int{0, 1, 2, 3}, 0, "stored, virt"},
		{[]int{1}, 170005, "stored"},
		{[]int{0, 1, 2}, 180000, ""},        // 18 publishes stored generated columns
		{[]int{0, 1, 2, 3}, 180000, "virt"}, // never virtual ones
		{[]int{0, 9}, 150000, ""},           // bad indexes are SelectSQL's to report
	}
	for _, c := range cases {
		err := CheckGeneratedColumns(tb, c.cols, c.version)
		if c.want == "" {
			if err != nil {
				t.Errorf("%v on %d: %v", c.cols, c.version, err)
			}
			continue
		}
		want := "The following columns are generated and cannot be included in the shape: " + c.want +
			". You can exclude them from the shape by explicitly listing which columns to fetch in the 'columns' query param"
		var e *Error
		if !errors.As(err, &e) || e.Kind != KindInvalidColumns || e.Reason != want || e.Table != `"public"."gen"` {
			t.Errorf("%v on %d: %#v; want reason %q", c.cols, c.version, err, want)
		}
	}
}
