package pgwire

import (
	"bytes"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

func TestNames(t *testing.T) {
	t.Parallel()
	pub, err := PublicationName(DefaultStreamID)
	if err != nil || pub != "electric_publication_default" {
		t.Fatalf("PublicationName(default) = %q, %v", pub, err)
	}
	slot, err := SlotName(DefaultStreamID)
	if err != nil || slot != "electric_slot_default" {
		t.Fatalf("SlotName(default) = %q, %v", slot, err)
	}
	longest := strings.Repeat("a", MaxStreamIDLen)
	if p, err := PublicationName(longest); err != nil || len(p) != 63 {
		t.Fatalf("longest stream id: %q, %v", p, err)
	}
	for _, bad := range []string{"", "Default", "1abc", "a-b", "a b", "a$b", `a"b`, "ä", longest + "a"} {
		if _, err := SlotName(bad); err == nil {
			t.Errorf("SlotName(%q) accepted", bad)
		}
		if _, err := PublicationName(bad); err == nil {
			t.Errorf("PublicationName(%q) accepted", bad)
		}
	}
	name, err := RandomSlotName(bytes.NewReader(bytes.Repeat([]byte{0xab}, 16)))
	if err != nil || name != "electric_slot_"+strings.Repeat("ab", 16) || ValidateSlotName(name) != nil {
		t.Fatalf("RandomSlotName = %q, %v", name, err)
	}
	if _, err := RandomSlotName(bytes.NewReader(nil)); err == nil {
		t.Fatalf("RandomSlotName accepted an empty random source")
	}
}

// Every stream id that validates yields names Postgres accepts unchanged.
func TestValidStreamIDsMakeValidNames(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(t *rapid.T) {
		id := rapid.StringMatching(`[a-z_][a-z0-9_$A-Z-]{0,50}`).Draw(t, "id")
		if ValidateStreamID(id) != nil {
			return
		}
		slot, _ := SlotName(id)
		pub, _ := PublicationName(id)
		if ValidateSlotName(slot) != nil || ValidatePublicationName(pub) != nil {
			t.Fatalf("stream id %q gives invalid names %q, %q", id, slot, pub)
		}
	})
}

// unquoteIdentifier and unquoteLiteral are the server's reading of a quoted
// identifier and a literal, written out for the round trip.
func unquoteIdentifier(q string) (string, bool) {
	if len(q) < 2 || q[0] != '"' || q[len(q)-1] != '"' {
		return "", false
	}
	body := q[1 : len(q)-1]
	var b strings.Builder
	for i := 0; i < len(body); i++ {
		if body[i] == '"' {
			if i+1 >= len(body) || body[i+1] != '"' {
				return "", false // a lone quote would end the identifier early
			}
			i++
		}
		b.WriteByte(body[i])
	}
	return b.String(), true
}

func unquoteLiteral(q string) (string, bool) {
	escape := strings.HasPrefix(q, "E")
	if escape {
		q = q[1:]
	}
	if len(q) < 2 || q[0] != '\'' || q[len(q)-1] != '\'' {
		return "", false
	}
	body := q[1 : len(q)-1]
	var b strings.Builder
	for i := 0; i < len(body); i++ {
		switch {
		case body[i] == '\'':
			if i+1 >= len(body) || body[i+1] != '\'' {
				return "", false
			}
			i++
		case body[i] == '\\' && escape:
			if i+1 >= len(body) || body[i+1] != '\\' {
				return "", false // only doubled backslashes are produced
			}
			i++
		case body[i] == '\\':
			return "", false // a backslash outside E'' depends on standard_conforming_strings
		}
		b.WriteByte(body[i])
	}
	return b.String(), true
}

func TestQuotingRoundTrips(t *testing.T) {
	t.Parallel()
	if got := QuoteIdentifier(`a"b`); got != `"a""b"` {
		t.Fatalf("QuoteIdentifier = %s", got)
	}
	if got := QuoteLiteral(`it's \x`); got != `E'it''s \\x'` {
		t.Fatalf("QuoteLiteral = %s", got)
	}
	rapid.Check(t, func(t *rapid.T) {
		s := rapid.String().Draw(t, "s")
		if back, ok := unquoteIdentifier(QuoteIdentifier(s)); !ok || back != s {
			t.Fatalf("identifier %q came back as %q (%v)", s, back, ok)
		}
		if back, ok := unquoteLiteral(QuoteLiteral(s)); !ok || back != s {
			t.Fatalf("literal %q came back as %q (%v)", s, back, ok)
		}
	})
}

func TestDisplaySettingsAreACopy(t *testing.T) {
	t.Parallel()
	a := DisplaySettings()
	if len(a) != 5 || a[0] != "SET bytea_output = 'hex'" || a[4] != "SET IntervalStyle = 'iso_8601'" {
		t.Fatalf("DisplaySettings = %q", a)
	}
	a[0] = "SET nothing"
	if DisplaySettings()[0] != "SET bytea_output = 'hex'" {
		t.Fatalf("DisplaySettings shares its slice between callers")
	}
}
