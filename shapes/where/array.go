package where

import "strings"

// Arrays are Postgres arrays: up to maxArrayDims dimensions, each with its
// own lower bound, holding their elements in row-major order. A Value of
// an array type keeps the elements in arr and the dimensions in dims;
// dims is nil for the common shapes (no dimensions when arr is empty, one
// dimension [1:len(arr)] otherwise), so ARRAY[…] and one-dimensional
// column values need no bookkeeping.

// maxArrayDims is Postgres's MAXDIM.
const maxArrayDims = 6

// arrayDim is one dimension: its lower bound and its length.
type arrayDim struct{ lb, n int32 }

// arrayDimsOf returns v's dimensions (none for an empty array).
func arrayDimsOf(v Value) []arrayDim {
	if v.dims != nil {
		return v.dims
	}
	if len(v.arr) == 0 {
		return nil
	}
	return []arrayDim{{lb: 1, n: int32(len(v.arr))}}
}

// makeArray builds an array value, dropping dims when they are the
// implicit ones.
func makeArray(t Type, elems []Value, dims []arrayDim) Value {
	if len(elems) == 0 || len(dims) == 1 && dims[0].lb == 1 && int(dims[0].n) == len(elems) {
		dims = nil
	}
	if elems == nil {
		elems = []Value{}
	}
	return Value{t: t, arr: elems, dims: dims}
}

// arrayText is array_out: a dimension decoration when some lower bound
// is not 1, then nested braces with elements quoted where needed.
func arrayText(v Value) string {
	dims := arrayDimsOf(v)
	if len(dims) == 0 {
		return "{}"
	}
	var b strings.Builder
	for _, d := range dims {
		if d.lb != 1 {
			for _, d := range dims {
				b.WriteString("[" + itoa32(d.lb) + ":" + itoa32(d.lb+d.n-1) + "]")
			}
			b.WriteByte('=')
			break
		}
	}
	k := 0
	var write func(level int)
	write = func(level int) {
		b.WriteByte('{')
		for j := int32(0); j < dims[level].n; j++ {
			if j > 0 {
				b.WriteByte(',')
			}
			if level+1 < len(dims) {
				write(level + 1)
				continue
			}
			writeArrayElem(&b, v.arr[k])
			k++
		}
		b.WriteByte('}')
	}
	write(0)
	return b.String()
}

func itoa32(i int32) string { return outputText(Value{t: Int4, i: int64(i)}) }

func writeArrayElem(b *strings.Builder, e Value) {
	if e.null {
		b.WriteString("NULL")
		return
	}
	s := outputText(e)
	if !needsArrayQuotes(s) {
		b.WriteString(s)
		return
	}
	b.WriteByte('"')
	for j := 0; j < len(s); j++ {
		if s[j] == '"' || s[j] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[j])
	}
	b.WriteByte('"')
}

func needsArrayQuotes(s string) bool {
	if s == "" || strings.EqualFold(s, "NULL") {
		return true
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '{', c == '}', c == ',', c == '"', c == '\\', isArraySpace(c):
			return true
		}
	}
	return false
}

// compareArrays is array_cmp (and so array_eq): elements in row-major
// order, NULL elements equal to each other and above any value; then
// more elements, more dimensions, longer dimensions and higher lower
// bounds sort later.
func compareArrays(a, b Value) int {
	for i := 0; i < len(a.arr) && i < len(b.arr); i++ {
		x, y := a.arr[i], b.arr[i]
		switch {
		case x.null && y.null:
			continue
		case x.null:
			return 1
		case y.null:
			return -1
		}
		if c := compareValues(x, y); c != 0 {
			return c
		}
	}
	cmp := func(x, y int64) int {
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	}
	if c := cmp(int64(len(a.arr)), int64(len(b.arr))); c != 0 {
		return c
	}
	da, db := arrayDimsOf(a), arrayDimsOf(b)
	if c := cmp(int64(len(da)), int64(len(db))); c != 0 {
		return c
	}
	for i := range da {
		if c := cmp(int64(da[i].n), int64(db[i].n)); c != 0 {
			return c
		}
	}
	for i := range da {
		if c := cmp(int64(da[i].lb), int64(db[i].lb)); c != 0 {
			return c
		}
	}
	return 0
}
