package main

import "slices"

// Restricted third-party module families: the modules the layer table's
// "third-party" column names. Other modules (zap, apd, golang-lru, …) are not
// restricted. A family matches its module paths with any /vN suffix.
func restrictedFamilies() []Family {
	return []Family{
		{Name: "protoactor", Modules: []string{"github.com/asynkron/protoactor-go"}},
		{Name: "pgx", Modules: []string{"github.com/jackc/pgx"}},
		{Name: "pglogrepl", Modules: []string{"github.com/jackc/pglogrepl"}},
		{Name: "badger", Modules: []string{"github.com/dgraph-io/badger"}},
		{Name: "fasthttp", Modules: []string{"github.com/valyala/fasthttp"}},
		// go-pgquery is the API-compatible pure-Go build of the same parser
		// (GO_STACK §2), so it falls under the same rule.
		{Name: "pg_query_go", Modules: []string{"github.com/pganalyze/pg_query_go", "github.com/wasilibs/go-pgquery"}},
		{Name: "prometheus", Modules: []string{"github.com/prometheus/client_golang"}},
	}
}

// layerTable is ARCHITECTURE §2's layer table as data. Patterns are relative
// to the module; "x/..." is x and everything below it. May lists the project
// packages a package may import, NeverReach those it must not reach by any
// path, Modules the restricted families it may import itself, Never the
// families it must not reach by any path.
func layerTable() []Entry {
	layer0 := []string{"replication/lsn", "replication/events", "shapes/protocol", "telemetry/log", "telemetry/metrics", "actors", "actors/faults"}
	layer1 := []string{"shapes/shape", "shapes/where", "shapes/filter", "shapes/logitems", "replication/decode", "replication/flush", "replication/pgwire"}
	layer2 := []string{
		"replication/manager", "replication/pool", "replication/lock", "replication/stream",
		"replication/collector", "replication/publication", "replication/decode/builder",
		"shapes/storage", "shapes/registry", "shapes/consumer", "shapes/snapshot", "shapes/evict",
		"supervisor/status", "telemetry/sampler",
	}
	layer3 := []string{"supervisor", "http/...", "telemetry/dashboard"}
	layer4 := []string{"cmd/...", "chaos/...", "replication/pgcluster", "replication/pgcluster/pgtest", "actors/actortest"}
	all := concat(layer0, layer1, layer2, layer3, layer4)
	allButSupervisor := without(all, "supervisor")
	everyFamily := []string{"protoactor", "pgx", "pglogrepl", "badger", "fasthttp", "pg_query_go", "prometheus"}
	// Layer 1 and http/* must not reach protoactor, so they may not import
	// the two leaves that do.
	pureLeaves := without(layer0, "actors", "actors/faults", "shapes/protocol")

	var t []Entry
	leaf := func(pattern string, may []string, modules ...string) {
		t = append(t, Entry{Pattern: pattern, Layer: 0, May: may, Modules: modules,
			Rule: "layer 0 (leaf) imports only the standard library and the layer-0 packages §2 names for it"})
	}
	leaf("replication/lsn", nil)
	leaf("replication/events", []string{"replication/lsn"})
	leaf("shapes/protocol", []string{"replication/lsn", "replication/events", "actors"})
	leaf("telemetry/log", nil)
	leaf("telemetry/metrics", nil, "prometheus")
	leaf("actors", []string{"actors/faults"}, "protoactor")
	leaf("actors/faults", []string{"actors"}, "protoactor")

	for _, p := range layer1 {
		e := Entry{Pattern: p, Layer: 1, May: concat(pureLeaves, layer1),
			Never: []string{"protoactor", "badger", "fasthttp"},
			Rule:  "layer 1 (pure logic) imports layer 0 except actors and shapes/protocol, and other layer-1 packages"}
		switch p {
		case "shapes/where":
			e.Modules = []string{"pg_query_go"}
		case "replication/decode", "replication/flush", "replication/pgwire":
			e.Modules = []string{"pgx", "pglogrepl"}
		}
		t = append(t, e)
	}

	// Every layer-2 package hosts an actor (ARCHITECTURE §1.3), so each may
	// import protoactor.
	for _, p := range layer2 {
		e := Entry{Pattern: p, Layer: 2, May: concat(layer0, layer1), Modules: []string{"protoactor"},
			Rule: "layer 2 (components) imports layers 0–1 only: never another layer-2 package, http, supervisor or chaos"}
		switch {
		case p == "shapes/storage":
			e.Modules = append(e.Modules, "badger")
		case p == "shapes/snapshot" || hasPathPrefix(p, "replication"):
			e.Modules = append(e.Modules, "pgx", "pglogrepl")
		}
		t = append(t, e)
	}

	t = append(t,
		Entry{Pattern: "supervisor", Layer: 3, May: concat(layer0, layer1, layer2, []string{"http/...", "telemetry/dashboard"}),
			Modules: []string{"protoactor"},
			Rule:    "supervisor (layer 3) imports layers 0–2, http/* and telemetry/dashboard"},
		Entry{Pattern: "http/...", Layer: 3, May: concat(pureLeaves, layer1, []string{"http/..."}),
			Modules: []string{"fasthttp"}, Never: []string{"protoactor", "pgx", "pglogrepl", "badger"},
			Rule: "http/* (layer 3) imports layer 0 except actors and shapes/protocol, layer 1 and http/*; views are interfaces injected by supervisor and cmd"},
		Entry{Pattern: "telemetry/dashboard", Layer: 3, May: concat(layer0, layer1, layer2),
			Rule: "telemetry/dashboard (layer 3) imports layers 0–2"},
		Entry{Pattern: "cmd/...", Layer: 4, May: all, Modules: everyFamily,
			Rule: "cmd/* may import anything"},
		Entry{Pattern: "chaos/...", Layer: 4, May: allButSupervisor, NeverReach: []string{"supervisor"}, Modules: everyFamily,
			Rule: "chaos/* may import anything but supervisor (only cmd/* imports it)"},
		Entry{Pattern: "replication/pgcluster", Layer: 4, May: allButSupervisor, NeverReach: []string{"supervisor"}, Modules: []string{"pgx", "pglogrepl"},
			Rule: "replication/pgcluster may import anything but supervisor (only cmd/* imports it)"},
		Entry{Pattern: "actors/actortest", Layer: 4, May: allButSupervisor, NeverReach: []string{"supervisor"}, Modules: everyFamily,
			Rule: "actors/actortest (test helper for actor-hosting packages) may import anything but supervisor"},
		Entry{Pattern: "replication/pgcluster/pgtest", Layer: 4, May: allButSupervisor, NeverReach: []string{"supervisor"}, Modules: []string{"pgx", "pglogrepl"},
			Rule: "replication/pgcluster/pgtest (test helper) may import anything but supervisor"},
	)
	return t
}

func concat(lists ...[]string) []string {
	var out []string
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

func without(list []string, drop ...string) []string {
	return slices.DeleteFunc(slices.Clone(list), func(s string) bool { return slices.Contains(drop, s) })
}
