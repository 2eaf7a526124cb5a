package where

import "strings"

func isArraySpace(c byte) bool { return isCSpace(c) }

// parseArray is array_in for one-dimensional arrays: {a,"b c",NULL}, with
// backslash escapes and the quoting rules of Postgres. Dimension
// decorations and nested arrays are refused.
func parseArray(t Type, s string) (Value, error) {
	bad := func() (Value, error) { return Value{}, evalErr("malformed array literal: %q", s) }
	i := 0
	skip := func() {
		for i < len(s) && isArraySpace(s[i]) {
			i++
		}
	}
	skip()
	if i >= len(s) || s[i] != '{' {
		return bad()
	}
	i++
	out := Value{t: t, arr: []Value{}}
	skip()
	if i < len(s) && s[i] == '}' {
		i++
		skip()
		if i != len(s) {
			return bad()
		}
		return out, nil
	}
	for {
		skip()
		if i >= len(s) {
			return bad()
		}
		var elem strings.Builder
		quoted, escaped := false, false
		if s[i] == '"' {
			quoted = true
			i++
			for {
				if i >= len(s) {
					return bad()
				}
				c := s[i]
				i++
				if c == '\\' {
					if i >= len(s) {
						return bad()
					}
					elem.WriteByte(s[i])
					i++
					continue
				}
				if c == '"' {
					break
				}
				elem.WriteByte(c)
			}
			skip()
		} else {
			keep := 0 // length up to the last character that is not trailing space
			for i < len(s) && s[i] != ',' && s[i] != '}' {
				c := s[i]
				switch c {
				case '{', '"':
					return bad()
				case '\\':
					if i+1 >= len(s) {
						return bad()
					}
					elem.WriteByte(s[i+1])
					i += 2
					escaped = true
					keep = elem.Len()
					continue
				}
				elem.WriteByte(c)
				if !isArraySpace(c) {
					keep = elem.Len()
				}
				i++
			}
			str := elem.String()[:keep]
			elem.Reset()
			elem.WriteString(str)
			if str == "" {
				return bad()
			}
		}
		if i >= len(s) {
			return bad()
		}
		text := elem.String()
		if !quoted && !escaped && strings.EqualFold(text, "NULL") {
			out.arr = append(out.arr, nullOf(t.Elem()))
		} else {
			v, err := parseValue(t.Elem(), text)
			if err != nil {
				return Value{}, err
			}
			out.arr = append(out.arr, v)
		}
		c := s[i]
		i++
		if c == '}' {
			break
		}
		if c != ',' {
			return bad()
		}
	}
	skip()
	if i != len(s) {
		return bad()
	}
	return out, nil
}

// arrayText is array_out.
func arrayText(v Value) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, e := range v.arr {
		if i > 0 {
			b.WriteByte(',')
		}
		if e.null {
			b.WriteString("NULL")
			continue
		}
		s := outputText(e)
		if needsArrayQuotes(s) {
			b.WriteByte('"')
			for j := 0; j < len(s); j++ {
				if s[j] == '"' || s[j] == '\\' {
					b.WriteByte('\\')
				}
				b.WriteByte(s[j])
			}
			b.WriteByte('"')
		} else {
			b.WriteString(s)
		}
	}
	b.WriteByte('}')
	return b.String()
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
