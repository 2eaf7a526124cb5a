package supervisor

import (
	"strings"
	"testing"

	"github.com/shapesync/shapesync/replication/events"
	"github.com/shapesync/shapesync/shapes/shape"
)

func TestWhereFollowsTheDatabasesTextRules(t *testing.T) {
	t.Parallel()
	table := &events.Table{
		Schema: "public", Name: "people", DefaultCollation: "en_US.UTF-8", CType: "en_US.UTF-8",
		Columns: []events.TableColumn{
			{Name: "id", TypeName: "int8"},
			{Name: "doubled", TypeName: "int8", Generated: 's'},
			{Name: "code", TypeName: "text", Collation: "C"},
			{Name: "name", TypeName: "text"},
		},
		PrimaryKey: []int{0},
	}
	check := func(w string) error {
		_, err := checkedWhere(table, &shape.Definition{Schema: "public", Table: "people", Where: w})
		return err
	}
	// code is the third column but the second the stream carries: its
	// collation must follow it past the generated column.
	if err := check("code > 'a'"); err != nil {
		t.Errorf("ordering a COLLATE \"C\" column: %v", err)
	}
	if err := check("name > 'a'"); err == nil || !strings.Contains(err.Error(), `collation "en_US.UTF-8"`) {
		t.Errorf("ordering a default-collation column of an en_US database: %v", err)
	}
	if err := check("name = 'a' AND name ILIKE 'é%'"); err != nil {
		t.Errorf("equality and ILIKE are always accepted: %v", err)
	}
	e, err := checkedWhere(table, &shape.Definition{Schema: "public", Table: "people", Where: "lower(name) = 'élan'"})
	if err != nil {
		t.Fatal(err)
	}
	// Tuples carry id, code, name.
	match := rowMatcher(e)
	if !match(events.Tuple{{Text: "1"}, {Text: "x"}, {Text: "ÉLAN"}}) {
		t.Error("lower() under an en_US ctype must fold É")
	}
	table.CType, table.DefaultCollation = "C", "C"
	if err := check("name > 'a'"); err != nil {
		t.Errorf("ordering under the C collation: %v", err)
	}
	e, _ = checkedWhere(table, &shape.Definition{Schema: "public", Table: "people", Where: "lower(name) = 'élan'"})
	if rowMatcher(e)(events.Tuple{{Text: "1"}, {Text: "x"}, {Text: "ÉLAN"}}) {
		t.Error("lower() under the C ctype folds ASCII only")
	}
}
