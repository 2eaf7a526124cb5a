package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/shapesync/shapesync/replication/pgcluster"
	"github.com/shapesync/shapesync/replication/pgcluster/pgtest"
)

// The tables of TestColumnsAndReplica: one with a primary key and columns
// outside every projection, one without a primary key.
const columnsTablesSQL = `
	CREATE TABLE col_items (id int8 PRIMARY KEY, title text NOT NULL, n int4, body text);
	INSERT INTO col_items VALUES (1, 'one', 10, 'b1'), (2, 'two', 20, 'b2'), (3, 'three', NULL, 'b3');
	CREATE TABLE col_nopk (a int4, b text)`

// TestColumnsAndReplica checks the columns and replica shape parameters
// against the real service and Postgres (SHAPE_API §5.3, §6.1, §12.3, §13):
// projections in snapshot rows, changes and electric-schema; updates outside
// the projection producing nothing; what replica=default and replica=full
// updates and deletes carry; the column validation errors; and column order
// not changing the shape.
func TestColumnsAndReplica(t *testing.T) {
	cluster := pgtest.Start(t, pgcluster.Options{})
	dsn := cluster.DSN("postgres")
	execSQL(t, dsn, columnsTablesSQL)

	base := startShapesync(t, dsn, "e2ecols")
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()

	t.Run("validation", func(t *testing.T) {
		cases := []struct{ table, columns, want string }{
			{"col_items", "title", "The list of columns must include all primary key columns, missing: id"},
			{"col_items", "id,nope", "The following columns are not found on the table: nope"},
			{"col_items", `"id","Title"`, "The following columns are not found on the table: Title"},
			{"col_items", "title,nope", "The list of columns must include all primary key columns, missing: id"},
			{"col_nopk", "a", "The list of columns must include all primary key columns, missing: b"},
			{"col_items", "id,", "Invalid zero-length delimited identifier"},
		}
		for _, c := range cases {
			status, _, body := shapeGET(ctx, t, base, url.Values{"table": {c.table}, "offset": {"-1"}, "columns": {c.columns}})
			want := fmt.Sprintf(`{"message":"Invalid request","errors":{"columns":[%q]}}`, c.want)
			if status != http.StatusBadRequest || string(body) != want {
				t.Errorf("columns=%s on %s: %d %s, want 400 %s", c.columns, c.table, status, body, want)
			}
		}
	})

	// The shapes under test, all created before any change is made.
	projected := newColumnsFollower(base, url.Values{"table": {"col_items"}, "columns": {"id,title"}})
	full := newColumnsFollower(base, url.Values{"table": {"col_items"}, "columns": {`"title","n","id"`}, "replica": {"full"}})
	whole := newColumnsFollower(base, url.Values{"table": {"col_items"}})
	nopk := newColumnsFollower(base, url.Values{"table": {"col_nopk"}, "columns": {"b,a"}})
	for _, f := range []*columnsFollower{projected, full, whole, nopk} {
		f.catchUp(ctx, t)
	}

	t.Run("snapshot", func(t *testing.T) {
		wantRows(t, "columns=id,title", projected.snapshot, []string{"id", "title"}, 3)
		wantRows(t, "columns=title,n,id&replica=full", full.snapshot, []string{"id", "n", "title"}, 3)
		wantRows(t, "whole table", whole.snapshot, []string{"body", "id", "n", "title"}, 3)
		wantSchemaColumns(t, "columns=id,title", projected.schema, []string{"id", "title"})
		wantSchemaColumns(t, "columns=title,n,id", full.schema, []string{"id", "n", "title"})
		wantSchemaColumns(t, "whole table", whole.schema, []string{"body", "id", "n", "title"})
		wantSchemaColumns(t, "col_nopk columns=b,a", nopk.schema, []string{"a", "b"})
	})

	t.Run("identity", func(t *testing.T) {
		same := newColumnsFollower(base, url.Values{"table": {"col_items"}, "columns": {`"title",id,TITLE`}})
		same.catchUp(ctx, t)
		if same.handle != projected.handle {
			t.Errorf("columns=\"title\",id,TITLE has handle %s, columns=id,title has %s", same.handle, projected.handle)
		}
		for name, other := range map[string]*columnsFollower{"whole table": whole, "replica=full": full} {
			if other.handle == projected.handle {
				t.Errorf("%s shares handle %s with columns=id,title", name, projected.handle)
			}
		}
		defaultReplica := newColumnsFollower(base, url.Values{"table": {"col_items"}, "replica": {"default"}})
		defaultReplica.catchUp(ctx, t)
		if defaultReplica.handle != whole.handle {
			t.Errorf("replica=default has handle %s, the whole-table shape %s", defaultReplica.handle, whole.handle)
		}
	})

	// One transaction each, in this order. The first touches only body,
	// which neither projection holds; the last is an insert every shape
	// receives, so once it arrives every earlier change has too.
	for _, stmt := range []string{
		`UPDATE col_items SET body = 'b1 changed' WHERE id = 1`,
		`UPDATE col_items SET title = 'one changed' WHERE id = 1`,
		`DELETE FROM col_items WHERE id = 2`,
		`INSERT INTO col_items VALUES (4, 'four', 40, 'b4')`,
		`INSERT INTO col_nopk VALUES (1, 'x')`,
	} {
		execSQL(t, dsn, stmt)
	}
	key := func(id string) string { return `"public"."col_items"/"` + id + `"` }
	lastInsert := func(cs []wireMessage) bool {
		return slices.ContainsFunc(cs, func(m wireMessage) bool { return m.Key == key("4") })
	}

	t.Run("columns, replica=default", func(t *testing.T) {
		got := projected.changesUntil(ctx, t, lastInsert)
		wantChanges(t, got, []wantChange{
			{"update", key("1"), row{"id": "1", "title": "one changed"}, nil},
			{"delete", key("2"), row{"id": "2"}, nil},
			{"insert", key("4"), row{"id": "4", "title": "four"}, nil},
		})
	})
	t.Run("columns, replica=full", func(t *testing.T) {
		got := full.changesUntil(ctx, t, lastInsert)
		wantChanges(t, got, []wantChange{
			{"update", key("1"), row{"id": "1", "title": "one changed", "n": "10"}, row{"title": "one"}},
			{"delete", key("2"), row{"id": "2", "title": "two", "n": "20"}, nil},
			{"insert", key("4"), row{"id": "4", "title": "four", "n": "40"}, nil},
		})
	})
	t.Run("whole table, replica=default", func(t *testing.T) {
		got := whole.changesUntil(ctx, t, lastInsert)
		wantChanges(t, got, []wantChange{
			{"update", key("1"), row{"id": "1", "body": "b1 changed"}, nil},
			{"update", key("1"), row{"id": "1", "title": "one changed"}, nil},
			{"delete", key("2"), row{"id": "2"}, nil},
			{"insert", key("4"), row{"id": "4", "title": "four", "n": "40", "body": "b4"}, nil},
		})
	})
	t.Run("no primary key", func(t *testing.T) {
		got := nopk.changesUntil(ctx, t, func(cs []wireMessage) bool { return len(cs) > 0 })
		wantChanges(t, got, []wantChange{
			{"insert", `"public"."col_nopk"/"1"/"x"`, row{"a": "1", "b": "x"}, nil},
		})
	})
}

// row is an expected value: column → text (the tests use no NULLs).
type row map[string]string

type wantChange struct {
	op, key       string
	value, oldVal row
}

type wireMessage struct {
	Key      string             `json:"key"`
	Value    map[string]*string `json:"value"`
	OldValue map[string]*string `json:"old_value"`
	Headers  struct {
		Operation string `json:"operation"`
		Control   string `json:"control"`
		LSN       string `json:"lsn"`
	} `json:"headers"`
}

// columnsFollower follows one shape with plain GETs, keeping the raw
// messages: the oracle materialises rows and would hide what each message
// carries.
type columnsFollower struct {
	base                   string
	params                 url.Values
	handle, offset, cursor string
	upToDate               bool
	schema                 string
	snapshot, changes      []wireMessage
}

func newColumnsFollower(base string, params url.Values) *columnsFollower {
	return &columnsFollower{base: base, params: params, offset: "-1"}
}

// poll sends one request (live once up to date) and records its messages.
func (f *columnsFollower) poll(ctx context.Context, t *testing.T) {
	t.Helper()
	q := url.Values{"offset": {f.offset}}
	for k, v := range f.params {
		q[k] = v
	}
	if f.offset != "-1" {
		q.Set("handle", f.handle)
	}
	if f.upToDate {
		q.Set("live", "true")
		q.Set("cursor", f.cursor)
	}
	status, hdr, body := shapeGET(ctx, t, f.base, q)
	if status != http.StatusOK {
		t.Fatalf("GET %s: status %d: %s", q.Encode(), status, body)
	}
	if h := hdr.Get("electric-handle"); f.handle != "" && h != f.handle {
		t.Fatalf("GET %s: handle changed from %s to %s", q.Encode(), f.handle, h)
	}
	f.handle, f.offset = hdr.Get("electric-handle"), hdr.Get("electric-offset")
	if c := hdr.Get("electric-cursor"); c != "" {
		f.cursor = c
	}
	if s := hdr.Get("electric-schema"); s != "" && f.schema == "" {
		f.schema = s
	}
	var msgs []wireMessage
	if len(body) > 0 {
		if err := json.Unmarshal(body, &msgs); err != nil {
			t.Fatalf("GET %s: body is not a JSON array of messages: %v: %s", q.Encode(), err, body)
		}
	}
	f.upToDate = false
	for _, m := range msgs {
		switch {
		case m.Headers.Control == "up-to-date":
			f.upToDate = true
		case m.Headers.Control != "":
		case m.Headers.LSN == "":
			f.snapshot = append(f.snapshot, m)
		default:
			f.changes = append(f.changes, m)
		}
	}
}

// catchUp polls until the shape is up to date.
func (f *columnsFollower) catchUp(ctx context.Context, t *testing.T) {
	t.Helper()
	for !f.upToDate {
		f.poll(ctx, t)
	}
}

// changesUntil long-polls until done holds for the changes received.
func (f *columnsFollower) changesUntil(ctx context.Context, t *testing.T, done func([]wireMessage) bool) []wireMessage {
	t.Helper()
	for !done(f.changes) {
		if ctx.Err() != nil {
			t.Fatalf("changes not complete before the deadline; received %s", describe(f.changes))
		}
		f.poll(ctx, t)
	}
	return f.changes
}

func shapeGET(ctx context.Context, t *testing.T, base string, q url.Values) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/v1/shape?"+q.Encode(), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read %s: %v", req.URL, err)
	}
	return resp.StatusCode, resp.Header, body
}

func execSQL(t *testing.T, dsn, sql string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close(context.Background()) }()
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func wantRows(t *testing.T, what string, rows []wireMessage, cols []string, n int) {
	t.Helper()
	if len(rows) != n {
		t.Errorf("%s: %d snapshot rows, want %d: %s", what, len(rows), n, describe(rows))
	}
	for _, r := range rows {
		if got := sortedKeys(r.Value); !slices.Equal(got, cols) {
			t.Errorf("%s: snapshot row %s has columns %v, want %v", what, r.Key, got, cols)
		}
	}
}

func wantSchemaColumns(t *testing.T, what, schema string, cols []string) {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(schema), &m); err != nil {
		t.Errorf("%s: electric-schema %q: %v", what, schema, err)
		return
	}
	if got := sortedKeys(m); !slices.Equal(got, cols) {
		t.Errorf("%s: electric-schema lists %v, want %v: %s", what, got, cols, schema)
	}
}

func wantChanges(t *testing.T, got []wireMessage, want []wantChange) {
	t.Helper()
	ok := len(got) == len(want)
	for i := 0; ok && i < len(got); i++ {
		g, w := got[i], want[i]
		ok = g.Headers.Operation == w.op && g.Key == w.key && reflect.DeepEqual(texts(g.Value), w.value) && reflect.DeepEqual(texts(g.OldValue), w.oldVal)
	}
	if !ok {
		var w strings.Builder
		for _, c := range want {
			fmt.Fprintf(&w, "  %s %s value=%v old_value=%v\n", c.op, c.key, c.value, c.oldVal)
		}
		t.Errorf("changes:\n%swant:\n%s", describe(got), w.String())
	}
}

// texts flattens a value for comparison; nil for an absent object.
func texts(v map[string]*string) row {
	if v == nil {
		return nil
	}
	out := row{}
	for k, s := range v {
		if s == nil {
			out[k] = "<NULL>"
		} else {
			out[k] = *s
		}
	}
	return out
}

func describe(ms []wireMessage) string {
	var b strings.Builder
	for _, m := range ms {
		fmt.Fprintf(&b, "  %s %s value=%v old_value=%v\n", m.Headers.Operation, m.Key, texts(m.Value), texts(m.OldValue))
	}
	return b.String()
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
