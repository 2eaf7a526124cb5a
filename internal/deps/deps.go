//go:build tools

package deps

import (
	_ "github.com/asynkron/protoactor-go/actor"
	_ "github.com/cockroachdb/apd/v3"
	_ "github.com/dgraph-io/badger/v4"
	_ "github.com/jackc/pglogrepl"
	_ "github.com/jackc/pgx/v5"
	_ "github.com/jackc/pgx/v5/pgxpool"
	_ "github.com/pganalyze/pg_query_go/v6"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/valyala/fasthttp"
	_ "go.uber.org/goleak"
	_ "go.uber.org/zap"
	_ "go.uber.org/zap/exp/zapslog"
	_ "pgregory.net/rapid"
)
