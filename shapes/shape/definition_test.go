package shape

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

func baseDef() Definition {
	return Definition{Schema: "public", Table: "items", RelationOID: 16384, Columns: []string{"id", "title"}, Where: "id > $1", Params: []string{"5"}}
}

func TestCanonicalIdentity(t *testing.T) {
	t.Parallel()
	base := baseDef()
	same := map[string]func(d *Definition){
		"column order":                  func(d *Definition) { d.Columns = []string{"title", "id"} },
		"duplicate columns":             func(d *Definition) { d.Columns = []string{"id", "title", "id"} },
		"identical copy":                func(d *Definition) {},
		"params slice identity ignored": func(d *Definition) { d.Params = append([]string(nil), "5") },
	}
	for name, mut := range same {
		d := baseDef()
		mut(&d)
		if !d.Equal(&base) || d.Hash() != base.Hash() || !bytes.Equal(d.Canonical(), base.Canonical()) {
			t.Errorf("%s: changed the shape identity", name)
		}
	}
	noWhere1 := Definition{Schema: "public", Table: "items", Params: []string{"1"}}
	noWhere2 := Definition{Schema: "public", Table: "items"}
	if !noWhere1.Equal(&noWhere2) {
		t.Error("params without a where clause changed the identity")
	}

	differ := map[string]func(d *Definition){
		"schema":            func(d *Definition) { d.Schema = "other" },
		"table":             func(d *Definition) { d.Table = "other" },
		"oid":               func(d *Definition) { d.RelationOID = 1 },
		"columns implicit":  func(d *Definition) { d.Columns = nil },
		"columns empty":     func(d *Definition) { d.Columns = []string{} },
		"columns set":       func(d *Definition) { d.Columns = []string{"id"} },
		"where":             func(d *Definition) { d.Where = "id > $2" },
		"no where":          func(d *Definition) { d.Where = "" },
		"param value":       func(d *Definition) { d.Params = []string{"6"} },
		"param count":       func(d *Definition) { d.Params = []string{"5", ""} },
		"replica":           func(d *Definition) { d.Replica = ReplicaFull },
		"log":               func(d *Definition) { d.Log = LogChangesOnly },
		"normalized where":  func(d *Definition) { d.NormalizedWhere = "id > '5'" },
		"name boundary":     func(d *Definition) { d.Schema, d.Table = "publici", "tems" },
		"column boundary":   func(d *Definition) { d.Columns = []string{"idtitle"} },
		"where/param split": func(d *Definition) { d.Where, d.Params = "id > $15", nil },
	}
	seen := map[uint64]string{base.Hash(): "base"}
	for name, mut := range differ {
		d := baseDef()
		mut(&d)
		if d.Equal(&base) {
			t.Errorf("%s: same identity as the base", name)
		}
		if prev, dup := seen[d.Hash()]; dup {
			t.Errorf("%s: hash collides with %s", name, prev)
		}
		seen[d.Hash()] = name
	}
	// The implicit flag is not the same as listing no columns.
	if d := (Definition{Schema: "s", Table: "t"}); !d.AllColumns() {
		t.Error("nil columns is not AllColumns")
	}
}

// The hash is part of the on-disk contract: these values must never change.
func TestHashIsStable(t *testing.T) {
	t.Parallel()
	d := baseDef()
	const wantCanonical = "shapesync/definition/v1\x00\x06public\x05items\x00\x00\x40\x00\x00\x02\x02id\x05title\x00\x00\x01\x07id > $1\x01\x015"
	if got := string(d.Canonical()); got != wantCanonical {
		t.Fatalf("canonical form changed:\n got %q\nwant %q", got, wantCanonical)
	}
	// FNV-1a 64 of the bytes above, computed independently below.
	var h uint64 = 14695981039346656037
	for i := 0; i < len(wantCanonical); i++ {
		h ^= uint64(wantCanonical[i])
		h *= 1099511628211
	}
	if d.Hash() != h {
		t.Fatalf("Hash = %d, want FNV-1a %d", d.Hash(), h)
	}
	// Pinned values: a change here breaks every stored D| key and handle.
	if d.Hash() != 12436827725307407412 {
		t.Fatalf("Hash of the base definition changed: %d", d.Hash())
	}
	if plain := (Definition{Schema: "public", Table: "items"}); plain.Hash() != 11314925945326604310 {
		t.Fatalf("Hash of public.items changed: %d", plain.Hash())
	}
}

func TestParseEnums(t *testing.T) {
	t.Parallel()
	if r, err := ParseReplica("full"); err != nil || r != ReplicaFull {
		t.Error("replica full")
	}
	if r, err := ParseReplica("default"); err != nil || r != ReplicaDefault {
		t.Error("replica default")
	}
	if l, err := ParseLogMode("changes_only"); err != nil || l != LogChangesOnly {
		t.Error("log changes_only")
	}
	if l, err := ParseLogMode("full"); err != nil || l != LogFull {
		t.Error("log full")
	}
	for _, bad := range []string{"", "FULL", "Default", "partial"} {
		if _, err := ParseReplica(bad); !errors.Is(err, ErrInvalidValue) || err.Error() != "is invalid" {
			t.Errorf("ParseReplica(%q) = %v", bad, err)
		}
	}
	if _, err := ParseLogMode("changes"); !errors.Is(err, ErrInvalidValue) {
		t.Errorf("ParseLogMode(changes) = %v", err)
	}
}

func TestDefinitionJSON(t *testing.T) {
	t.Parallel()
	d := baseDef()
	d.Replica, d.Log = ReplicaFull, LogChangesOnly
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"schema":"public","table":"items","relation_oid":16384,"columns":["id","title"],"where":"id \u003e $1","params":["5"],"replica":"full","log":"changes_only"}`
	if string(b) != want {
		t.Errorf("JSON\n got %s\nwant %s", b, want)
	}
	implicit, _ := json.Marshal(Definition{Schema: "s", Table: "t"})
	if !strings.Contains(string(implicit), `"columns":null`) || !strings.Contains(string(implicit), `"replica":"default","log":"full"`) {
		t.Errorf("implicit columns JSON: %s", implicit)
	}
	for _, bad := range []string{
		`{"schema":"s","table":"t","replica":"half","log":"full"}`,
		`{"schema":"s","table":"t","replica":"full","log":"some"}`,
		`{"schema":"s","table":"t","relation_oid":-1}`,
		`[]`,
	} {
		var v Definition
		if err := json.Unmarshal([]byte(bad), &v); err == nil {
			t.Errorf("Unmarshal(%s) accepted", bad)
		}
	}
	if _, err := json.Marshal(Definition{Schema: "s", Table: "t", Where: "x = '\xff'"}); err == nil {
		t.Error("invalid UTF-8 marshalled")
	}
	if _, err := json.Marshal(Definition{Schema: "s", Table: "t", Replica: 9}); err == nil {
		t.Error("unknown replica marshalled")
	}
}

func genDefinition(t *rapid.T) Definition {
	str := rapid.String()
	opt := func(label string) []string {
		if rapid.Bool().Draw(t, label+"_nil") {
			return nil
		}
		return rapid.SliceOf(str).Draw(t, label)
	}
	return Definition{
		Schema:          str.Draw(t, "schema"),
		Table:           str.Draw(t, "table"),
		RelationOID:     rapid.Uint32().Draw(t, "oid"),
		Columns:         opt("columns"),
		Where:           str.Draw(t, "where"),
		Params:          opt("params"),
		NormalizedWhere: str.Draw(t, "normalized"),
		Replica:         Replica(rapid.IntRange(0, 1).Draw(t, "replica")),
		Log:             LogMode(rapid.IntRange(0, 1).Draw(t, "log")),
	}
}

// Storage round trip: the decoded definition is the same value with the same
// hash, and encoding is deterministic.
func TestDefinitionJSONRoundTrip(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(t *rapid.T) {
		d := genDefinition(t)
		b, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		var back Definition
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("decode %s: %v", b, err)
		}
		if !reflect.DeepEqual(back, d) {
			t.Fatalf("round trip changed\n%#v\n%#v", d, back)
		}
		if back.Hash() != d.Hash() || !back.Equal(&d) {
			t.Fatal("round trip changed the hash")
		}
		b2, _ := json.Marshal(back)
		if !bytes.Equal(b, b2) {
			t.Fatalf("re-encoding differs:\n%s\n%s", b, b2)
		}
	})
}

// Canonical forms are injective on what identifies a shape: two generated
// definitions have equal canonical forms exactly when their identifying
// fields agree.
func TestCanonicalInjective(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(t *rapid.T) {
		a, b := genDefinition(t), genDefinition(t)
		if rapid.Bool().Draw(t, "mostly_same") {
			b = a
			b.Columns = append([]string(nil), a.Columns...)
			if a.Columns == nil {
				b.Columns = nil
			}
			switch rapid.IntRange(0, 3).Draw(t, "tweak") {
			case 1:
				b.Table += "x"
			case 2:
				if b.Columns != nil {
					b.Columns = append(b.Columns, "extra\x00")
				}
			case 3:
				b.Params = append(b.Params, "")
			}
		}
		if a.Equal(&b) != (identity(a) == identity(b)) {
			t.Fatalf("Equal = %v for\n%#v\n%#v", a.Equal(&b), a, b)
		}
	})
}

// identity spells out SHAPE_API §6.1 independently of the encoder.
func identity(d Definition) string {
	var cols any = "implicit"
	if d.Columns != nil {
		set := map[string]bool{}
		for _, c := range d.Columns {
			set[c] = true
		}
		cols = set
	}
	var where any
	switch {
	case d.NormalizedWhere != "":
		where = []any{"n", d.NormalizedWhere}
	case d.Where != "":
		where = []any{"w", d.Where, append([]string{}, d.Params...)}
	}
	b, _ := json.Marshal([]any{d.Schema, d.Table, d.RelationOID, cols, d.Replica, d.Log, where})
	return string(b)
}
