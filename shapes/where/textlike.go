package where

import (
	"strings"
	"unicode/utf8"
)

// bpchar (char(n)) and name as text-like types, as Postgres 15 treats
// them (verified against it):
//   - a bpchar value is kept as it arrives, padded (the stream and
//     concat() give the padding); bpchar comparisons ignore trailing
//     spaces (bpchareq, bpcharcmp), and every cast of bpchar to another
//     string type strips them (rtrim1), so bpchar = text compares the
//     stripped value with the unstripped text, while bpchar = varchar and
//     bpchar = 'literal' compare as bpchar;
//   - LIKE on bpchar (bpcharlike) sees the padded value;
//   - name holds at most 63 bytes, cut at a character boundary; it
//     compares byte-wise, and with text or varchar as text. name against
//     bpchar is refused: Postgres would cast bpchar to name, truncating it.

const (
	Bpchar Type = "bpchar"
	Name   Type = "name"
)

// nameMaxBytes is NAMEDATALEN - 1.
const nameMaxBytes = 63

func trimBpchar(s string) string { return strings.TrimRight(s, " ") }

// clipName is namein / text_name: at most 63 bytes, never half a UTF-8
// character.
func clipName(s string) string {
	if len(s) <= nameMaxBytes {
		return s
	}
	n := nameMaxBytes
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// textLikeCommon is commonType's rule for the string types that differ
// from text; handled is false for the pairs it leaves to commonType.
func textLikeCommon(a, b Type) (t Type, ok, handled bool) {
	switch {
	case a == Bpchar && b == Varchar, a == Varchar && b == Bpchar:
		return Bpchar, true, true // bpchareq wins: it matches one side exactly
	case a == Name && b == Bpchar, a == Bpchar && b == Name:
		return "", false, true
	}
	return "", false, false
}

// unionTextLike is select_common_type for string types: the first type
// stays unless it can be cast implicitly to the next and not back, which
// among these happens only for bpchar followed by name. Text and varchar
// keep commonType's text.
func unionTextLike(a, b Type) (Type, bool) {
	switch {
	case a == Bpchar && b == Name:
		return Name, true
	case (a == Bpchar || a == Name) && isTextual(b):
		return a, true
	}
	return "", false
}

// castToName is every cast to name: bpchar is stripped, bool is 't' /
// 'f' (a cast through boolout, there is no bool → name cast function),
// and the result is clipped.
func castToName(v Value) Value {
	s := outputText(v)
	if v.t == Bpchar {
		s = trimBpchar(s)
	}
	return Value{t: Name, s: clipName(s)}
}
