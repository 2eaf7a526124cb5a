package snapshot

import "testing"

// TestLookupTableArrayWithoutDims: an array-typed column whose catalog
// entry has no dimensions is described by its own type name and not as an
// array (SHAPE_API §13), so electric-schema reports "int2vector" (not
// "_int2", which is another type) and "_int4" for a CREATE TABLE AS array,
// both without dims. Declared arrays keep the element's name.
func TestLookupTableArrayWithoutDims(t *testing.T) {
	t.Parallel()
	d := newDB(t)
	d.exec(t, `CREATE TABLE vecs (v int2vector, o oidvector, a int4[], g text[][])`)
	d.exec(t, `CREATE TABLE ctas AS SELECT ARRAY[1, 2] AS a`)
	for _, tc := range []struct {
		table, col, typ string
		isArray         bool
		dims            int
	}{
		{"vecs", "v", "int2vector", false, 0},
		{"vecs", "o", "oidvector", false, 0},
		{"vecs", "a", "int4", true, 1},
		{"vecs", "g", "text", true, 2},
		{"ctas", "a", "_int4", false, 0},
	} {
		tb := d.lookup(t, "public", tc.table)
		c := tb.Columns[columnIndex(tb, tc.col)]
		if c.TypeName != tc.typ || c.IsArray != tc.isArray || c.Dims != tc.dims {
			t.Errorf("%s.%s: type %q array %v dims %d; want %q %v %d", tc.table, tc.col, c.TypeName, c.IsArray, c.Dims, tc.typ, tc.isArray, tc.dims)
		}
	}
}

func TestLookupTableDomainsAndEnums(t *testing.T) {
	t.Parallel()
	d := newDB(t)
	for _, sql := range []string{
		"CREATE TYPE hue AS ENUM ('red', 'green')",
		"CREATE DOMAIN posint AS int4 CHECK (VALUE > 0)",
		"CREATE DOMAIN smallpos AS posint CHECK (VALUE < 100)",
		"CREATE DOMAIN huedom AS hue",
		"CREATE TABLE typed (id int PRIMARY KEY, p posint, sp smallpos, ps posint[], h hue, hs hue[], hd huedom, v int2vector, n numeric)",
	} {
		d.exec(t, sql)
	}
	tb := d.lookup(t, "public", "typed")
	type base struct {
		name string
		enum bool
	}
	want := map[string]base{"id": {}, "p": {"int4", false}, "sp": {"int4", false}, "ps": {"int4", false}, "h": {"hue", true}, "hs": {"hue", true}, "hd": {"hue", true}, "v": {}, "n": {}}
	for _, c := range tb.Columns {
		if got := (base{c.BaseTypeName, c.IsEnum}); got != want[c.Name] {
			t.Errorf("%s (%s): base %+v, want %+v", c.Name, c.TypeName, got, want[c.Name])
		}
	}
}
