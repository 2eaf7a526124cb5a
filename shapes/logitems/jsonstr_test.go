package logitems

import (
	"encoding/json"
	"testing"
	"unicode"
	"unicode/utf8"

	"pgregory.net/rapid"
)

func TestAppendJSONStringExamples(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"":                 `""`,
		"plain":            `"plain"`,
		`q"b\`:             `"q\"b\\"`,
		"\n\r\t\b\f":       `"\n\r\t\b\f"`,
		"\x00\x1f\x7f":     `"\u0000\u001f` + "\x7f" + `"`,
		"<&>":              `"<&>"`,
		"é€😀":              `"é€😀"`,
		"\u2028\u2029":     `"\u2028\u2029"`,
		"a\xffb":           `"a\ufffdb"`,
		"\xe2\x82":         `"\ufffd\ufffd"`,       // truncated sequence: one U+FFFD per byte
		"\xed\xa0\x80":     `"\ufffd\ufffd\ufffd"`, // surrogate
		"\xc0\xaf":         `"\ufffd\ufffd"`,       // overlong
		"\xf4\x90\x80\x80": `"\ufffd\ufffd\ufffd\ufffd"`,
		"\uFFFD":           "\"\uFFFD\"", // a real U+FFFD stays as is
		"/slash/":          `"/slash/"`,
	}
	for in, want := range cases {
		if got := string(AppendJSONString(nil, in)); got != want {
			t.Errorf("AppendJSONString(%q) = %s, want %s", in, got, want)
		}
		if got := string(AppendJSONBytes(nil, []byte(in))); got != want {
			t.Errorf("AppendJSONBytes(%q) = %s, want %s", in, got, want)
		}
	}
}

// checkEscaping asserts the appender's output is valid JSON that decodes to
// what encoding/json's own encoding of s decodes to.
func checkEscaping(t interface {
	Helper()
	Fatalf(string, ...any)
}, s string) {
	t.Helper()
	out := AppendJSONString([]byte("prefix"), s)
	if string(out[:6]) != "prefix" {
		t.Fatalf("prefix clobbered")
	}
	out = out[6:]
	if !json.Valid(out) {
		t.Fatalf("invalid JSON for %q: %s", s, out)
	}
	var got, want string
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("decode %s: %v", out, err)
	}
	ref, _ := json.Marshal(s)
	if err := json.Unmarshal(ref, &want); err != nil {
		t.Fatalf("decode reference: %v", err)
	}
	if got != want {
		t.Fatalf("%q decodes to %q, encoding/json gives %q", s, got, want)
	}
	if utf8.ValidString(s) && got != s {
		t.Fatalf("valid UTF-8 %q did not round-trip: %q", s, got)
	}
}

func TestAppendJSONStringMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(t *rapid.T) {
		var s string
		if rapid.Bool().Draw(t, "bytes") {
			s = string(rapid.SliceOf(rapid.Byte()).Draw(t, "raw"))
		} else {
			s = rapid.StringOf(rapid.RuneFrom([]rune{'"', '\\', '/', '\n', 0, 0x1f, 0x7f, 'é', 0x2028, 0x2029, 0xFFFD, 0x10FFFF}, unicode.Latin, unicode.Han, unicode.So, unicode.Cc, unicode.Zl, unicode.Zp, unicode.Co)).Draw(t, "text")
		}
		checkEscaping(t, s)
	})
}

// decodeRune agrees with utf8.DecodeRuneInString on every input.
func TestDecodeRuneMatchesStdlib(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(t *rapid.T) {
		b := rapid.SliceOfN(rapid.Byte(), 1, 5).Draw(t, "b")
		if b[0] < utf8.RuneSelf {
			b[0] |= 0x80
		}
		r, n := decodeRune(string(b), 0)
		wr, wn := utf8.DecodeRuneInString(string(b))
		if r != wr || n != wn {
			t.Fatalf("decodeRune(% x) = %U/%d, stdlib %U/%d", b, r, n, wr, wn)
		}
	})
	// Every lead byte with every second byte, exhaustively.
	for b0 := 0x80; b0 <= 0xFF; b0++ {
		for b1 := 0; b1 <= 0xFF; b1++ {
			s := string([]byte{byte(b0), byte(b1), 0x80, 0x80})
			r, n := decodeRune([]byte(s), 0)
			wr, wn := utf8.DecodeRuneInString(s)
			if r != wr || n != wn {
				t.Fatalf("decodeRune(% x) = %U/%d, stdlib %U/%d", s, r, n, wr, wn)
			}
		}
	}
}

func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", "a", `"\`, "\x00\x1f", "\xff", "\u2028", "é😀", "\xed\xa0\x80", "\xf0\x9f\x98"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkEscaping(t, s)
		if string(AppendJSONBytes(nil, []byte(s))) != string(AppendJSONString(nil, s)) {
			t.Fatalf("string and bytes forms differ for %q", s)
		}
	})
}
