package where

import (
	"context"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Date/time columns and generator branches of the differential test
// (diff_test.go). The row values are adversarial: month ends, leap days,
// the ends of each type's range, ±infinity, 24:00:00, intervals at the
// int32/int64 limits, negative and mixed-sign intervals.

var dateTimeDiffColumns = []Column{{"d", "date"}, {"ts", "timestamp"}, {"tz", "timestamptz"}, {"tm", "time"}, {"iv", "interval"}}

var dateTimeDiffValues = [][]string{
	{"2024-01-31", "2024-02-29", "2023-02-28", "2024-12-31", "2000-01-01", "1970-01-01", "0001-01-01 BC", "4714-11-24 BC",
		"5874897-12-31", "294276-12-31", "294277-01-01", "infinity", "-infinity", "2024-03-31", "1999-12-31", "0005-02-29 BC"},
	{"2024-01-31 12:34:56.789", "2024-02-29 00:00:00", "2024-01-31 00:00:00", "2024-03-31 23:59:59.999999", "2000-01-01 00:00:00",
		"294276-12-31 23:59:59.999999", "4714-11-24 00:00:00 BC", "infinity", "-infinity", "1970-01-01 00:00:00", "2024-12-31 23:00:00",
		"0001-12-31 23:59:59.5 BC"},
	{"2024-01-31 12:34:56.789+00", "2024-02-29 00:00:00+00", "2024-01-31 00:00:00+00", "2024-03-31 23:59:59.999999+00",
		"2000-01-01 00:00:00+00", "294276-12-31 23:59:59.999999+00", "4714-11-24 00:00:00+00 BC", "infinity", "-infinity",
		"1970-01-01 00:00:00+00", "2024-10-27 01:30:00+00"},
	{"00:00:00", "12:34:56.789", "23:59:59.999999", "24:00:00", "06:00:00", "12:00:00", "00:00:00.000001"},
	{"PT0S", "P1M", "P30D", "PT24H", "P1D", "P1Y2M3DT4H5M6S", "P-1Y-2M3DT-4H-5M-6.5S", "PT-0.000001S", "P-1D", "PT1H",
		"P178956970Y7M", "P-178956970Y-8M", "P2147483647D", "P-2147483648D", "PT2562047788H54.775807S", "PT-2562047788H-54.775808S",
		"P1M-1D", "P1DT-1H", "P-1M1DT1H", "P1Y", "PT0.5S", "P29DT23H59M59.999999S"},
}

func (g *exprGen) date(d int) string {
	if d <= 0 {
		return g.pick("d", "d", "date '2024-01-31'", "'2024-02-29'::date", "DATE 'infinity'", "date '-infinity'",
			"date '5874897-12-31'", "date '4714-11-24 BC'", "'2024-03-31 23:59:59'::date", "NULL::date")
	}
	switch g.r.IntN(8) {
	case 0:
		return "(" + g.date(d-1) + g.pick(" + ", " - ") + g.pick("i4", "i2", "1", "30", "-365", "2147483647", "-2147483648") + ")"
	case 1:
		return "(" + g.pick("i2", "1", "7") + " + " + g.date(d-1) + ")"
	case 2:
		return "(" + g.pick(g.timestamp(d-1), g.timestamptz(d-1)) + ")::date"
	case 3:
		return g.pick("coalesce", "greatest", "least") + "(" + g.date(d-1) + ", " + g.date(d-1) + ")"
	case 4:
		return g.param() + "::date"
	case 5:
		return "((" + g.pick(g.timestamp(d-1), g.timestamptz(d-1), g.date(d-1)) + ")::text)::date"
	}
	return g.date(0)
}

func (g *exprGen) timestamp(d int) string {
	if d <= 0 {
		return g.pick("ts", "ts", "timestamp '2024-01-31 10:00:00'", "'2024-02-29T12:00:00.5'::timestamp", "timestamp 'infinity'",
			"timestamp '294276-12-31 23:59:59.999999'", "timestamp '2024-01-01 10:00+05'", "TIMESTAMP WITHOUT TIME ZONE 'epoch'")
	}
	switch g.r.IntN(9) {
	case 0:
		return "(" + g.date(d-1) + ")::timestamp"
	case 1:
		return "(" + g.date(d-1) + " + " + g.time(d-1) + ")"
	case 2, 3:
		return "(" + g.pick(g.timestamp(d-1), g.date(d-1)) + g.pick(" + ", " - ") + g.interval(d-1) + ")"
	case 4:
		return "(" + g.interval(d-1) + " + " + g.timestamp(d-1) + ")"
	case 5:
		return "(" + g.timestamptz(d-1) + ")::timestamp"
	case 7:
		return "(" + g.timestamptz(d-1) + " AT TIME ZONE " + g.zone() + ")"
	case 8:
		return "((" + g.pick(g.timestamptz(d-1), g.timestamp(d-1), g.date(d-1)) + ")::text)::" + g.pick("timestamp", "timestamptz")
	case 6:
		return "(ts " + g.pick("+", "-") + " " + g.pick("'1 day'", "'P1M'", "'-2 hours'", "'1 year 2 mons'") + ")"
	}
	return g.timestamp(0)
}

func (g *exprGen) timestamptz(d int) string {
	if d <= 0 {
		return g.pick("tz", "tz", "timestamptz '2024-01-31 10:00:00+05:30'", "'2024-02-29 23:00Z'::timestamptz",
			"timestamptz '-infinity'", "TIMESTAMP WITH TIME ZONE '2024-10-27 02:30:00-01'")
	}
	switch g.r.IntN(7) {
	case 0:
		return "(" + g.pick(g.date(d-1), g.timestamp(d-1)) + ")::timestamptz"
	case 1, 2:
		return "(" + g.timestamptz(d-1) + g.pick(" + ", " - ") + g.interval(d-1) + ")"
	case 4:
		return "timezone(" + g.zone() + ", " + g.timestamp(d-1) + ")"
	case 3:
		return g.pick("greatest", "least", "coalesce") + "(" + g.timestamptz(d-1) + ", " + g.pick(g.timestamp(d-1), g.date(d-1)) + ")"
	}
	return g.timestamptz(0)
}

func (g *exprGen) time(d int) string {
	if d <= 0 {
		return g.pick("tm", "tm", "time '12:00'", "'24:00:00'::time", "time '23:59:59.999999'", "TIME WITHOUT TIME ZONE '00:00:00.5'")
	}
	switch g.r.IntN(5) {
	case 0, 1:
		return "(" + g.time(d-1) + g.pick(" + ", " - ") + g.interval(d-1) + ")"
	case 2:
		return "(" + g.pick(g.timestamp(d-1), g.timestamptz(d-1)) + ")::time"
	case 3:
		return "(" + g.interval(d-1) + ")::time"
	case 4:
		return "((" + g.time(d-1) + ")::text)::time"
	}
	return g.time(0)
}

func (g *exprGen) interval(d int) string {
	if d <= 0 {
		return g.pick("iv", "iv", "iv", "interval 'P1M'", "interval 'P1D'", "'PT24H'::interval", "interval '1 year 2 mons -3 days 04:05:06.5'",
			"interval 'P-178956970Y-8M'", "interval 'PT2562047788H54.775807S'", "interval '2147483647 days'", "interval '1 day ago'")
	}
	switch g.r.IntN(13) {
	case 10:
		return "((" + g.interval(d-1) + ")::text)::interval"
	case 11:
		return "(" + g.pick("'2024-03-01 00:00:00'", "'P1D'", "'12:00'") + " - " + g.pick("ts", "tz", "iv", "tm") + ")"
	case 0:
		return "(" + g.pick(g.timestamp(d-1), g.date(d-1)) + " - " + g.pick(g.timestamp(d-1), g.date(d-1)) + ")"
	case 1:
		return "(" + g.timestamptz(d-1) + " - " + g.timestamptz(d-1) + ")"
	case 2, 3:
		return "(" + g.interval(d-1) + g.pick(" + ", " - ") + g.interval(d-1) + ")"
	case 4:
		return "(- " + g.interval(d-1) + ")"
	case 5:
		return "(" + g.interval(d-1) + " * " + g.pick("2", "i4", "i2", "-1", "1.5", "n", "0.001", "i8", "f8", "f4", "1e300::float8", "'NaN'::float8") + ")"
	case 6:
		return "(" + g.pick("3", "i2", "0.5") + " * " + g.interval(d-1) + ")"
	case 7:
		return g.pick("justify_days", "justify_hours", "justify_interval") + "(" + g.interval(d-1) + ")"
	case 8:
		return "(" + g.time(d-1) + " - " + g.time(d-1) + ")"
	case 9:
		return "(" + g.time(d-1) + ")::interval"
	}
	return g.interval(0)
}

// dateTimeBool is a comparison or test over date/time expressions.
func (g *exprGen) dateTimeBool(d int) string {
	a := func() string {
		switch g.r.IntN(5) {
		case 0:
			return g.date(d)
		case 1:
			return g.timestamp(d)
		case 2:
			return g.timestamptz(d)
		case 3:
			return g.time(d)
		}
		return g.interval(d)
	}
	switch g.r.IntN(12) {
	case 0, 1:
		return g.date(d) + " " + g.cmp() + " " + g.pick(g.date(d), g.timestamp(d), g.timestamptz(d))
	case 2:
		return g.timestamp(d) + " " + g.cmp() + " " + g.pick(g.timestamp(d), g.timestamptz(d), "'2024-01-31 12:34:56.789'")
	case 3:
		return g.timestamptz(d) + " " + g.cmp() + " " + g.pick(g.timestamptz(d), "'2024-01-31 12:34:56.789+00'", "'2024-01-31 17:34:56.789+05'")
	case 4:
		return g.time(d) + " " + g.cmp() + " " + g.pick(g.time(d), "'24:00'", "'12:34:56.789'")
	case 5:
		return g.interval(d) + " " + g.cmp() + " " + g.pick(g.interval(d), "'P30D'", "'1 mon'", "'PT720H'")
	case 6:
		return g.pick("d", "ts", "tz", "tm", "iv") + g.pick(" IN (", " NOT IN (") + g.pick("d", "ts", "tz", "tm", "iv") + ", " +
			g.pick("NULL", "'2024-01-31'", "'infinity'", "'12:00'", "'P1M'", "'2024-02-29 00:00:00'") + ")"
	case 7:
		x := g.pick("d", "ts", "tz")
		return x + g.pick(" BETWEEN ", " NOT BETWEEN ", " BETWEEN SYMMETRIC ") + g.pick("'2024-01-01'", g.date(d), "'-infinity'") + " AND " + g.pick("'2024-12-31'", g.timestamp(d), "'infinity'")
	case 8:
		return "(" + a() + ")::text " + g.cmp() + " " + g.pick(g.text(d), "'2024-01-31'", "'P1M'", "'infinity'")
	case 9:
		return a() + " IS " + g.pick("", "NOT ") + g.pick("NULL", "DISTINCT FROM "+g.pick("d", "NULL::date", "'2024-01-31'"))
	case 10:
		return "(" + g.date(d) + " - " + g.date(d) + ") " + g.cmp() + " " + g.num(d)
	}
	return "concat(" + a() + ", " + a() + ") " + g.cmp() + " " + g.text(d)
}

func (g *exprGen) zone() string {
	return g.pick("'UTC'", "'utc'", "'GMT'", "'Etc/UTC'", "INTERVAL '05:30'", "interval '-PT3H0.5S'", "interval '-167:59:59.999999'",
		"interval 'PT168H'", "NULL::interval", "NULL", g.param())
}

func dateTimeParamValues() []string {
	return []string{"2024-01-31", "P1D", "2024-01-31 10:00:00+05", "12:00", "infinity", "UTC", "-05:00"}
}

// TestDateTimeEvalMatchesPostgres is the differential test of
// diff_test.go on date/time clauses only (alone or joined with other
// clauses), so that each run compares thousands of them whatever the
// rest of the generator's mix; SHAPESYNC_LONG=1 runs ten times as many.
func TestDateTimeEvalMatchesPostgres(t *testing.T) {
	t.Parallel()
	conn := connectWithDisplaySettings(t)
	ctx := context.Background()
	if _, err := conn.Exec(ctx, tryEval); err != nil {
		t.Fatal(err)
	}
	total := 3000
	if os.Getenv("SHAPESYNC_LONG") == "1" {
		total = 30000
	}
	seed := uint64(time.Now().UnixNano())
	r := rand.New(rand.NewPCG(seed, 7))
	outcomes := map[string]int{}
	rejected := 0
	for done := 0; done < total; {
		var cases []*diffCase
		for len(cases) < 500 {
			g := &exprGen{r: r}
			for range r.IntN(3) {
				g.params = append(g.params, g.paramValue())
			}
			where := g.dateTimeBool(1 + r.IntN(3))
			if r.IntN(4) == 0 {
				where = "(" + where + ") " + g.pick("AND", "OR") + " (" + g.boolean(1+r.IntN(2)) + ")"
			}
			dc := &diffCase{where: where, params: g.params}
			for i := range diffColumns {
				if r.IntN(6) == 0 {
					dc.row = append(dc.row, nil)
					continue
				}
				s := diffValues[i][r.IntN(len(diffValues[i]))]
				dc.row = append(dc.row, &s)
			}
			parsed, err := Parse(dc.where, dc.params)
			if err != nil {
				t.Fatalf("the generator wrote %q, which Parse rejects: %v", dc.where, err)
			}
			expr, err := parsed.Check(diffColumns)
			if err != nil {
				rejected++
				continue
			}
			prepare(dc, expr)
			cases = append(cases, dc)
		}
		batch := &pgx.Batch{}
		for _, dc := range cases {
			batch.Queue("SELECT try_eval($1, $2)", dc.sql, dc.args)
		}
		br := conn.SendBatch(ctx, batch)
		for _, dc := range cases {
			var pgResult string
			if err := br.QueryRow().Scan(&pgResult); err != nil {
				t.Fatalf("try_eval: %v", err)
			}
			theirs := pgResult
			if strings.HasPrefix(pgResult, "error ") {
				theirs = "error"
			}
			outcomes[theirs]++
			if theirs != dc.ours || strings.HasPrefix(pgResult, "error 42") {
				t.Errorf("seed %d: disagreement on %q params %q row %s:\n  Go: %s\n  Postgres: %s\n  SQL: %s", seed, dc.where, dc.params, showRow(dc.row), dc.ours, pgResult, dc.sql)
			}
		}
		if err := br.Close(); err != nil {
			t.Fatal(err)
		}
		done += len(cases)
		if t.Failed() {
			break
		}
	}
	t.Logf("seed %d: outcomes %v, %d generated clauses rejected by Check", seed, outcomes, rejected)
}
