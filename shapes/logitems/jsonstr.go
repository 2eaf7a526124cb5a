package logitems

import "unicode/utf8"

// text is what the appenders accept: Go strings and byte slices (pgx raw
// values), so neither path has to convert and allocate.
type text interface{ ~string | ~[]byte }

const hexDigits = "0123456789abcdef"

// AppendJSONString appends s as a JSON string literal, quotes included. The
// result is valid JSON for any input: quotes, backslashes and control
// characters are escaped, U+2028 and U+2029 are escaped (as encoding/json
// does, for JavaScript consumers), and every byte that is not part of a valid
// UTF-8 sequence becomes U+FFFD, exactly like encoding/json. Unlike
// encoding/json it does not HTML-escape <, > and &: the bodies are never
// embedded in HTML, and the plain form is shorter.
func AppendJSONString(dst []byte, s string) []byte {
	return appendJSONString(dst, s)
}

// AppendJSONBytes is AppendJSONString for a byte slice.
func AppendJSONBytes(dst []byte, s []byte) []byte {
	return appendJSONString(dst, s)
}

func appendJSONString[T text](dst []byte, s T) []byte {
	dst = append(dst, '"')
	dst = appendEscaped(dst, s)
	return append(dst, '"')
}

// appendEscaped appends the JSON-escaped body of s (no surrounding quotes).
// Runs of bytes that need no escaping are copied in one append.
func appendEscaped[T text](dst []byte, s T) []byte {
	start := 0
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '"', '\\':
				dst = append(dst, '\\', b)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		r, n := decodeRune(s, i)
		if r == utf8.RuneError && n == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += n
			start = i
			continue
		}
		i += n
	}
	return append(dst, s[start:]...)
}

// decodeRune decodes the UTF-8 sequence starting at s[i] (s[i] ≥ 0x80) with
// the rules of utf8.DecodeRune: overlong forms, surrogates and values above
// U+10FFFF are invalid and reported as (RuneError, 1). It exists because the
// standard library has no decoder generic over string and []byte.
func decodeRune[T text](s T, i int) (rune, int) {
	b0 := s[i]
	rest := len(s) - i
	switch {
	case b0 < 0xC2:
		// Continuation byte or overlong two-byte lead.
		return utf8.RuneError, 1
	case b0 < 0xE0:
		if rest < 2 || !isCont(s[i+1]) {
			return utf8.RuneError, 1
		}
		return rune(b0&0x1F)<<6 | rune(s[i+1]&0x3F), 2
	case b0 < 0xF0:
		if rest < 3 {
			return utf8.RuneError, 1
		}
		b1, b2 := s[i+1], s[i+2]
		lo, hi := byte(0x80), byte(0xBF)
		if b0 == 0xE0 {
			lo = 0xA0 // overlong
		} else if b0 == 0xED {
			hi = 0x9F // surrogates
		}
		if b1 < lo || b1 > hi || !isCont(b2) {
			return utf8.RuneError, 1
		}
		return rune(b0&0x0F)<<12 | rune(b1&0x3F)<<6 | rune(b2&0x3F), 3
	case b0 < 0xF5:
		if rest < 4 {
			return utf8.RuneError, 1
		}
		b1, b2, b3 := s[i+1], s[i+2], s[i+3]
		lo, hi := byte(0x80), byte(0xBF)
		if b0 == 0xF0 {
			lo = 0x90 // overlong
		} else if b0 == 0xF4 {
			hi = 0x8F // above U+10FFFF
		}
		if b1 < lo || b1 > hi || !isCont(b2) || !isCont(b3) {
			return utf8.RuneError, 1
		}
		return rune(b0&0x07)<<18 | rune(b1&0x3F)<<12 | rune(b2&0x3F)<<6 | rune(b3&0x3F), 4
	}
	return utf8.RuneError, 1
}

func isCont(b byte) bool { return b&0xC0 == 0x80 }
