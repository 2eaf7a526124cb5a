package where

import (
	"context"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// floatSamples are random bit patterns (all exponents, subnormals
// included) and values known to stress shortest-digit printing.
func floatSamples(r *rand.Rand, n int) ([]float64, []float32) {
	f8 := []float64{1e23, 9.999999999999999e22, 5e-324, math.MaxFloat64, 2.2250738585072014e-308, 1e15, 1e14, 123456789012345680,
		1e-5, 1e-4, 0.1, 1.0 / 3, 1e100, 9007199254740993, 1 << 53, 1e21, 1e22, 2.5, -1.5e-7, 4.35, 0.3, 100, 1 << 60}
	f4 := []float32{1e6, 123456, 1e-5, 1e-4, 3.4028235e38, 1e-45, 16777216, 0.1, 7e-45, 1.2345679e8, 8.589973e9, 3.0e10}
	for range n {
		f := math.Float64frombits(r.Uint64())
		if !math.IsNaN(f) && !math.IsInf(f, 0) {
			f8 = append(f8, f)
		}
		g := math.Float32frombits(r.Uint32())
		if !math.IsNaN(float64(g)) && !math.IsInf(float64(g), 0) {
			f4 = append(f4, g)
		}
		// Short decimals and integers, where ties and upper bounds sit.
		d := float64(r.IntN(100000)) * math.Pow10(r.IntN(60)-30)
		f8 = append(f8, d)
		f4 = append(f4, float32(d))
	}
	return f8, f4
}

// TestFloatTextMatchesPostgres: float8out and float4out (extra_float_digits
// = 1) and the float input functions agree with Postgres on thousands of
// values, and on the float → numeric and float → int casts.
func TestFloatTextMatchesPostgres(t *testing.T) {
	t.Parallel()
	conn := connectWithDisplaySettings(t)
	r := rand.New(rand.NewPCG(7, 11))
	f8, f4 := floatSamples(r, 3000)
	var in8, in4 []string
	for _, f := range f8 {
		in8 = append(in8, strconv.FormatFloat(f, 'e', 17, 64))
	}
	for _, f := range f4 {
		in4 = append(in4, strconv.FormatFloat(float64(f), 'e', 9, 32))
	}
	ctx := context.Background()
	rows, err := conn.Query(ctx, `SELECT x::float8::text, x::float8::numeric::text FROM unnest($1::text[]) AS x`, in8)
	if err != nil {
		t.Fatal(err)
	}
	compareRows(t, rows, func(i int) []string {
		v, err := parseFloat(in8[i], Float8)
		if err != nil {
			t.Fatalf("%s: %v", in8[i], err)
		}
		n, err := castValue(v, Numeric)
		if err != nil {
			t.Fatalf("%s::numeric: %v", in8[i], err)
		}
		return []string{outputText(v), outputText(n)}
	}, in8)
	rows, err = conn.Query(ctx, `SELECT x::float4::text, x::float4::numeric::text, x::float4::float8::text FROM unnest($1::text[]) AS x`, in4)
	if err != nil {
		t.Fatal(err)
	}
	compareRows(t, rows, func(i int) []string {
		v, err := parseFloat(in4[i], Float4)
		if err != nil {
			t.Fatalf("%s: %v", in4[i], err)
		}
		n, _ := castValue(v, Numeric)
		w, _ := castValue(v, Float8)
		return []string{outputText(v), outputText(n), outputText(w)}
	}, in4)
}

func compareRows(t *testing.T, rows pgx.Rows, ours func(int) []string, inputs []string) {
	t.Helper()
	defer rows.Close()
	i, bad := 0, 0
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			t.Fatal(err)
		}
		want := ours(i)
		for j, v := range vals {
			if s, _ := v.(string); s != want[j] && bad < 20 {
				bad++
				t.Errorf("input %s column %d: Postgres %q, Go %q", inputs[i], j, s, want[j])
			}
		}
		i++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if i != len(inputs) {
		t.Fatalf("%d rows for %d inputs", i, len(inputs))
	}
}

// TestFloatInputMatchesPostgres: the float input functions accept, reject
// and read the same strings as Postgres (glibc strtod, whitespace, NaN and
// infinity spellings, hexadecimal, range), and float → int casts round
// and refuse as Postgres does.
func TestFloatInputMatchesPostgres(t *testing.T) {
	t.Parallel()
	conn := connectWithDisplaySettings(t)
	ctx := context.Background()
	if _, err := conn.Exec(ctx, tryEval); err != nil {
		t.Fatal(err)
	}
	inputs := []string{"1.5", " 1.5 ", "\t-2\n", "\v1\f", "", " ", ".", "1.", ".5", "+.5", "-.5e1", "1e", "1e+", "1.5e", "1e5", "1E+05",
		"nan", "NaN", "-nan", "+NaN", "nan(abc)", "nan()", "nan(", "nan(a b)", "inf", "-inf", "+Inf", "infinity", "-Infinity", "infinit",
		"infinityx", "0x10", "-0x10", "0x1p3", "0x.8", "0x1.", "0x", "0x1p", "0X1P-3", "0x1p-1074", "0x1p-1075", "0x1p-150", "0x1p128",
		"1_000", "1,5", "1e-310", "2e-324", "3e-324", "1e-46", "7e-46", "1e39", "3.4028235e38", "3.4028236e38", "3.40282357e38",
		"1e308", "1.7976931348623157e308", "1.7976931348623159e308", "1e400", "1e99999999", "1e-99999", "0e999999", "-0", "-0.0",
		"00001", "1e0001", "0.000000000000000000000000000000000000000000001", "123456789012345678901234567890", "16777217", "9007199254740993",
		"2.5", "3.5", "-2.5", "32767.5", "-32768.5", "2147483647.4", "2147483647.5", "-2147483648.5", "9223372036854775807",
		"9223372036854775296", "-9223372036854775808", "-9223372036854777856", "1 5", "١", "1e1.5", "++1", "--1", "-+1", "0x-1",
	}
	type probe struct{ sql, in string }
	var probes []probe
	batch := &pgx.Batch{}
	for _, in := range inputs {
		for _, t := range []string{"float8", "float4"} {
			for _, target := range []string{"text", "int2", "int4", "int8", "numeric", "float4", "float8"} {
				q := "SELECT ($1[1])::text::" + t + "::" + target + " = ($1[1])::text::" + t + "::" + target
				if target == "text" {
					q = "SELECT ($1[1])::text::" + t + "::text = ($1[1])::text::" + t + "::text"
				}
				probes = append(probes, probe{t + "->" + target, in})
				batch.Queue("SELECT try_eval($1, $2)", q, []string{in})
			}
		}
	}
	br := conn.SendBatch(ctx, batch)
	for _, p := range probes {
		var pgResult string
		if err := br.QueryRow().Scan(&pgResult); err != nil {
			t.Fatal(err)
		}
		src, target, _ := strings.Cut(p.sql, "->")
		v, err := parseFloat(p.in, Type(src))
		if err == nil {
			_, err = castValue(v, Type(target))
		}
		pgErr := strings.HasPrefix(pgResult, "error")
		if pgErr != (err != nil) {
			t.Errorf("%q::%s::%s: Postgres %s, Go error %v", p.in, src, target, pgResult, err)
		}
	}
	if err := br.Close(); err != nil {
		t.Fatal(err)
	}
	// The values themselves, for the inputs both accept.
	for _, in := range inputs {
		for _, typ := range []Type{Float8, Float4} {
			v, err := parseFloat(in, typ)
			if err != nil {
				continue
			}
			var got, gotInt string
			if err := conn.QueryRow(ctx, "SELECT ($1::text::"+string(typ)+")::text, coalesce((CASE WHEN abs($1::text::"+string(typ)+") < 1e18 THEN ($1::text::"+string(typ)+")::int8::text END), '')", in).Scan(&got, &gotInt); err != nil {
				t.Fatalf("%q: %v", in, err)
			}
			if want := outputText(v); got != want {
				t.Errorf("%q::%s: Postgres %q, Go %q", in, typ, got, want)
			}
			if gotInt != "" {
				i, err := castValue(v, Int8)
				if err != nil || outputText(i) != gotInt {
					t.Errorf("%q::%s::int8: Postgres %q, Go %q %v", in, typ, gotInt, outputText(i), err)
				}
			}
		}
	}
}
