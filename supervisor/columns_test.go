package supervisor

import (
	"encoding/json"
	"reflect"
	"slices"
	"testing"

	httpapi "github.com/shapesync/shapesync/http/api"
	"github.com/shapesync/shapesync/replication/events"
	"github.com/shapesync/shapesync/shapes/shape"
)

func columnsTable(pk ...int) *events.Table {
	return &events.Table{OID: 7, Schema: "public", Name: "items", PrimaryKey: pk, Columns: []events.TableColumn{
		{Name: "id", TypeName: "int8", NotNull: true, TypeMod: -1},
		{Name: "title", TypeName: "text", TypeMod: -1},
		{Name: "Has,Comma", TypeName: "text", TypeMod: -1},
		{Name: "k2", TypeName: "int4", TypeMod: -1},
	}}
}

func TestColumnsError(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		pk        []int
		requested []string
		want      string
	}{
		{"all columns implicitly", []int{0}, nil, ""},
		{"pk and more", []int{0}, []string{"title", "id"}, ""},
		{"duplicates are harmless", []int{0}, []string{"id", "id", "Has,Comma"}, ""},
		{"missing pk", []int{0}, []string{"title"}, "The list of columns must include all primary key columns, missing: id"},
		{"missing composite pk in key order", []int{3, 0}, []string{"title"}, "The list of columns must include all primary key columns, missing: k2, id"},
		{"missing pk before unknown", []int{0}, []string{"nope"}, "The list of columns must include all primary key columns, missing: id"},
		{"unknown once each, in request order", []int{0}, []string{"id", "zz", "nope", "zz"}, "The following columns are not found on the table: zz, nope"},
		{"names are case-sensitive", []int{0}, []string{"id", "Title"}, "The following columns are not found on the table: Title"},
		{"no pk needs every column", nil, []string{"id", "title"}, "The list of columns must include all primary key columns, missing: Has,Comma, k2"},
		{"no pk with every column", nil, []string{"k2", "Has,Comma", "title", "id"}, ""},
	}
	for _, c := range cases {
		if got := columnsError(columnsTable(c.pk...), c.requested); got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
}

func TestDefinitionOfColumnsAndReplica(t *testing.T) {
	t.Parallel()
	a := definitionOf(httpapi.ShapeDefinition{Schema: "public", Table: "items", Columns: []string{"title", "id", "title"}, Replica: httpapi.ReplicaFull})
	if want := []string{"id", "title"}; !slices.Equal(a.Columns, want) || a.Replica != shape.ReplicaFull {
		t.Fatalf("definition %+v, want columns %v and replica full", a, want)
	}
	b := definitionOf(httpapi.ShapeDefinition{Schema: "public", Table: "items", Columns: []string{"id", "title"}, Replica: httpapi.ReplicaFull})
	if !a.Equal(&b) {
		t.Fatal("column order and duplicates change the definition")
	}
	whole := definitionOf(httpapi.ShapeDefinition{Schema: "public", Table: "items"})
	if !whole.AllColumns() || whole.Replica != shape.ReplicaDefault || whole.Equal(&b) {
		t.Fatalf("whole-table definition %+v", whole)
	}
}

func TestColumnIndexes(t *testing.T) {
	t.Parallel()
	tbl := columnsTable(0)
	if got := columnIndexes(tbl, nil); got != nil {
		t.Fatalf("nil names gave %v", got)
	}
	if got, want := columnIndexes(tbl, []string{"k2", "id", "Has,Comma"}), []int{0, 2, 3}; !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v (table order)", got, want)
	}
	if got, want := columnIndexes(tbl, []string{"id", "gone"}), []int{0, -1}; !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v (unknown name marked)", got, want)
	}
}

func TestSchemaJSONCoversShapeColumnsOnly(t *testing.T) {
	t.Parallel()
	tbl := columnsTable(0)
	var got map[string]map[string]any
	if err := json.Unmarshal(schemaJSON(tbl, []int{0, 2}), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]map[string]any{
		"id":        {"type": "int8", "pk_index": float64(0), "not_null": true},
		"Has,Comma": {"type": "text"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("schema %v, want %v", got, want)
	}
	got = nil
	if err := json.Unmarshal(schemaJSON(tbl, nil), &got); err != nil || len(got) != 4 {
		t.Fatalf("whole-table schema %v (%v), want 4 columns", got, err)
	}
}

func TestGeneratedColumnsOnlyWhenSelected(t *testing.T) {
	t.Parallel()
	tbl := columnsTable(0)
	tbl.Columns[3].Generated = 's'
	if msg := generatedColumnsError(tbl, nil); msg == "" {
		t.Fatal("whole table with a generated column accepted")
	}
	if msg := generatedColumnsError(tbl, []int{0, 3}); msg == "" {
		t.Fatal("selected generated column accepted")
	}
	if msg := generatedColumnsError(tbl, []int{0, 1}); msg != "" {
		t.Fatalf("projection without the generated column refused: %s", msg)
	}
}
