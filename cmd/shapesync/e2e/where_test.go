package e2e_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/shapesync/shapesync/replication/pgcluster"
	"github.com/shapesync/shapesync/replication/pgcluster/pgtest"
)

const whereTablesSQL = `
	CREATE TABLE w_items (id int8 PRIMARY KEY, n int4, title text NOT NULL);
	INSERT INTO w_items VALUES (1, 1, 'a'), (2, 6, 'b'), (3, 7, 'c'), (4, 10, 'd'), (9, NULL, 'z')`

// TestWhere checks the where and params[n] shape parameters against the real
// service and Postgres (SHAPE_API §5.5, §6.1, §12.3, §20): the snapshot holds
// exactly the matching rows; inserts outside the shape are dropped; updates
// moving a row in or out become an insert or a delete; parameters are bound
// and part of the shape's identity; hostile or invalid clauses are a 400
// under errors.where and never reach Postgres.
func TestWhere(t *testing.T) {
	cluster := pgtest.Start(t, pgcluster.Options{})
	dsn := cluster.DSN("postgres")
	execSQL(t, dsn, whereTablesSQL)

	base := startShapesync(t, dsn, "e2ewhere")
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()

	t.Run("invalid clauses are 400 and run nothing", func(t *testing.T) {
		cases := []struct{ where, wantIn string }{
			{"1=1; DROP TABLE w_items", "At location "},
			{"pg_sleep(1) IS NULL", "At location "},
			{"id IN (SELECT 1)", "At location "},
			{"id = 1 -- DROP TABLE w_items", "At location "},
			{"id = 1 /* c */", "At location "},
			{"nope > 1", "unknown reference"},
		}
		for _, c := range cases {
			start := time.Now()
			status, hdr, body := shapeGET(ctx, t, base, url.Values{"table": {"w_items"}, "offset": {"-1"}, "where": {c.where}})
			var got struct {
				Message string              `json:"message"`
				Errors  map[string][]string `json:"errors"`
			}
			if status != http.StatusBadRequest || json.Unmarshal(body, &got) != nil || got.Message != "Invalid request" ||
				len(got.Errors) != 1 || len(got.Errors["where"]) != 1 ||
				!strings.HasPrefix(got.Errors["where"][0], "At location ") || !strings.Contains(got.Errors["where"][0], c.wantIn) {
				t.Errorf("where=%s: %d %s, want 400 with errors.where containing %q", c.where, status, body, c.wantIn)
			}
			if hdr.Get("electric-handle") != "" {
				t.Errorf("where=%s: a 400 carries handle %s", c.where, hdr.Get("electric-handle"))
			}
			if d := time.Since(start); c.where == "pg_sleep(1) IS NULL" && d >= time.Second {
				t.Errorf("where=%s took %s: the clause reached Postgres", c.where, d)
			}
		}
		if n := countRows(ctx, t, dsn, "w_items"); n != 5 {
			t.Errorf("w_items has %d rows after the hostile requests, want 5", n)
		}
	})

	t.Run("params validation", func(t *testing.T) {
		status, _, body := shapeGET(ctx, t, base, url.Values{"table": {"w_items"}, "offset": {"-1"}, "where": {"id = $1"}, "params[2]": {"3"}})
		want := `{"message":"Invalid request","errors":{"params":["Parameters must be numbered sequentially, starting from 1"]}}`
		if status != http.StatusBadRequest || string(body) != want {
			t.Errorf("params[2] alone: %d %s, want 400 %s", status, body, want)
		}
	})

	gt5 := newColumnsFollower(base, url.Values{"table": {"w_items"}, "where": {"n > 5"}})
	id3 := newColumnsFollower(base, url.Values{"table": {"w_items"}, "where": {"id = $1"}, "params[1]": {"3"}})
	id4 := newColumnsFollower(base, url.Values{"table": {"w_items"}, "where": {"id = $1"}, "params[1]": {"4"}})
	whole := newColumnsFollower(base, url.Values{"table": {"w_items"}})
	for _, f := range []*columnsFollower{gt5, id3, id4, whole} {
		f.catchUp(ctx, t)
	}
	key := func(id string) string { return `"public"."w_items"/"` + id + `"` }

	t.Run("snapshot", func(t *testing.T) {
		wantKeys(t, "n > 5", gt5.snapshot, key("2"), key("3"), key("4"))
		wantKeys(t, "id = $1 (3)", id3.snapshot, key("3"))
		wantKeys(t, "id = $1 (4)", id4.snapshot, key("4"))
		wantKeys(t, "whole table", whole.snapshot, key("1"), key("2"), key("3"), key("4"), key("9"))
	})

	t.Run("identity", func(t *testing.T) {
		if id3.handle == id4.handle {
			t.Errorf("params[1]=3 and params[1]=4 share handle %s", id3.handle)
		}
		for name, f := range map[string]*columnsFollower{"n > 5": gt5, "id = $1": id3} {
			if f.handle == whole.handle {
				t.Errorf("where=%s shares handle %s with the whole table", name, f.handle)
			}
		}
		same := newColumnsFollower(base, url.Values{"table": {"w_items"}, "where": {"id = $1"}, "params[1]": {"3"}})
		same.catchUp(ctx, t)
		if same.handle != id3.handle {
			t.Errorf("the same where and params gave handle %s, first %s", same.handle, id3.handle)
		}
	})

	// One transaction each; the last inserts a row every shape under test
	// but id = $1 receives, so once it arrives every earlier change has too.
	for _, stmt := range []string{
		`INSERT INTO w_items VALUES (5, 8, 'e')`,                // matches n > 5: insert
		`INSERT INTO w_items VALUES (6, 1, 'f')`,                // outside: nothing
		`UPDATE w_items SET n = 9 WHERE id = 1`,                 // moves in: insert
		`UPDATE w_items SET n = 2 WHERE id = 2`,                 // moves out: delete
		`UPDATE w_items SET title = 'cc' WHERE id = 3`,          // stays in: update
		`UPDATE w_items SET title = 'zz' WHERE id = 9`,          // NULL n stays out: nothing
		`UPDATE w_items SET n = NULL, title = 'x' WHERE id = 6`, // stays out: nothing
		`INSERT INTO w_items VALUES (7, 100, 'last')`,
	} {
		execSQL(t, dsn, stmt)
	}
	has := func(k string) func([]wireMessage) bool {
		return func(cs []wireMessage) bool {
			return slices.ContainsFunc(cs, func(m wireMessage) bool { return m.Key == k })
		}
	}

	t.Run("changes of n > 5", func(t *testing.T) {
		got := gt5.changesUntil(ctx, t, has(key("7")))
		wantChanges(t, got, []wantChange{
			{"insert", key("5"), row{"id": "5", "n": "8", "title": "e"}, nil},
			{"insert", key("1"), row{"id": "1", "n": "9", "title": "a"}, nil},
			{"delete", key("2"), row{"id": "2"}, nil},
			{"update", key("3"), row{"id": "3", "title": "cc"}, nil},
			{"insert", key("7"), row{"id": "7", "n": "100", "title": "last"}, nil},
		})
	})
	t.Run("changes of id = $1", func(t *testing.T) {
		got := id3.changesUntil(ctx, t, has(key("3")))
		wantChanges(t, got, []wantChange{{"update", key("3"), row{"id": "3", "title": "cc"}, nil}})
	})
}

func wantKeys(t *testing.T, what string, rows []wireMessage, keys ...string) {
	t.Helper()
	got := make([]string, 0, len(rows))
	for _, r := range rows {
		got = append(got, r.Key)
	}
	slices.Sort(got)
	slices.Sort(keys)
	if !slices.Equal(got, keys) {
		t.Errorf("%s: snapshot rows %v, want %v", what, got, keys)
	}
}

func countRows(ctx context.Context, t *testing.T, dsn, table string) int {
	t.Helper()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close(context.Background()) }()
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM "+pgx.Identifier{table}.Sanitize()).Scan(&n); err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return n
}
