package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/shapesync/shapesync/actors"
	"github.com/shapesync/shapesync/actors/faults"
	"github.com/shapesync/shapesync/cmd/shapesync/config"
	httpapi "github.com/shapesync/shapesync/http/api"
	httpserver "github.com/shapesync/shapesync/http/server"
	"github.com/shapesync/shapesync/replication/pgwire"
	"github.com/shapesync/shapesync/shapes/storage"
	"github.com/shapesync/shapesync/supervisor"
	"github.com/shapesync/shapesync/supervisor/status"
	tlog "github.com/shapesync/shapesync/telemetry/log"
)

// shutdownTimeout bounds the ordered stop of everything (RELIABILITY D2).
const shutdownTimeout = 10 * time.Second

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	code := run(ctx, os.Environ(), os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is the whole program; it returns the exit code. ctx ends on SIGTERM
// or SIGINT.
func run(ctx context.Context, environ, args []string, stdout, stderr io.Writer) int {
	cfg, warnings, err := config.Load(environ, args)
	if errors.Is(err, config.ErrHelp) {
		fmt.Fprint(stdout, config.HelpText())
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "shapesync: invalid configuration:\n%v\n", err)
		return 2
	}
	log, _, err := tlog.New(cfg.LogLevel, tlog.FormatFor(os.Stderr), stderr)
	if err != nil {
		fmt.Fprintf(stderr, "shapesync: %v\n", err)
		return 2
	}
	defer func() { _ = log.Sync() }()
	for _, w := range warnings {
		log.Warn(w.Message, zap.String("variable", w.Variable))
	}

	var embedded *embeddedPostgres
	if cfg.Embedded {
		embedded, err = startEmbedded(ctx, log)
		if err != nil {
			log.Error("embedded mode: cannot start the private Postgres", zap.Error(err))
			return 1
		}
		defer embedded.stop(log)
		cfg.DatabaseURL = embedded.databaseURL()
	}
	log.Info("starting shapesync", zap.Bool("embedded", cfg.Embedded), zap.String("config", cfg.Redacted()))

	svc, err := startService(cfg, log)
	if err != nil {
		log.Error("cannot start", zap.Error(err))
		return 1
	}
	if embedded != nil {
		printEmbeddedHelp(stdout, svc.port)
	}

	select {
	case <-ctx.Done():
		log.Info("stopping: signal received")
	case err := <-svc.serveErr:
		log.Error("HTTP listener failed", zap.Error(err))
	}
	if stuck := svc.stop(log); len(stuck) > 0 {
		return 1
	}
	return 0
}

type service struct {
	kit      *actors.Kit
	tree     *supervisor.Tree
	http     *httpserver.Server
	port     int
	serveErr chan error
}

func startService(cfg *config.Config, log *zap.Logger) (*service, error) {
	kit := actors.NewKit(log.Named("actors"), actors.WithRootFailure(func(id string, reason any) {
		log.Error("root of the supervision tree failed; the HTTP listener keeps answering", zap.String("actor", id), zap.Any("reason", reason))
	}))
	hooks, err := faults.FromEnv()
	if err != nil {
		return nil, fmt.Errorf("fault hooks (%s): %w", faults.EnvVar, err)
	}
	view := status.NewView()
	tree, err := supervisor.Start(supervisor.Deps{
		Faults: hooks,
		Kit:    kit, Log: log, Status: view,
		Database:       databaseOf(cfg),
		StorageDir:     cfg.StorageDir,
		StorageOptions: storage.Options{Logger: log.Named("badger"), ChunkBytesThreshold: uint64(cfg.ChunkBytesThreshold), InMemory: cfg.Storage == config.StorageMemory},
	})
	if err != nil {
		return nil, fmt.Errorf("start the supervision tree: %w", err)
	}

	apiCfg := httpapi.DefaultConfig()
	apiCfg.LongPollTimeout = cfg.LongPollTimeout
	apiCfg.CacheMaxAge, apiCfg.CacheStaleAge = cfg.CacheMaxAge, cfg.CacheStaleAge
	apiCfg.Logger = log.Named("http")
	handler := httpapi.NewHandler(apiCfg, tree.Shapes, statusAdapter{view})

	srvCfg := httpserver.DefaultConfig()
	srvCfg.ReadTimeout, srvCfg.IdleTimeout = cfg.TCPReadTimeout, cfg.TCPReadTimeout
	srvCfg.WriteTimeout = cfg.TCPSendTimeout
	srvCfg.Logger = log.Named("http")
	srv := httpserver.New(srvCfg, handler)

	ln, err := net.Listen("tcp", net.JoinHostPort("", strconv.Itoa(cfg.Port)))
	if err != nil {
		kit.Shutdown(context.Background())
		return nil, fmt.Errorf("listen on port %d (ELECTRIC_PORT): %w", cfg.Port, err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	log.Info("listening", zap.Int("port", port))
	s := &service{kit: kit, tree: tree, http: srv, port: port, serveErr: make(chan error, 1)}
	go func() { s.serveErr <- srv.Serve(ln) }()
	return s, nil
}

// stop answers parked requests, stops the listener, then the tree in order,
// all within shutdownTimeout; it returns the labels of actors that did not
// stop in time.
func (s *service) stop(log *zap.Logger) []string {
	ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := s.http.Shutdown(ctx); err != nil {
		log.Warn("HTTP listener did not stop cleanly", zap.Error(err))
	}
	stuck := s.kit.Shutdown(ctx)
	if len(stuck) > 0 {
		log.Error("actors did not stop in time", zap.Strings("labels", stuck))
	}
	if err := s.tree.WaitStoreClosed(ctx); err != nil {
		log.Error("the shape store did not close in time", zap.Error(err))
	}
	return stuck
}

// statusAdapter shows the status view to the HTTP layer.
type statusAdapter struct{ view *status.View }

func (a statusAdapter) Status() httpapi.Status {
	s := a.view.Current()
	received, durable, acked := a.view.Positions()
	return httpapi.Status{State: string(s.State), Reasons: s.Reasons, ReceivedLSN: received, DurableLSN: durable, AckedLSN: acked}
}

// databaseOf turns the configuration into what the tree needs to reach
// Postgres.
func databaseOf(cfg *config.Config) *supervisor.Database {
	db := &supervisor.Database{
		DSN:      cfg.DatabaseURL.ConnString(),
		PoolSize: cfg.DBPoolSize,
		StreamID: cfg.ReplicationStreamID,
		Dial: pgwire.DialOptions{
			KeepAliveIdle: cfg.TCPKeepaliveIdle, KeepAliveInterval: cfg.TCPKeepaliveInterval,
			KeepAliveCount: cfg.TCPKeepaliveCount, UserTimeout: cfg.TCPUserTimeout, PreferIPv6: cfg.DatabaseUseIPv6,
		},
		MaxTxnBytes: cfg.MaxTxnSize,
	}
	if cfg.PooledDatabaseURL != nil {
		db.PooledDSN = cfg.PooledDatabaseURL.ConnString()
	}
	return db
}
