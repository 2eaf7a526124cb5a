package where

import (
	"math"
	"strings"
)

// array_in as Postgres 15 behaves: the same two passes (the brace
// structure, then the items) with the same parser states, so the same
// literals are accepted with the same meaning, quirks included
// (TestArrayInputMatchesPostgres compares the two on random literals).

func isArraySpace(c byte) bool { return isCSpace(c) }

func malformedArray(s string) error { return evalErr("malformed array literal: %q", s) }

// checkArrayBounds is ArrayCheckBounds: no upper bound may reach past
// the int32 range.
func checkArrayBounds(dims []arrayDim) error {
	for _, d := range dims {
		if int64(d.lb)+int64(d.n) > math.MaxInt32 {
			return evalErr("array lower bound is too large: %d", d.lb)
		}
	}
	return nil
}

// cAtoi is C's atoi as glibc implements it (strtol, saturating at the
// int64 range, then truncated to int), which array_in applies to the
// digits and signs of a dimension decoration.
func cAtoi(s string) int32 {
	i := 0
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	var acc uint64
	over := false
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		if acc > (math.MaxUint64-9)/10 {
			over = true
			continue
		}
		acc = acc*10 + uint64(s[i]-'0')
	}
	var v int64
	switch {
	case !neg && (over || acc > math.MaxInt64):
		v = math.MaxInt64
	case neg && (over || acc > 1<<63):
		v = math.MinInt64
	case neg:
		v = -int64(acc)
	default:
		v = int64(acc)
	}
	return int32(v)
}

// parseArray is array_in of Postgres 15, including its optional
// dimension decoration ([lb:ub]…=) and nested braces.
func parseArray(t Type, s string) (Value, error) {
	p := 0
	var dims []arrayDim
	for {
		for p < len(s) && isArraySpace(s[p]) {
			p++
		}
		if p >= len(s) || s[p] != '[' {
			break
		}
		p++
		if len(dims) >= maxArrayDims {
			return Value{}, evalErr("number of array dimensions (%d) exceeds the maximum allowed (%d)", len(dims)+1, maxArrayDims)
		}
		q := p
		for q < len(s) && (s[q] >= '0' && s[q] <= '9' || s[q] == '-' || s[q] == '+') {
			q++
		}
		if q == p {
			return Value{}, malformedArray(s)
		}
		lb := int32(1)
		if q < len(s) && s[q] == ':' {
			lb = cAtoi(s[p:q])
			p = q + 1
			for q = p; q < len(s) && (s[q] >= '0' && s[q] <= '9' || s[q] == '-' || s[q] == '+'); q++ {
			}
			if q == p {
				return Value{}, malformedArray(s)
			}
		}
		if q >= len(s) || s[q] != ']' {
			return Value{}, malformedArray(s)
		}
		ub := cAtoi(s[p:q])
		p = q + 1
		if ub < lb {
			return Value{}, evalErr("upper bound cannot be less than lower bound")
		}
		dims = append(dims, arrayDim{lb: lb, n: ub - lb + 1}) // wraps as C with -fwrapv does
	}
	var counted []int32
	var err error
	if len(dims) == 0 {
		if p >= len(s) || s[p] != '{' {
			return Value{}, malformedArray(s)
		}
		if counted, err = arrayCount(s, p); err != nil {
			return Value{}, err
		}
		for _, n := range counted {
			dims = append(dims, arrayDim{lb: 1, n: n})
		}
	} else {
		if p >= len(s) || s[p] != '=' {
			return Value{}, malformedArray(s)
		}
		p++
		for p < len(s) && isArraySpace(s[p]) {
			p++
		}
		if p >= len(s) || s[p] != '{' {
			return Value{}, malformedArray(s)
		}
		if counted, err = arrayCount(s, p); err != nil {
			return Value{}, err
		}
		if len(counted) != len(dims) {
			return Value{}, malformedArray(s)
		}
		for i := range dims {
			if dims[i].n != counted[i] {
				return Value{}, malformedArray(s)
			}
		}
	}
	nitems := int64(1)
	for _, d := range dims {
		if d.n < 0 {
			return Value{}, evalErr("array size exceeds the maximum allowed (134217727)")
		}
		nitems *= int64(d.n)
		if nitems > 134217727 {
			return Value{}, evalErr("array size exceeds the maximum allowed (134217727)")
		}
	}
	if len(dims) == 0 {
		nitems = 0
	}
	if err := checkArrayBounds(dims); err != nil {
		return Value{}, err
	}
	if nitems == 0 {
		return makeArray(t, nil, nil), nil
	}
	elems, err := readArrayItems(t.Elem(), s, p, dims, int(nitems))
	if err != nil {
		return Value{}, err
	}
	return makeArray(t, elems, dims), nil
}

// The states of arrayCount (ArrayParseState).
const (
	arrNoLevel = iota
	arrLevelStarted
	arrElemStarted
	arrElemCompleted
	arrQuotedElemStarted
	arrQuotedElemCompleted
	arrElemDelimited
	arrLevelCompleted
	arrLevelDelimited
)

// arrayCount is ArrayCount: it validates the brace structure from s[p]
// and returns the dimensions it implies (none for "{}"). Its counting is
// Postgres 15's, quirks included: it and readArrayItems together decide
// what an odd literal means.
func arrayCount(s string, p int) ([]int32, error) {
	bad := func() ([]int32, error) { return nil, malformedArray(s) }
	nest, ndim := 0, 1
	var temp, nelemsLast [maxArrayDims]int32
	var nelems [maxArrayDims]int32
	for i := range nelems {
		nelems[i] = 1
	}
	inQuotes, empty := false, true
	state := arrNoLevel
	for eoArray := false; !eoArray; {
		for itemDone := false; !itemDone; {
			if state == arrElemStarted || state == arrQuotedElemStarted {
				empty = false
			}
			if p >= len(s) {
				return bad()
			}
			switch c := s[p]; c {
			case '\\':
				if state != arrLevelStarted && state != arrElemStarted && state != arrQuotedElemStarted && state != arrElemDelimited {
					return bad()
				}
				if state != arrQuotedElemStarted {
					state = arrElemStarted
				}
				if p+1 >= len(s) {
					return bad()
				}
				p++
			case '"':
				if state != arrLevelStarted && state != arrQuotedElemStarted && state != arrElemDelimited {
					return bad()
				}
				inQuotes = !inQuotes
				if inQuotes {
					state = arrQuotedElemStarted
				} else {
					state = arrQuotedElemCompleted
				}
			case '{':
				if inQuotes {
					break
				}
				if state != arrNoLevel && state != arrLevelStarted && state != arrLevelDelimited {
					return bad()
				}
				state = arrLevelStarted
				if nest >= maxArrayDims {
					return nil, evalErr("number of array dimensions (%d) exceeds the maximum allowed (%d)", nest+1, maxArrayDims)
				}
				temp[nest] = 0
				nest++
				ndim = max(ndim, nest)
			case '}':
				if inQuotes {
					break
				}
				if state != arrElemStarted && state != arrElemCompleted && state != arrQuotedElemCompleted &&
					state != arrLevelCompleted && !(nest == 1 && state == arrLevelStarted) {
					return bad()
				}
				state = arrLevelCompleted
				if nest == 0 {
					return bad()
				}
				nest--
				if nelemsLast[nest] != 0 && nelems[nest] != nelemsLast[nest] {
					return bad()
				}
				nelemsLast[nest] = nelems[nest]
				nelems[nest] = 1
				if nest == 0 {
					eoArray, itemDone = true, true
				} else {
					temp[nest-1]++
				}
			default:
				if inQuotes {
					break
				}
				if c == ',' {
					if state != arrElemStarted && state != arrElemCompleted && state != arrQuotedElemCompleted && state != arrLevelCompleted {
						return bad()
					}
					if state == arrLevelCompleted {
						state = arrLevelDelimited
					} else {
						state = arrElemDelimited
					}
					itemDone = true
					nelems[nest-1]++
				} else if !isArraySpace(c) {
					if state != arrLevelStarted && state != arrElemStarted && state != arrElemDelimited {
						return bad()
					}
					state = arrElemStarted
				}
			}
			if !itemDone {
				p++
			}
		}
		temp[ndim-1]++
		p++
	}
	for ; p < len(s); p++ {
		if !isArraySpace(s[p]) {
			return bad()
		}
	}
	if empty {
		return nil, nil
	}
	return append([]int32(nil), temp[:ndim]...), nil
}

// readArrayItems is ReadArrayStr: it reads the items from s[p] (already
// validated by arrayCount) into their row-major positions, dequoting them
// and trimming unquoted space, and parses each with the element type's
// input function. Positions no item reaches stay NULL.
func readArrayItems(et Type, s string, p int, dims []arrayDim, nitems int) ([]Value, error) {
	ndim := len(dims)
	prod := make([]int, ndim)
	prod[ndim-1] = 1
	for i := ndim - 2; i >= 0; i-- {
		prod[i] = prod[i+1] * int(dims[i+1].n)
	}
	indx := make([]int, ndim)
	offset := func() int {
		o := 0
		for i := range indx {
			o += indx[i] * prod[i]
		}
		return o
	}
	elems := make([]Value, nitems)
	for i := range elems {
		elems[i] = nullOf(et)
	}
	nest := 0
	inQuotes := false
	var item []byte
	for eoArray := false; !eoArray; {
		at := -1
		item = item[:0]
		end := 0 // length of item up to its last significant byte
		leading, quoting := true, false
		for itemDone := false; !itemDone; {
			if p >= len(s) {
				return nil, malformedArray(s)
			}
			c := s[p]
			switch {
			case c == '\\':
				p++
				if p >= len(s) {
					return nil, malformedArray(s)
				}
				item = append(item, s[p])
				p++
				leading, quoting, end = false, true, len(item)
			case c == '"':
				inQuotes = !inQuotes
				if inQuotes {
					leading = false
				} else {
					end = len(item)
				}
				quoting = true
				p++
			case c == '{' && !inQuotes:
				if nest >= ndim {
					return nil, malformedArray(s)
				}
				nest++
				indx[nest-1] = 0
				p++
			case c == '}' && !inQuotes:
				if nest == 0 {
					return nil, malformedArray(s)
				}
				if at == -1 {
					at = offset()
				}
				indx[nest-1] = 0
				nest--
				if nest == 0 {
					eoArray, itemDone = true, true
				} else {
					indx[nest-1]++
				}
				p++
			case inQuotes:
				item = append(item, c)
				p++
			case c == ',':
				if at == -1 {
					at = offset()
				}
				itemDone = true
				indx[ndim-1]++
				p++
			case isArraySpace(c):
				if !leading {
					item = append(item, c)
				}
				p++
			default:
				item = append(item, c)
				leading, end = false, len(item)
				p++
			}
		}
		if at < 0 || at >= nitems {
			return nil, malformedArray(s)
		}
		text := string(item[:end])
		if !quoting && strings.EqualFold(text, "NULL") {
			elems[at] = nullOf(et)
			continue
		}
		v, err := parseValue(et, text)
		if err != nil {
			return nil, err
		}
		elems[at] = v
	}
	return elems, nil
}
