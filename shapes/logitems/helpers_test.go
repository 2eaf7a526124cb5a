package logitems

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/shapesync/shapesync/replication/events"
)

// decodeJSON parses b, failing the test on invalid JSON.
func decodeJSON(t testing.TB, b []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("invalid JSON %s: %v", b, err)
	}
	return v
}

// sameJSON compares two JSON texts after decoding (member order irrelevant).
func sameJSON(t testing.TB, got []byte, want string) {
	t.Helper()
	g := decodeJSON(t, got)
	w := decodeJSON(t, []byte(want))
	if !reflect.DeepEqual(g, w) {
		t.Errorf("JSON differs\n got: %s\nwant: %s", got, want)
	}
}

func val(s string) events.Value { return events.Value{Text: s} }

var null = events.Value{Null: true}

// toValidUTF8 replaces every byte that is not part of a valid UTF-8 sequence
// with U+FFFD, one replacement per byte, as encoding/json does.
func toValidUTF8(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			b.WriteRune(utf8.RuneError)
		} else {
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}
