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
