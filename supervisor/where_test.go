package supervisor

import (
	"errors"
	"testing"

	httpapi "github.com/shapesync/shapesync/http/api"
	"github.com/shapesync/shapesync/replication/events"
	"github.com/shapesync/shapesync/shapes/shape"
	"github.com/shapesync/shapesync/shapes/where"
)

func whereTable() *events.Table {
	return &events.Table{OID: 7, Schema: "public", Name: "items", PrimaryKey: []int{0}, Columns: []events.TableColumn{
		{Name: "id", TypeName: "int8", NotNull: true, TypeMod: -1},
		{Name: "doubled", TypeName: "int8", TypeMod: -1, Generated: 's'},
		{Name: "n", TypeName: "int4", TypeMod: -1},
		{Name: "tags", TypeName: "text", TypeMod: -1, IsArray: true},
	}}
}

// TestWhereErrorsAre400 checks that a clause the where package refuses
// becomes the 400 of errors.where with the package's "At location n" text,
// before anything reaches Postgres.
func TestWhereErrorsAre400(t *testing.T) {
	t.Parallel()
	cases := []struct{ where, want string }{
		{"nope > 1", "At location 0: unknown reference nope"},
		{"1=1; DROP TABLE items", `At location 3: unescaped ";" causing statement split`},
		{"doubled > 1", "At location 0: column doubled is a generated column, which the replication stream does not carry before Postgres 18; it cannot be used in a where clause (use the expression it is generated from)"},
	}
	for _, c := range cases {
		d := definitionOf(httpapi.ShapeDefinition{Schema: "public", Table: "items", Where: c.where})
		_, err := checkedWhere(whereTable(), &d)
		var we *where.Error
		if !errors.As(err, &we) {
			t.Errorf("%q: error %v, want a *where.Error", c.where, err)
			continue
		}
		if err.Error() != c.want {
			t.Errorf("%q: %q, want %q", c.where, err.Error(), c.want)
		}
		ir := httpapi.InvalidParam("where", err.Error())
		if got := ir.Errors["where"]; len(got) != 1 || got[0] != c.want {
			t.Errorf("%q: 400 errors %v", c.where, ir.Errors)
		}
	}
}

func TestWhereDefinitionAndMatcher(t *testing.T) {
	t.Parallel()
	def := httpapi.ShapeDefinition{Schema: "public", Table: "items", Where: "n > $1 AND 'a' = ANY(tags)", Params: []string{"5"}}
	d := definitionOf(def)
	if d.Where != def.Where || len(d.Params) != 1 || d.Params[0] != "5" {
		t.Fatalf("definition %+v lost the clause or its params", d)
	}
	other := definitionOf(httpapi.ShapeDefinition{Schema: "public", Table: "items", Where: def.Where, Params: []string{"6"}})
	if d.Equal(&other) || hashOf(&d) == hashOf(&other) {
		t.Fatal("a different param value gave the same definition")
	}
	whole := definitionOf(httpapi.ShapeDefinition{Schema: "public", Table: "items", Params: []string{"6"}})
	if whole.Params != nil || !whole.Equal(&shape.Definition{Schema: "public", Table: "items"}) {
		t.Fatalf("params without where count: %+v", whole)
	}
	e, err := checkedWhere(whereTable(), &d)
	if err != nil {
		t.Fatal(err)
	}
	match := rowMatcher(e)
	// Tuples carry the published columns only: id, n, tags.
	row := func(n string, nNull bool, tags string) events.Tuple {
		return events.Tuple{{Text: "1"}, {Text: n, Null: nNull}, {Text: tags}}
	}
	cases := []struct {
		row  events.Tuple
		want bool
	}{
		{row("6", false, "{a,b}"), true},
		{row("5", false, "{a,b}"), false},
		{row("9", false, "{b}"), false},
		{row("", true, "{a}"), false},      // NULL is not true
		{row("x", false, "{a}"), false},    // an evaluation error does not match
		{events.Tuple{{Text: "1"}}, false}, // short tuple reads NULL
	}
	for i, c := range cases {
		if got := match(c.row); got != c.want {
			t.Errorf("case %d %v: match %v, want %v", i, c.row, got, c.want)
		}
	}
	if rowMatcher(nil) != nil {
		t.Error("no clause must give a nil matcher (every row)")
	}
	sql, args := e.SQLFrom(1)
	if sql == "" || len(args) == 0 {
		t.Fatalf("SQL %q args %v", sql, args)
	}
}
