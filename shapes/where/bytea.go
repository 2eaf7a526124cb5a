package where

import "strings"

// bytea follows Postgres 15 (varlena.c, encode.c): the value is held as
// its raw bytes in Value.s, so the default byte-wise comparison is
// byteacmp (memcmp, then the shorter first); its text form is hex
// (bytea_output = 'hex', SHAPE_API §12.6).

const Bytea Type = "bytea"

// parseBytea is byteain: "\x" and hex digit pairs, with spaces, tabs,
// newlines and carriage returns allowed before each pair; otherwise the
// escape format, where a backslash starts "\\" or an octal "\ooo" (first
// digit 0-3) and every other byte stands for itself.
func parseBytea(s string) (Value, error) {
	if strings.HasPrefix(s, `\x`) {
		var out []byte
		for i := 2; i < len(s); {
			switch s[i] {
			case ' ', '\n', '\t', '\r':
				i++
				continue
			}
			hi := hexVal(s[i])
			if hi < 0 {
				return Value{}, evalErr("invalid hexadecimal digit: %q", s[i:i+1])
			}
			if i+1 >= len(s) {
				return Value{}, evalErr("invalid hexadecimal data: odd number of digits")
			}
			lo := hexVal(s[i+1])
			if lo < 0 {
				return Value{}, evalErr("invalid hexadecimal digit: %q", s[i+1:i+2])
			}
			out = append(out, byte(hi<<4|lo))
			i += 2
		}
		return Value{t: Bytea, s: string(out)}, nil
	}
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); {
		switch {
		case s[i] != '\\':
			out = append(out, s[i])
			i++
		case i+1 < len(s) && s[i+1] == '\\':
			out = append(out, '\\')
			i += 2
		case i+3 < len(s) && s[i+1] >= '0' && s[i+1] <= '3' && isOctal(s[i+2]) && isOctal(s[i+3]):
			out = append(out, (s[i+1]-'0')<<6|(s[i+2]-'0')<<3|(s[i+3]-'0'))
			i += 4
		default:
			return Value{}, evalErr("invalid input syntax for type bytea")
		}
	}
	return Value{t: Bytea, s: string(out)}, nil
}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }

// byteaText is byteaout with bytea_output = 'hex'.
func byteaText(b string) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2+2*len(b))
	out = append(out, '\\', 'x')
	for i := 0; i < len(b); i++ {
		out = append(out, digits[b[i]>>4], digits[b[i]&15])
	}
	return string(out)
}

// byteaConcat is bytea || bytea (byteacat), chosen over text || text when
// one side is bytea and the other bytea or an untyped literal; it is an
// arith node with op "||".
func (c *checker) byteaConcat(x *textConcat, l, r node) (node, bool, error) {
	lt, rt := l.typ(), r.typ()
	if !(lt == Bytea && (rt == Bytea || rt == Unknown) || lt == Unknown && rt == Bytea) {
		return nil, false, nil
	}
	l, err := c.coerce(l, Bytea)
	if err != nil {
		return nil, true, err
	}
	if r, err = c.coerce(r, Bytea); err != nil {
		return nil, true, err
	}
	return &arith{pos: x.pos, op: "||", l: l, r: r, t: Bytea}, true, nil
}
