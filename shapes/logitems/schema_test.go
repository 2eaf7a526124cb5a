package logitems

import "testing"

// Typmods below are what Postgres 15 stores in pg_attribute.atttypmod for the
// declared types (checked against a live server).
func TestSchemaJSONColumns(t *testing.T) {
	t.Parallel()
	col := func(typ string, tm int32) SchemaColumn {
		return SchemaColumn{Name: "c", TypeName: typ, TypeMod: tm, PKIndex: -1}
	}
	cases := []struct {
		name string
		col  SchemaColumn
		want string
	}{
		{"int8 pk not null", SchemaColumn{Name: "c", TypeName: "int8", PKIndex: 0, NotNull: true, TypeMod: -1}, `{"not_null":true,"pk_index":0,"type":"int8"}`},
		{"second pk column", SchemaColumn{Name: "c", TypeName: "text", PKIndex: 1, TypeMod: -1}, `{"pk_index":1,"type":"text"}`},
		{"varchar(100)", col("varchar", 104), `{"max_length":100,"type":"varchar"}`},
		{"varchar", col("varchar", -1), `{"type":"varchar"}`},
		{"text", col("text", -1), `{"type":"text"}`},
		{"text with typmod", col("text", 14), `{"max_length":10,"type":"text"}`},
		{"char", col("bpchar", 5), `{"length":1,"type":"bpchar"}`},
		{"char(5)", col("bpchar", 9), `{"length":5,"type":"bpchar"}`},
		{"bare bpchar", col("bpchar", -1), `{"type":"bpchar"}`},
		{"bit", col("bit", 1), `{"length":1,"type":"bit"}`},
		{"bit(3)", col("bit", 3), `{"length":3,"type":"bit"}`},
		{"varbit(7)", col("varbit", 7), `{"length":7,"type":"varbit"}`},
		{"bare varbit (§26)", col("varbit", -1), `{"length":-1,"type":"varbit"}`},
		{"numeric(10,2)", col("numeric", 655366), `{"precision":10,"scale":2,"type":"numeric"}`},
		{"numeric(5)", col("numeric", 327684), `{"precision":5,"scale":0,"type":"numeric"}`},
		{"numeric", col("numeric", -1), `{"type":"numeric"}`},
		// PG15 negative scale: the low half is read as a signed 16-bit
		// value like the reference, which gives 2046 (0x7FE) for -2.
		{"numeric(5,-2)", col("numeric", 329730), `{"precision":5,"scale":2046,"type":"numeric"}`},
		{"timestamp(3)", col("timestamp", 3), `{"precision":3,"type":"timestamp"}`},
		{"timestamp(0) (§26)", col("timestamp", 0), `{"type":"timestamp","type_mod":0}`},
		{"time(0) (§26)", col("time", 0), `{"type":"time","type_mod":0}`},
		{"timetz(6)", col("timetz", 6), `{"precision":6,"type":"timetz"}`},
		{"timestamptz", col("timestamptz", -1), `{"type":"timestamptz"}`},
		{"timestamptz(2)", col("timestamptz", 2), `{"precision":2,"type":"timestamptz"}`},
		{"interval", col("interval", -1), `{"type":"interval"}`},
		{"interval(0)", col("interval", 2147418112), `{"precision":0,"type":"interval"}`},
		{"interval day to second(3)", col("interval", 470286339), `{"fields":"DAY TO SECOND","precision":3,"type":"interval"}`},
		{"interval year", col("interval", 327679), `{"fields":"YEAR","type":"interval"}`},
		{"interval hour to minute", col("interval", 201392127), `{"fields":"HOUR TO MINUTE","type":"interval"}`},
		{"interval year to month", col("interval", 458751), `{"fields":"YEAR TO MONTH","type":"interval"}`},
		{"interval second(2)", col("interval", 268435458), `{"fields":"SECOND","precision":2,"type":"interval"}`},
		{"interval minute to second", col("interval", 402718719), `{"fields":"MINUTE TO SECOND","type":"interval"}`},
		{"interval with no known unit", col("interval", 1<<16|0xFFFF), `{"type":"interval"}`},
		{"int4[]", SchemaColumn{Name: "c", TypeName: "int4", ArrayTypeName: "_int4", Dims: 1, PKIndex: -1, TypeMod: -1}, `{"dims":1,"type":"int4"}`},
		{"varchar(10)[][]", SchemaColumn{Name: "c", TypeName: "varchar", ArrayTypeName: "_varchar", Dims: 2, PKIndex: -1, TypeMod: 14}, `{"dims":2,"max_length":10,"type":"varchar"}`},
		{"array with 0 dims", SchemaColumn{Name: "c", TypeName: "varchar", ArrayTypeName: "_varchar", Dims: 0, PKIndex: -1, TypeMod: 14}, `{"type":"_varchar","type_mod":14}`},
		{"user type", col("mood", -1), `{"type":"mood"}`},
		{"user type with typmod", col("vector", 3), `{"type":"vector","type_mod":3}`},
		{"quotes in the type name", col(`we"ird`, -1), `{"type":"we\"ird"}`},
	}
	for _, c := range cases {
		got := string(SchemaJSON([]SchemaColumn{c.col}))
		if want := `{"c":` + c.want + `}`; got != want {
			t.Errorf("%s: got %s, want %s", c.name, got, want)
		}
	}
}

func TestSchemaJSONExample(t *testing.T) {
	t.Parallel()
	cols := []SchemaColumn{
		{Name: "title", TypeName: "varchar", TypeMod: 104, PKIndex: -1, NotNull: true},
		{Name: "tags", TypeName: "text", ArrayTypeName: "_text", Dims: 1, TypeMod: -1, PKIndex: -1},
		{Name: "id", TypeName: "int8", TypeMod: -1, PKIndex: 0, NotNull: true},
		{Name: "done", TypeName: "bool", TypeMod: -1, PKIndex: -1},
		{Name: "done", TypeName: "int4", TypeMod: -1, PKIndex: -1}, // repeated: first wins
	}
	const want = `{"done":{"type":"bool"},"id":{"not_null":true,"pk_index":0,"type":"int8"},"tags":{"dims":1,"type":"text"},"title":{"max_length":100,"not_null":true,"type":"varchar"}}`
	got := SchemaJSON(cols)
	if string(got) != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	sameJSON(t, got, `{"id":{"type":"int8","pk_index":0,"not_null":true},"title":{"type":"varchar","max_length":100,"not_null":true},"tags":{"type":"text","dims":1},"done":{"type":"bool"}}`)
	if cols[0].Name != "title" {
		t.Error("SchemaJSON reordered its input")
	}
	if string(SchemaJSON(nil)) != "{}" {
		t.Error("empty schema is not {}")
	}
}
