package logitems

import (
	"encoding/json"
	"testing"

	"github.com/shapesync/shapesync/replication/events"
)

func TestKeyExamples(t *testing.T) {
	t.Parallel()
	cases := []struct {
		schema, table string
		vals          []events.Value
		want          string
	}{
		{"public", "items", []events.Value{val("42")}, `"public"."items"/"42"`},
		{"s", "t", []events.Value{val("a"), val("b")}, `"s"."t"/"a"/"b"`},
		{"public", "t", []events.Value{val("a/b")}, `"public"."t"/"a//b"`},
		{"public", "t", []events.Value{val("1"), null, val("2")}, `"public"."t"/"1"/_/"2"`},
		{"public", "t", []events.Value{val("")}, `"public"."t"/""`},
		{"public", "t", []events.Value{val("//")}, `"public"."t"/"////"`},
		{"public", "t", []events.Value{val(`q"uote`)}, `"public"."t"/"q"uote"`},
		{"public", "t", []events.Value{val("_")}, `"public"."t"/"_"`},
		// Relation names are verbatim, one rule everywhere (§25.3).
		{"my.schema", `ta"b/le`, []events.Value{val("1")}, `"my.schema"."ta"b/le"/"1"`},
	}
	for _, c := range cases {
		if got := Key(c.schema, c.table, c.vals); got != c.want {
			t.Errorf("Key(%q, %q, %v) = %s, want %s", c.schema, c.table, c.vals, got, c.want)
		}
	}
}

func TestCanonicalKeyText(t *testing.T) {
	t.Parallel()
	cases := []struct {
		oid      uint32
		in, want string
	}{
		{OIDBool, "true", "t"},
		{OIDBool, "false", "f"},
		{OIDBool, "t", "t"},
		{OIDBool, "f", "f"},
		{OIDInet, "10.0.0.1/32", "10.0.0.1"},
		{OIDInet, "10.0.0.1", "10.0.0.1"},
		{OIDInet, "10.0.0.0/24", "10.0.0.0/24"},
		{OIDInet, "::1/128", "::1"},
		{OIDInet, "2001:db8::/32", "2001:db8::/32"}, // IPv6 with a /32 mask is not full-length
		{OIDInet, "::1", "::1"},
		{OIDInet, "/32", "/32"},
		{25, "true", "true"},                // text is never rewritten
		{650, "10.0.0.1/32", "10.0.0.1/32"}, // cidr prints its mask in both paths
	}
	for _, c := range cases {
		if got := CanonicalKeyText(c.oid, c.in); got != c.want {
			t.Errorf("CanonicalKeyText(%d, %q) = %q, want %q", c.oid, c.in, got, c.want)
		}
		if got := string(canonicalKeyText(c.oid, []byte(c.in))); got != c.want {
			t.Errorf("canonicalKeyText(%d, []byte %q) = %q, want %q", c.oid, c.in, got, c.want)
		}
		// Idempotent: the stream path feeds canonical text.
		if got := CanonicalKeyText(c.oid, c.want); got != c.want {
			t.Errorf("not idempotent on %q: %q", c.want, got)
		}
	}
}

// The snapshot (cast to text) and the stream (output function) give the same
// key for a row whose key holds a bool and an inet (§25.2).
func TestSnapshotAndStreamKeysAgree(t *testing.T) {
	t.Parallel()
	rel := &events.Relation{Schema: "public", Name: "flags", Columns: []events.Column{{Name: "on", TypeOID: OIDBool}, {Name: "addr", TypeOID: OIDInet}, {Name: "note", TypeOID: 25}}}
	e, err := NewEncoder(Config{Schema: "public", Table: "flags", Relation: rel, Columns: []int{0, 1, 2}, KeyColumns: []int{0, 1}})
	if err != nil {
		t.Fatal(err)
	}
	snap, err := e.AppendSnapshotRow(nil, events.Tuple{val("true"), val("10.1.2.3/32"), val("n")})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := e.AppendSnapshotRowRaw(nil, [][]byte{[]byte("true"), []byte("10.1.2.3/32"), []byte("n")})
	if err != nil {
		t.Fatal(err)
	}
	items, err := e.AppendChange(nil, Tx{CommitLSN: 1, Xid: 1}, &events.Change{Kind: events.Delete, Old: events.Tuple{val("t"), val("10.1.2.3"), val("n")}}, MatchBoth, false)
	if err != nil {
		t.Fatal(err)
	}
	const want = `"public"."flags"/"t"/"10.1.2.3"`
	for _, b := range [][]byte{snap, raw, items[0].JSON} {
		var m struct{ Key string }
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		if m.Key != want {
			t.Errorf("key %s, want %s (from %s)", m.Key, want, b)
		}
	}
	// Values keep their own rendering: only keys are canonical.
	sameJSON(t, snap, `{"key":"\"public\".\"flags\"/\"t\"/\"10.1.2.3\"","value":{"on":"true","addr":"10.1.2.3/32","note":"n"},"headers":{"operation":"insert","relation":["public","flags"]}}`)
}

// A domain over bool is canonicalised through KeyBaseTypes.
func TestKeyBaseTypes(t *testing.T) {
	t.Parallel()
	rel := &events.Relation{Schema: "public", Name: "d", Columns: []events.Column{{Name: "b", TypeOID: 90001}}}
	e, err := NewEncoder(Config{Schema: "public", Table: "d", Relation: rel, Columns: []int{0}, KeyColumns: []int{0}, KeyBaseTypes: []uint32{OIDBool}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := e.AppendSnapshotRow(nil, events.Tuple{val("false")})
	sameJSON(t, b, `{"key":"\"public\".\"d\"/\"f\"","value":{"b":"false"},"headers":{"operation":"insert","relation":["public","d"]}}`)
}

// FuzzKey: any schema, table and key values give an item whose key member is
// valid JSON decoding to exactly Key(...), and the raw key splits back into
// its sections.
func FuzzKey(f *testing.F) {
	f.Add("public", "items", "42", "x", false)
	f.Add("a\"b", "c/d", "a/b", "", true)
	f.Add("s", "t", "\xff\xfe", "\u2028\x00", false)
	f.Fuzz(func(t *testing.T, schema, table, v1, v2 string, v2null bool) {
		rel := &events.Relation{Schema: schema, Name: table, Columns: []events.Column{{Name: "k1", TypeOID: 25}, {Name: "k2", TypeOID: 25}}}
		e, err := NewEncoder(Config{Schema: schema, Table: table, Relation: rel, Columns: []int{0, 1}, KeyColumns: []int{0, 1}})
		if err != nil {
			t.Fatal(err)
		}
		second := events.Value{Text: v2, Null: v2null}
		items, err := e.AppendChange(nil, Tx{CommitLSN: 1, Xid: 1}, &events.Change{Kind: events.Insert, New: events.Tuple{val(v1), second}}, MatchBoth, true)
		if err != nil {
			t.Fatal(err)
		}
		var m struct{ Key string }
		if err := json.Unmarshal(items[0].JSON, &m); err != nil {
			t.Fatalf("invalid JSON %q: %v", items[0].JSON, err)
		}
		want := Key(schema, table, []events.Value{val(v1), second})
		if m.Key != toValidUTF8(want) {
			t.Fatalf("item key %q, Key() %q", m.Key, want)
		}
		// Undo the section escaping: the sections after the relation are
		// recoverable from the raw key.
		prefix := `"` + schema + `"."` + table + `"`
		if want[:len(prefix)] != prefix {
			t.Fatalf("key %q lacks prefix %q", want, prefix)
		}
		secs := splitSections(want[len(prefix):])
		if len(secs) != 2 || secs[0] != `"`+v1+`"` {
			t.Fatalf("sections of %q = %q", want, secs)
		}
		if v2null && secs[1] != "_" || !v2null && secs[1] != `"`+v2+`"` {
			t.Fatalf("second section of %q = %q", want, secs[1])
		}
	})
}

// splitSections splits `/"a//b"/_` into `"a/b"` and `_`: a single "/" starts
// a section, "//" is an escaped slash.
func splitSections(s string) []string {
	var out []string
	var cur []byte
	for i := 0; i < len(s); i++ {
		if s[i] != '/' {
			cur = append(cur, s[i])
			continue
		}
		if i+1 < len(s) && s[i+1] == '/' {
			cur = append(cur, '/')
			i++
			continue
		}
		if i > 0 {
			out = append(out, string(cur))
		}
		cur = cur[:0]
	}
	return append(out, string(cur))
}
