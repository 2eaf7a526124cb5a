package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/shapesync/shapesync/replication/pgcluster"
	"github.com/shapesync/shapesync/replication/pgcluster/pgtest"
)

// TestHostileWhereClausesNeverReachPostgres is RELIABILITY F2 against the
// real service, with Postgres logging every statement it runs: each hostile
// clause carries a marker, every one is a 400 under errors.where, and no
// marker appears in the server log. Side effects are checked too: the
// sequence was not advanced, the table still has its rows, no setting was
// changed. Clauses that only look hostile (quotes inside a literal) are
// valid and are served as the literal they are.
func TestHostileWhereClausesNeverReachPostgres(t *testing.T) {
	cluster := pgtest.Start(t, pgcluster.Options{Settings: map[string]string{"log_statement": "all"}})
	dsn := cluster.DSN("postgres")
	execSQL(t, dsn, `CREATE TABLE h_items (id int8 PRIMARY KEY, title text NOT NULL);
		INSERT INTO h_items VALUES (1, 'a'), (2, 'b');
		CREATE SEQUENCE h_seq`)
	base := startShapesync(t, dsn, "e2ehostile")
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()

	deep := strings.Repeat("(", 300) + "id = 1 OR title = 'hx25'" + strings.Repeat(")", 300)
	deepNot := strings.Repeat("NOT ", 1500) + "title = 'hx26'"
	hostile := []string{
		"1=1; DROP TABLE h_items; SELECT 'hx01'",
		"id = 1; SELECT pg_sleep(5) -- hx02",
		"pg_sleep(5) IS NULL AND title = 'hx03'",
		"id IN (SELECT id FROM h_items WHERE title = 'hx04')",
		"EXISTS (SELECT 1 FROM pg_class WHERE relname = 'hx05')",
		"nextval('h_seq') > 0 OR title = 'hx06'",
		"set_config('hx.x', 'hx07', false) = 'hx07'",
		"pg_terminate_backend(1) AND title = 'hx08'",
		"lo_import('/etc/passwd') > 0 OR title = 'hx09'",
		"title = 'hx10' /* DROP TABLE h_items */",
		"title = 'hx11' -- ' OR 1=1",
		"title = 'hx12'' OR ''1''=''1' OR (SELECT true)",
		"title = (SELECT 'hx13')",
		"now() > '2020-01-01' AND title = 'hx14'",
		"random() < 2 AND title = 'hx15'",
		"txid_current() > 0 AND title = 'hx16'",
		"title = 'hx17' UNION SELECT 1",
		"title = 'hx18' ORDER BY 1",
		"CASE WHEN title = 'hx19' THEN true END",
		"count(*) > 0 AND title = 'hx20'",
		"title = current_setting('hx21')",
		"title = 'hx22'\x00 OR true",
		"dblink_exec('hx23') = 'x'",
		"(title = 'hx24') = (SELECT true FROM h_items LIMIT 1)",
		deep,
		deepNot,
	}
	for i, w := range hostile {
		start := time.Now()
		status, hdr, body := shapeGET(ctx, t, base, url.Values{"table": {"h_items"}, "offset": {"-1"}, "where": {w}})
		var got struct {
			Errors map[string][]string `json:"errors"`
		}
		if status != http.StatusBadRequest || json.Unmarshal(body, &got) != nil || len(got.Errors["where"]) != 1 ||
			!strings.HasPrefix(got.Errors["where"][0], "At location ") {
			t.Errorf("clause %d (%.60q): %d %.300s, want 400 with one errors.where message", i, w, status, body)
		}
		if hdr.Get("electric-handle") != "" {
			t.Errorf("clause %d: a 400 carries a handle", i)
		}
		if d := time.Since(start); d > 4*time.Second {
			t.Errorf("clause %d took %s", i, d)
		}
	}

	// Literals that merely contain SQL are valid clauses, and match exactly
	// the text they spell.
	execSQL(t, dsn, `INSERT INTO h_items VALUES (3, 'x'' OR ''1''=''1'), (4, 'y; DROP TABLE h_items')`)
	for _, c := range []struct {
		where string
		want  int
	}{
		{"title = 'x'' OR ''1''=''1'", 1},
		{"title = 'y; DROP TABLE h_items'", 1},
		{"title = $$x' OR '1'='1$$", 1},
		{`title = E'\x61'`, 1}, // an E'' string: 'a' by value
	} {
		status, _, body := shapeGET(ctx, t, base, url.Values{"table": {"h_items"}, "offset": {"-1"}, "where": {c.where}})
		if status == http.StatusBadRequest && strings.HasPrefix(c.where, "title = E'") {
			continue // rejecting E'' escapes is allowed; accepting them must be exact
		}
		if status != http.StatusOK {
			t.Errorf("%q: status %d %s", c.where, status, body)
			continue
		}
		var msgs []wireMessage
		if err := json.Unmarshal(body, &msgs); err != nil {
			t.Fatalf("%q: %v", c.where, err)
		}
		n := 0
		for _, m := range msgs {
			if m.Headers.Operation != "" {
				n++
			}
		}
		if n != c.want {
			t.Errorf("%q: %d rows, want %d: %s", c.where, n, c.want, body)
		}
	}

	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close(context.Background()) }()
	var called bool
	if err := conn.QueryRow(ctx, "SELECT is_called FROM h_seq").Scan(&called); err != nil || called {
		t.Errorf("h_seq was advanced (is_called %v, err %v)", called, err)
	}
	if n := countRows(ctx, t, dsn, "h_items"); n != 4 {
		t.Errorf("h_items has %d rows, want 4", n)
	}
	// A clause too long for a URL (RELIABILITY F1: 8 KB) is a 414 from the
	// server before anything parses it.
	long := "id IN (" + strings.Repeat("1, ", 3000) + "1) AND title = 'hx27'"
	status, _, body := shapeGET(ctx, t, base, url.Values{"table": {"h_items"}, "offset": {"-1"}, "where": {long}})
	if status != http.StatusRequestURITooLong {
		t.Errorf("a 9 KB where clause: %d %.200s, want 414", status, body)
	}
	// One that fits is served.
	fits := "id IN (" + strings.Repeat("1, ", 1200) + "2)" // 6 KB once URL-encoded
	if status, _, body := shapeGET(ctx, t, base, url.Values{"table": {"h_items"}, "offset": {"-1"}, "where": {fits}}); status != http.StatusOK {
		t.Errorf("a 6 KB where clause: %d %.200s, want 200", status, body)
	}

	serverLog := cluster.ServerLog()
	if !strings.Contains(serverLog, "statement:") {
		t.Fatalf("the server log holds no statements; log_statement=all did not apply:\n%.2000s", serverLog)
	}
	for i := 1; i <= 27; i++ {
		if marker := fmt.Sprintf("hx%02d", i); strings.Contains(serverLog, marker) {
			at := strings.Index(serverLog, marker)
			t.Errorf("marker %s of a hostile clause reached Postgres: …%s…", marker, serverLog[max(0, at-300):min(len(serverLog), at+100)])
		}
	}
}
