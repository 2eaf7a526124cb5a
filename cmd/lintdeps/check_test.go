package main

import (
	"slices"
	"strings"
	"testing"
)

const testModule = "example.com/p"

// testGraph builds a Graph from "importer: imp imp …" lines. "@x" is the
// project package x; names without a dot in the first element are
// standard library; anything else is third-party, its module the longest
// known prefix below.
func testGraph(t *testing.T, lines ...string) Graph {
	t.Helper()
	modules := []string{
		"github.com/asynkron/protoactor-go", "github.com/jackc/pgx/v5", "github.com/jackc/pglogrepl",
		"github.com/dgraph-io/badger/v4", "github.com/dgraph-io/badger/v5", "github.com/valyala/fasthttp",
		"github.com/pganalyze/pg_query_go/v6", "github.com/prometheus/client_golang", "go.uber.org/zap",
		"github.com/cockroachdb/apd/v3", "example.org/wrapper", "github.com/klauspost/compress",
	}
	expand := func(name string) string {
		if rest, ok := strings.CutPrefix(name, "@"); ok {
			if rest == "." {
				return testModule
			}
			return testModule + "/" + rest
		}
		return name
	}
	node := func(path string) Node {
		if path == testModule || strings.HasPrefix(path, testModule+"/") {
			return Node{Module: testModule}
		}
		first, _, _ := strings.Cut(path, "/")
		if !strings.Contains(first, ".") {
			return Node{Standard: true}
		}
		best := ""
		for _, m := range modules {
			if (path == m || strings.HasPrefix(path, m+"/")) && len(m) > len(best) {
				best = m
			}
		}
		if best == "" {
			t.Fatalf("testGraph: no module for %s", path)
		}
		return Node{Module: best}
	}
	g := Graph{}
	add := func(path string) {
		if _, ok := g[path]; !ok {
			g[path] = node(path)
		}
	}
	for _, line := range lines {
		from, imports, _ := strings.Cut(line, ":")
		src := expand(strings.TrimSpace(from))
		add(src)
		for _, imp := range strings.Fields(imports) {
			dst := expand(imp)
			add(dst)
			n := g[src]
			n.Imports = append(n.Imports, dst)
			g[src] = n
		}
	}
	return g
}

// summary renders violations as "chain" or "UNKNOWN pkg" for comparison.
func summary(vs []Violation) []string {
	var out []string
	for _, v := range vs {
		if v.Target == "" {
			out = append(out, "UNKNOWN "+v.Importer)
			continue
		}
		out = append(out, strings.Join(v.Chain, " -> "))
	}
	slices.Sort(out)
	return out
}

const (
	protoactor = "github.com/asynkron/protoactor-go/actor"
	prometheus = "github.com/prometheus/client_golang/prometheus"
	pgconn     = "github.com/jackc/pgx/v5/pgconn"
	pgxpool    = "github.com/jackc/pgx/v5/pgxpool"
	pglogrepl  = "github.com/jackc/pglogrepl"
	badger     = "github.com/dgraph-io/badger/v4"
	fasthttp   = "github.com/valyala/fasthttp"
	pgquery    = "github.com/pganalyze/pg_query_go/v6"
)

func TestCheck(t *testing.T) {
	t.Parallel()
	// The healthy shape of the tree, reused as a base by cases that add one
	// wrong import.
	clean := []string{
		"@replication/lsn: fmt strconv",
		"@replication/events: @replication/lsn fmt",
		"@actors: " + protoactor + " go.uber.org/zap",
		protoactor + ": " + prometheus + " sync",
		"@shapes/protocol: @replication/events @actors",
		"@telemetry/log: go.uber.org/zap",
		"@telemetry/metrics: " + prometheus,
		"@shapes/where: " + pgquery + " github.com/cockroachdb/apd/v3 @replication/events",
		"@shapes/filter: @shapes/where @shapes/shape",
		"@shapes/shape: @replication/lsn",
		"@replication/pgwire: " + pgconn,
		"@replication/decode: " + pglogrepl + " @replication/events",
		"@replication/stream: @replication/decode @replication/pgwire " + pglogrepl + " " + protoactor + " @shapes/protocol",
		"@shapes/storage: " + badger + " @shapes/protocol @telemetry/metrics",
		"@shapes/snapshot: " + pgxpool + " @shapes/protocol",
		"@supervisor/status: @shapes/protocol " + protoactor,
		"@http/api: @shapes/shape @telemetry/metrics " + fasthttp,
		"@http/server: @http/api " + fasthttp + " net/http",
		fasthttp + ": github.com/klauspost/compress",
		"@supervisor: @replication/stream @shapes/storage @supervisor/status @http/server " + protoactor,
		"@replication/pgcluster: " + pgconn + " @replication/lsn",
		"@replication/pgcluster/pgtest: @replication/pgcluster testing",
		"@chaos/proxy: @replication/pgcluster @shapes/storage",
		"@cmd/shapesync: @supervisor @replication/pgcluster @chaos/proxy",
	}
	for _, tc := range []struct {
		name  string
		extra []string
		want  []string
	}{
		{name: "ok - the healthy tree"},
		{name: "ok - packages of the table that do not exist are absent, not errors",
			extra: nil},
		{name: "error - layer 0 imports layer 2",
			extra: []string{"@replication/lsn: @shapes/registry", "@shapes/registry: " + protoactor},
			want:  []string{"replication/lsn -> shapes/registry"}},
		{name: "error - reported at the culprit only, not at what imports it",
			extra: []string{"@shapes/shape: @shapes/consumer", "@shapes/consumer: @shapes/protocol"},
			want:  []string{"shapes/shape -> shapes/consumer"}},
		{name: "error - layer 1 may not import actors (it reaches protoactor)",
			extra: []string{"@shapes/logitems: @actors"},
			want:  []string{"shapes/logitems -> actors"}},
		{name: "error - layer 1 may not import shapes/protocol",
			extra: []string{"@replication/flush: @shapes/protocol"},
			want:  []string{"replication/flush -> shapes/protocol"}},
		{name: "error - http reaches pgx transitively through a layer-1 package, once",
			extra: []string{"@http/api: @replication/pgwire"},
			want:  []string{"http/api -> replication/pgwire -> " + pgconn}},
		{name: "error - a second path of its own is still reported",
			extra: []string{"@http/api: @replication/pgwire", "@http/server: @replication/flush", "@replication/flush: " + pglogrepl},
			want: []string{
				"http/api -> replication/pgwire -> " + pgconn,
				"http/server -> replication/flush -> " + pglogrepl,
			}},
		{name: "error - http may not import layer 2, actors or shapes/protocol",
			extra: []string{"@http/api: @supervisor/status @actors", "@http/longpoll: @shapes/protocol"},
			want:  []string{"http/api -> actors", "http/api -> supervisor/status", "http/longpoll -> shapes/protocol"}},
		{name: "error - layer-2 packages never import one another",
			extra: []string{"@shapes/consumer: @shapes/storage", "@replication/collector: @replication/stream"},
			want:  []string{"replication/collector -> replication/stream", "shapes/consumer -> shapes/storage"}},
		{name: "error - only cmd imports supervisor exactly",
			extra: []string{"@chaos/scenario: @supervisor", "@telemetry/dashboard: @supervisor", "@http/admission: @supervisor"},
			want:  []string{"chaos/scenario -> supervisor", "http/admission -> supervisor", "telemetry/dashboard -> supervisor"}},
		{name: "ok - supervisor/status is layer 2, not supervisor",
			extra: []string{"@telemetry/dashboard: @supervisor/status @actors"}},
		{name: "error - layers 0-3 never import pgcluster, pgtest or chaos",
			extra: []string{"@replication/stream: @replication/pgcluster", "@supervisor: @chaos/proxy", "@http/api: @replication/pgcluster/pgtest"},
			want: []string{"http/api -> replication/pgcluster/pgtest", "replication/stream -> replication/pgcluster",
				"supervisor -> chaos/proxy"}},
		{name: "error - restricted modules only where allowed",
			extra: []string{
				"@telemetry/log: " + prometheus,
				"@actors: " + prometheus,
				"@shapes/registry: " + pgxpool,
				"@shapes/consumer: " + badger,
				"@shapes/filter: " + pgquery,
				"@supervisor: " + fasthttp,
				"@telemetry/dashboard: " + protoactor,
			},
			want: []string{
				"actors -> " + prometheus,
				"shapes/consumer -> " + badger,
				"shapes/filter -> " + pgquery,
				"shapes/registry -> " + pgxpool,
				"supervisor -> " + fasthttp,
				"telemetry/dashboard -> " + protoactor,
				"telemetry/log -> " + prometheus,
			}},
		{name: "ok - prometheus pulled in by protoactor is not the importer's own",
			extra: []string{"@shapes/evict: " + protoactor, "@telemetry/sampler: " + protoactor + " @telemetry/metrics"}},
		{name: "error - an unrestricted wrapper does not launder a restricted module",
			extra: []string{"@shapes/filter: example.org/wrapper", "example.org/wrapper: " + pgconn},
			want:  []string{"shapes/filter -> example.org/wrapper -> " + pgconn}},
		{name: "error - a transitive ban is reported at its root cause only",
			extra: []string{"@telemetry/metrics: " + protoactor, "@shapes/where: @telemetry/metrics"},
			// not again for shapes/where or the base tree's http/api, which
			// reach protoactor through metrics
			want: []string{"telemetry/metrics -> " + protoactor}},
		{name: "error - ... also when the root cause goes through a wrapper",
			extra: []string{"@telemetry/log: example.org/wrapper", "example.org/wrapper: " + badger, "@shapes/shape: @telemetry/log"},
			want:  []string{"telemetry/log -> example.org/wrapper -> " + badger}},
		{name: "error - chaos never reaches supervisor, even through cmd",
			extra: []string{"@cmd/shapesync/config: @supervisor", "@chaos/scenario: @cmd/shapesync/config"},
			want:  []string{"chaos/scenario -> cmd/shapesync/config -> supervisor"}},
		{name: "error - http never reaches badger even through a third-party module",
			extra: []string{"@http/server: example.org/wrapper", "example.org/wrapper: " + badger},
			want:  []string{"http/server -> example.org/wrapper -> " + badger}},
		{name: "error - a family matches any major version",
			extra: []string{"@shapes/consumer: github.com/dgraph-io/badger/v5"},
			want:  []string{"shapes/consumer -> github.com/dgraph-io/badger/v5"}},
		{name: "error - a project package outside the table",
			extra: []string{"@cmd/shapesync: @internal/util", "@internal/util: fmt", "@.: fmt"},
			want:  []string{"UNKNOWN .", "UNKNOWN internal/util"}},
		{name: "ok - deeper cmd and chaos packages match their subtree",
			extra: []string{"@cmd/shapesync/config: @supervisor", "@chaos/oracle/keys: @shapes/storage " + badger}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := testGraph(t, append(slices.Clone(clean), tc.extra...)...)
			vs, err := Check(g, Rules{Module: testModule, Table: layerTable(), Families: restrictedFamilies()})
			if err != nil {
				t.Fatal(err)
			}
			if got := summary(vs); !slices.Equal(got, tc.want) {
				t.Errorf("violations:\n  got  %q\n  want %q\nfull:\n%s", got, tc.want, lines(vs))
			}
		})
	}
}

func lines(vs []Violation) string {
	var b strings.Builder
	for _, v := range vs {
		b.WriteString("  " + v.String() + "\n")
	}
	return b.String()
}

func TestViolationMessages(t *testing.T) {
	t.Parallel()
	g := testGraph(t,
		"@replication/lsn: @shapes/registry",
		"@shapes/registry: "+pgxpool,
		"@http/api: @replication/pgwire",
		"@replication/pgwire: "+pgconn,
		"@stray: fmt",
	)
	vs, err := Check(g, Rules{Module: testModule, Table: layerTable(), Families: restrictedFamilies()})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"http/api: must not import " + pgconn + " (http/... must never reach pgx, even transitively): http/api -> replication/pgwire -> " + pgconn,
		"replication/lsn: must not import shapes/registry (layer 0 (leaf) imports only the standard library and the layer-0 packages §2 names for it): replication/lsn -> shapes/registry",
		"shapes/registry: must not import " + pgxpool + " (pgx is allowed only in replication/decode, replication/flush, replication/pgwire, replication/manager, replication/pool, replication/lock, replication/stream, replication/collector, replication/publication, replication/decode/builder, shapes/snapshot, cmd/..., chaos/..., replication/pgcluster, actors/actortest, replication/pgcluster/pgtest): shapes/registry -> " + pgxpool,
		"stray: not in the layer table: add it to ARCHITECTURE §2 and to layerTable in cmd/lintdeps/table.go",
	}
	var got []string
	for _, v := range vs {
		got = append(got, v.String())
	}
	if !slices.Equal(got, want) {
		t.Errorf("messages:\n%s\nwant:\n  %s", lines(vs), strings.Join(want, "\n  "))
	}
}

func TestTableIsConsistent(t *testing.T) {
	t.Parallel()
	if _, err := compile(Graph{}, Rules{Module: testModule, Table: layerTable(), Families: restrictedFamilies()}); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []struct {
		name  string
		table []Entry
	}{
		{"unknown pattern", []Entry{{Pattern: "a", May: []string{"b"}}}},
		{"duplicate", []Entry{{Pattern: "a"}, {Pattern: "a"}}},
		{"unknown family", []Entry{{Pattern: "a", Modules: []string{"gorm"}}}},
	} {
		if _, err := compile(Graph{}, Rules{Module: testModule, Table: bad.table, Families: restrictedFamilies()}); err == nil {
			t.Errorf("%s: compile accepted %+v", bad.name, bad.table)
		}
	}
}

func TestMatchPrefersExactAndLongest(t *testing.T) {
	t.Parallel()
	c, err := compile(Graph{}, Rules{Module: testModule, Table: layerTable(), Families: restrictedFamilies()})
	if err != nil {
		t.Fatal(err)
	}
	for rel, want := range map[string]string{
		"supervisor":                   "supervisor",
		"supervisor/status":            "supervisor/status",
		"replication/decode":           "replication/decode",
		"replication/decode/builder":   "replication/decode/builder",
		"http":                         "http/...",
		"http/server/middleware":       "http/...",
		"cmd/chaos":                    "cmd/...",
		"replication/pgcluster/pgtest": "replication/pgcluster/pgtest",
		"supervisor/other":             "",
		"httpx":                        "",
	} {
		got := ""
		if e := c.match(rel); e != nil {
			got = e.Pattern
		}
		if got != want {
			t.Errorf("match(%q) = %q, want %q", rel, got, want)
		}
	}
}
