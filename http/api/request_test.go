package api

import (
	"reflect"
	"strings"
	"testing"

	"github.com/shapesync/shapesync/replication/lsn"
	"github.com/valyala/fasthttp"
)

func parseQuery(raw string) (shapeRequest, *InvalidRequestError) {
	var args fasthttp.Args
	args.Parse(raw)
	return parseShapeRequest(queryOf(&args))
}

func TestParseShapeRequestAccepts(t *testing.T) {
	t.Parallel()
	items := ShapeDefinition{Schema: "public", Table: "items"}
	cases := []struct {
		name, query string
		want        shapeRequest
	}{
		{"ok - initial", "table=items&offset=-1", shapeRequest{def: items, offset: lsn.BeforeAll}},
		{"ok - -1_0 is -1 and handle is ignored", "table=items&offset=-1_0&handle=H", shapeRequest{def: items, offset: lsn.BeforeAll}},
		{"ok - now ignores handle", "table=items&offset=now&handle=H", shapeRequest{def: items, now: true}},
		{"ok - catch-up", "table=items&offset=0_0&handle=H", shapeRequest{def: items, offset: lsn.LogOffset{}, handle: "H"}},
		{"ok - live with cursor", "table=items&offset=0_inf&handle=H&live=true&cursor=42", shapeRequest{def: items, offset: lsn.SnapshotEnd, handle: "H", live: true, cursor: "42"}},
		{"ok - bare live is true", "table=items&offset=5_2&handle=H&live", shapeRequest{def: items, offset: lsn.LogOffset{Tx: 5, Op: 2}, handle: "H", live: true}},
		{"ok - live=banana is true", "table=items&offset=5_2&handle=H&live=banana", shapeRequest{def: items, offset: lsn.LogOffset{Tx: 5, Op: 2}, handle: "H", live: true}},
		{"ok - live=false is false", "table=items&offset=-1&live=false", shapeRequest{def: items, offset: lsn.BeforeAll}},
		{"ok - live_sse=false without live", "table=items&offset=-1&live_sse=false&experimental_live_sse=true", shapeRequest{def: items, offset: lsn.BeforeAll}},
		{"ok - unknown and client params ignored", "table=items&offset=-1&log=full&replica=default&cache-buster=x&expired_handle=E&foo=bar&experimental_compaction=true", shapeRequest{def: items, offset: lsn.BeforeAll}},
		{"ok - blank params are absent", "table=items&offset=-1&where=&columns=%20&replica=&log=&params=&subset__where=&handle=", shapeRequest{def: items, offset: lsn.BeforeAll}},
		{"ok - bracket params without where are ignored", "table=items&offset=-1&params[1]=a&params[x]=b", shapeRequest{def: items, offset: lsn.BeforeAll}},
		{"ok - where without params", "table=items&offset=-1&where=n%20%3E%205", shapeRequest{def: ShapeDefinition{Schema: "public", Table: "items", Where: "n > 5"}, offset: lsn.BeforeAll}},
		{"ok - where with params in order", "table=items&offset=-1&where=id%3D%242%20or%20id%3D%241&params%5B2%5D=b&params[1]=", shapeRequest{def: ShapeDefinition{Schema: "public", Table: "items", Where: "id=$2 or id=$1", Params: []string{"", "b"}}, offset: lsn.BeforeAll}},
		{"ok - last repeated value wins", "table=other&offset=0_0&table=items&offset=-1", shapeRequest{def: items, offset: lsn.BeforeAll}},
		{"ok - quoted schema and table", "table=%22My%22.%22T%22&offset=-1", shapeRequest{def: ShapeDefinition{Schema: "My", Table: "T"}, offset: lsn.BeforeAll}},
		{"ok - empty cursor kept", "table=items&offset=1_0&handle=H&live=true&cursor=", shapeRequest{def: items, offset: lsn.LogOffset{Tx: 1}, handle: "H", live: true}},
		{"ok - replica=full", "table=items&offset=-1&replica=full", shapeRequest{def: ShapeDefinition{Schema: "public", Table: "items", Replica: ReplicaFull}, offset: lsn.BeforeAll}},
		{"ok - replica=default", "table=items&offset=-1&replica=default", shapeRequest{def: items, offset: lsn.BeforeAll}},
		{"ok - columns", "table=items&offset=-1&columns=id,title", shapeRequest{def: withColumns(items, "id", "title"), offset: lsn.BeforeAll}},
		{"ok - columns keep order and duplicates", "table=items&offset=-1&columns=title,id,title", shapeRequest{def: withColumns(items, "title", "id", "title"), offset: lsn.BeforeAll}},
		{"ok - unquoted columns are lower-cased", "table=items&offset=-1&columns=ID,Title", shapeRequest{def: withColumns(items, "id", "title"), offset: lsn.BeforeAll}},
		{"ok - quoted columns as the client sends them", "table=items&offset=-1&columns=%22id%22,%22Has,Comma%22,%22has%22%22quote%22,%22with%20space%22",
			shapeRequest{def: withColumns(items, "id", "Has,Comma", `has"quote`, "with space"), offset: lsn.BeforeAll}},
		{"ok - columns and replica", "table=items&offset=-1&columns=id&replica=full", shapeRequest{def: ShapeDefinition{Schema: "public", Table: "items", Columns: []string{"id"}, Replica: ReplicaFull}, offset: lsn.BeforeAll}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseQuery(c.query)
			if err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("got %+v, want %+v", got, c.want)
			}
		})
	}
}

func withColumns(def ShapeDefinition, cols ...string) ShapeDefinition {
	def.Columns = cols
	return def
}

func TestParseShapeRequestRejects(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, query string
		want        map[string][]string
	}{
		{"error - offset missing", "table=items", map[string][]string{"offset": {"can't be blank"}}},
		{"error - offset blank", "table=items&offset=%20", map[string][]string{"offset": {"can't be blank"}}},
		{"error - offset garbage", "table=items&offset=abc", map[string][]string{"offset": {"has invalid format"}}},
		{"error - offset negative part", "table=items&offset=0_-1&handle=H", map[string][]string{"offset": {"has invalid format"}}},
		{"error - offset -2", "table=items&offset=-2", map[string][]string{"offset": {"has invalid format"}}},
		{"error - offset 30 digits", "table=items&offset=123456789012345678901234567890_0&handle=H", map[string][]string{"offset": {"has invalid format"}}},
		{"error - offset whitespace", "table=items&offset=%200_0&handle=H", map[string][]string{"offset": {"has invalid format"}}},
		{"error - offset fraction", "table=items&offset=1.5_0&handle=H", map[string][]string{"offset": {"has invalid format"}}},
		{"error - offset extra segment", "table=items&offset=1_2_3&handle=H", map[string][]string{"offset": {"has invalid format"}}},
		{"error - step 1 errors together", "table=items&offset=x&replica=half&log=some&params=p", map[string][]string{
			"offset": {"has invalid format"}, "replica": {"is invalid"}, "log": {"is invalid"}, "params": {"is invalid"}}},
		{"error - step 1 before handle", "table=items&offset=0_0&replica=bad", map[string][]string{"replica": {"is invalid"}}},
		{"error - handle missing", "table=items&offset=0_0", map[string][]string{"handle": {"can't be blank when offset != -1"}}},
		{"error - handle blank", "table=items&offset=0_inf&handle=%20%20", map[string][]string{"handle": {"can't be blank when offset != -1"}}},
		{"error - handle before live", "table=items&offset=0_0&live=true", map[string][]string{"handle": {"can't be blank when offset != -1"}}},
		{"error - live with -1", "table=items&offset=-1&live=true", map[string][]string{"live": {"can't be true when offset == -1"}}},
		{"error - bare live with -1", "table=items&offset=-1&live", map[string][]string{"live": {"can't be true when offset == -1"}}},
		{"error - live with now", "table=items&offset=now&live=yes", map[string][]string{"live": {"can't be true when offset is 'now'"}}},
		{"error - live_sse without live", "table=items&offset=-1&live_sse=true", map[string][]string{"live_sse": {"can't be true unless live is also true"}}},
		{"error - experimental_live_sse without live", "table=items&offset=-1&experimental_live_sse", map[string][]string{"live_sse": {"can't be true unless live is also true"}}},
		{"error - live before table", "offset=-1&live=true", map[string][]string{"live": {"can't be true when offset == -1"}}},
		{"error - table missing", "offset=-1", map[string][]string{"table": {"can't be blank"}}},
		{"error - table blank", "offset=-1&table=%20", map[string][]string{"table": {"can't be blank"}}},
		{"error - table too many parts", "offset=-1&table=a.b.c", map[string][]string{"table": {"Invalid relation identifier, too many delimiters: a.b.c"}}},
		{"error - table special chars", "offset=-1&table=my-t", map[string][]string{"table": {"Invalid unquoted identifier contains special characters: my-t"}}},
		{"error - table unescaped quote", "offset=-1&table=%22a%22b%22", map[string][]string{"table": {`Invalid identifier with unescaped quote: a"b`}}},
		{"error - table zero length", "offset=-1&table=%22%22", map[string][]string{"table": {"Invalid zero-length delimited identifier"}}},
		{"error - table too long", "offset=-1&table=" + strings.Repeat("x", 64), map[string][]string{"table": {"Identifier is too long (max length is 63)"}}},
		{"error - table with NUL", "offset=-1&table=%22a%00%22", map[string][]string{"table": {`Invalid identifier contains a NUL byte or invalid UTF-8: a\0`}}},
		{"not yet - log=changes_only", "table=items&offset=-1&log=changes_only", map[string][]string{"log": {"not supported yet"}}},
		{"not yet - live_sse", "table=items&offset=0_inf&handle=H&live=true&live_sse=true", map[string][]string{"live_sse": {"not supported yet"}}},
		{"not yet - experimental_live_sse", "table=items&offset=0_inf&handle=H&live=true&experimental_live_sse=true", map[string][]string{"live_sse": {"not supported yet"}}},
		{"error - params key not a number", "table=items&offset=-1&where=id%3D%241&params[x]=1", map[string][]string{"params": {"Parameters can only use numbers as keys"}}},
		{"error - params key negative", "table=items&offset=-1&where=id%3D%241&params[-1]=1", map[string][]string{"params": {"Parameters can only use numbers as keys"}}},
		{"error - params key empty", "table=items&offset=-1&where=id%3D%241&params[]=1", map[string][]string{"params": {"Parameters can only use numbers as keys"}}},
		{"error - params key huge", "table=items&offset=-1&where=id%3D%241&params[99999999999999999999999]=1", map[string][]string{"params": {"Parameters can only use numbers as keys"}}},
		{"error - params gap", "table=items&offset=-1&where=id%3D%241&params[1]=1&params[3]=3", map[string][]string{"params": {"Parameters must be numbered sequentially, starting from 1"}}},
		{"error - params from 0", "table=items&offset=-1&where=id%3D%241&params[0]=1", map[string][]string{"params": {"Parameters must be numbered sequentially, starting from 1"}}},
		{"error - params plain string with where", "table=items&offset=-1&where=id%3D%241&params=1", map[string][]string{"params": {"is invalid"}}},
		{"error - params with offset errors together", "table=items&offset=x&where=id%3D%241&params[2]=1", map[string][]string{"offset": {"has invalid format"}, "params": {"Parameters must be numbered sequentially, starting from 1"}}},
		{"error - columns trailing comma", "table=items&offset=-1&columns=id,", map[string][]string{"columns": {"Invalid zero-length delimited identifier"}}},
		{"error - columns leading comma", "table=items&offset=-1&columns=,id", map[string][]string{"columns": {"Invalid zero-length delimited identifier"}}},
		{"error - columns empty element", "table=items&offset=-1&columns=id,,title", map[string][]string{"columns": {"Invalid zero-length delimited identifier"}}},
		{"error - columns empty quoted", "table=items&offset=-1&columns=id,%22%22", map[string][]string{"columns": {"Invalid zero-length delimited identifier"}}},
		{"error - columns special chars", "table=items&offset=-1&columns=id,my-col", map[string][]string{"columns": {"Invalid unquoted identifier contains special characters: my-col"}}},
		{"error - columns space after comma", "table=items&offset=-1&columns=id,%20title", map[string][]string{"columns": {"Invalid unquoted identifier contains special characters:  title"}}},
		{"error - columns unescaped quote", "table=items&offset=-1&columns=%22a%22b%22", map[string][]string{"columns": {`Invalid identifier with unescaped quote: a"b`}}},
		{"error - columns unbalanced quote", "table=items&offset=-1&columns=id,%22title", map[string][]string{"columns": {`Invalid unquoted identifier contains special characters: id,"title`}}},
		{"error - columns too long", "table=items&offset=-1&columns=id," + strings.Repeat("c", 64), map[string][]string{"columns": {"Identifier is too long (max length is 63)"}}},
		{"error - table before columns", "offset=-1&columns=,", map[string][]string{"table": {"can't be blank"}}},
		{"error - live before columns", "table=items&offset=-1&live&columns=,", map[string][]string{"live": {"can't be true when offset == -1"}}},
		{"error - columns before where", "table=items&offset=-1&columns=id,&where=id%3D1", map[string][]string{"columns": {"Invalid zero-length delimited identifier"}}},
		{"not yet - subset", "table=items&offset=-1&subset__limit=10&subset__where=x", map[string][]string{"subset__limit": {"not supported yet"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, err := parseQuery(c.query)
			if err == nil {
				t.Fatal("accepted")
			}
			if !reflect.DeepEqual(err.Errors, c.want) {
				t.Fatalf("errors = %v, want %v", err.Errors, c.want)
			}
		})
	}
}

// knownFields are the only parameter names a 400 may name at this stage.
var knownFields = map[string]bool{"offset": true, "handle": true, "live": true, "live_sse": true, "table": true, "replica": true, "log": true, "params": true, "where": true, "columns": true}

func FuzzParseShapeRequest(f *testing.F) {
	for _, s := range []string{
		"table=items&offset=-1", "table=items&offset=0_inf&handle=H&live", "offset=now&table=a.b",
		"table=%22x%00%22&offset=1_2&handle=%ff", "live&live_sse&offset=-1_7", "subset__where=1&table=t&offset=-1",
		"table=t&offset=-1&columns=%22a,b%22,c&replica=full", "table=t&offset=-1&columns=a,,%22", "columns=%22%22%22,x&table=t&offset=now",
		"table=items&offset=18446744073709551615_inf&handle=h&cursor=-9", "&&=&offset=%zz", "params=1&params[1]=2",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		r, err := parseQuery(raw)
		if err != nil {
			if len(err.Errors) == 0 {
				t.Fatal("error without fields")
			}
			for field, msgs := range err.Errors {
				if !knownFields[field] && !strings.HasPrefix(field, "subset__") || len(msgs) == 0 {
					t.Fatalf("unexpected error field %q: %v", field, msgs)
				}
			}
			return
		}
		if r.def.Table == "" || r.def.Schema == "" {
			t.Fatalf("accepted without a table: %+v", r)
		}
		if r.def.Columns != nil && len(r.def.Columns) == 0 {
			t.Fatalf("accepted an empty column list: %+v", r)
		}
		for _, c := range r.def.Columns {
			if c == "" {
				t.Fatalf("accepted an empty column name: %+v", r)
			}
		}
		if r.def.Replica > ReplicaFull {
			t.Fatalf("accepted replica %d", r.def.Replica)
		}
		if !r.startsFresh() && strings.TrimSpace(r.handle) == "" {
			t.Fatalf("accepted offset %v without handle", r.offset)
		}
		if r.live && r.startsFresh() {
			t.Fatal("accepted live with -1/now")
		}
		if !r.now {
			if back, perr := lsn.ParseOffset(r.offset.String()); perr != nil || back != r.offset {
				t.Fatalf("offset %v does not round-trip", r.offset)
			}
		}
	})
}
