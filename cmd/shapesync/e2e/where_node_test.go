package e2e_test

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/shapesync/shapesync/replication/pgcluster"
	"github.com/shapesync/shapesync/replication/pgcluster/pgtest"
)

// TestOfficialClientShapeDefinitions follows where clauses with params,
// column lists and replica=full on a composite-key table and on a table
// without a primary key with the official client, while random transactions
// move rows in and out and change keys; where_follow.mjs says what it
// checks.
func TestOfficialClientShapeDefinitions(t *testing.T) {
	cluster := pgtest.Start(t, pgcluster.Options{})
	dsn := cluster.DSN("postgres")
	execSQL(t, dsn, `
		CREATE TABLE wf_orders (tenant int4, id int8, status text NOT NULL, n int4, note text, PRIMARY KEY (tenant, id));
		CREATE TABLE wf_nopk (a int4, b text);
		CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
		CREATE DOMAIN points AS int4 CHECK (VALUE >= 0);
		CREATE TABLE wf_events (id int8 PRIMARY KEY, at timestamptz, score float8, day date, tags text[], feel mood, pts points);
		INSERT INTO wf_events SELECT i, timestamptz '2024-01-01 00:00:00+00' + i * interval '5 days 3 hours',
			(ARRAY[0, 0.25, 0.5, 1, 'NaN'])[1 + i % 5]::float8, date '2024-01-01' + i * 7, (ARRAY['{a}', '{b}', '{}', '{a,b}'])[1 + i % 4]::text[],
			(ARRAY['sad', 'ok', 'happy', NULL])[1 + i % 4]::mood, i % 9
			FROM generate_series(1, 50) AS i;
		CREATE TABLE wf_gen (id int8 PRIMARY KEY, n int4, doubled int4 GENERATED ALWAYS AS (n * 2) STORED);
		INSERT INTO wf_gen (id, n) VALUES (1, 1), (2, 5);
		INSERT INTO wf_orders SELECT 1 + i % 3, i, (ARRAY['open', 'held', 'done', 'gone'])[1 + i % 4],
			CASE WHEN i % 7 = 0 THEN NULL ELSE i % 11 END, (ARRAY['x', 'aXb', 'none', NULL])[1 + i % 4]
			FROM generate_series(1, 40) AS i;
		INSERT INTO wf_nopk SELECT CASE WHEN i % 9 = 0 THEN NULL ELSE i % 20 END, 'r' || i FROM generate_series(1, 30) AS i`)
	base := startShapesync(t, dsn, "e2edefs")
	t.Run("generated columns", func(t *testing.T) { checkGeneratedColumns(t, base) })
	runNodeScript(t, "where_follow.mjs",
		"SHAPESYNC_URL="+base,
		"DATABASE_URL="+dsn,
		"E2E_TXNS=120",
		"E2E_SEED=7",
		"E2E_WAIT_MS=60000", // per wait; a healthy run needs milliseconds
	)
}

// checkGeneratedColumns is RELIABILITY C8 on Postgres 15, which does not
// publish generated columns: a shape that would include one, by omitting
// columns or by naming it, or a where clause that reads one, is a 400 that
// names it; a column list without it is served.
func checkGeneratedColumns(t *testing.T, base string) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	errorsOf := func(body []byte) map[string][]string {
		var b struct {
			Errors map[string][]string `json:"errors"`
		}
		if err := json.Unmarshal(body, &b); err != nil {
			t.Fatalf("400 body %q: %v", body, err)
		}
		return b.Errors
	}
	for _, c := range []struct {
		name  string
		q     url.Values
		param string
		want  []string
	}{
		{"all columns", url.Values{"table": {"wf_gen"}, "offset": {"-1"}}, "columns", []string{"doubled", "generated"}},
		{"named", url.Values{"table": {"wf_gen"}, "offset": {"-1"}, "columns": {"id,doubled"}}, "columns", []string{"doubled", "generated"}},
		{"in where", url.Values{"table": {"wf_gen"}, "offset": {"-1"}, "columns": {"id,n"}, "where": {"doubled > 1"}}, "where", []string{"At location 0:", "doubled", "generated", "Postgres 18"}},
	} {
		status, _, body := shapeGET(ctx, t, base, c.q)
		if status != 400 {
			t.Errorf("%s: status %d, want 400: %s", c.name, status, body)
			continue
		}
		msgs := errorsOf(body)[c.param]
		if len(msgs) != 1 {
			t.Errorf("%s: errors %s, want one under %s", c.name, body, c.param)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(msgs[0], w) {
				t.Errorf("%s: message %q does not contain %q", c.name, msgs[0], w)
			}
		}
	}
	status, _, body := shapeGET(ctx, t, base, url.Values{"table": {"wf_gen"}, "offset": {"-1"}, "columns": {"id,n"}, "where": {"n > 2"}})
	if status != 200 {
		t.Fatalf("columns without the generated one: status %d: %s", status, body)
	}
	var msgs []wireMessage
	if err := json.Unmarshal(body, &msgs); err != nil {
		t.Fatalf("body %q: %v", body, err)
	}
	var rows []wireMessage
	for _, m := range msgs {
		if m.Headers.Operation != "" {
			rows = append(rows, m)
		}
	}
	wantRows(t, "wf_gen n > 2", rows, []string{"id", "n"}, 1)
}
