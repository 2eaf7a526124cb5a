package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5"
	"go.uber.org/zap"

	"github.com/shapesync/shapesync/cmd/shapesync/config"
	"github.com/shapesync/shapesync/replication/pgcluster"
)

type embeddedPostgres struct {
	cluster *pgcluster.Cluster
}

// embeddedDataDir is ./.shapesync/pg, or, when the postgres user cannot
// traverse the working directory (a checkout under /root run as root),
// /var/tmp/shapesync/<hash of the working directory>/pg (SHAPE_API §23).
func embeddedDataDir(log *zap.Logger) (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find the working directory: %w", err)
	}
	dir := filepath.Join(wd, config.EmbeddedPostgresDir)
	if err := pgcluster.CheckAccess(dir); err != nil {
		sum := sha256.Sum256([]byte(wd))
		alt := filepath.Join("/var/tmp/shapesync", hex.EncodeToString(sum[:8]), "pg")
		log.Warn("the postgres user cannot reach the working directory; keeping the embedded cluster elsewhere",
			zap.String("wanted", dir), zap.String("using", alt), zap.String("because", err.Error()))
		return alt, nil
	}
	return dir, nil
}

func startEmbedded(ctx context.Context, log *zap.Logger) (*embeddedPostgres, error) {
	dir, err := embeddedDataDir(log)
	if err != nil {
		return nil, err
	}
	log.Warn("embedded mode: no DATABASE_URL, running a private Postgres for development", zap.String("data", dir))
	startCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	c, err := pgcluster.Start(startCtx, pgcluster.Options{Dir: dir, Log: io.Discard})
	if err != nil {
		return nil, fmt.Errorf("start the embedded Postgres in %s (set DATABASE_URL to use your own database): %w", dir, err)
	}
	e := &embeddedPostgres{cluster: c}
	if err := e.createDemoTable(startCtx); err != nil {
		e.stop(log)
		return nil, err
	}
	log.Info("embedded Postgres is up", zap.Int("port", c.Port()), zap.String("data", c.DataDir()))
	return e, nil
}

// createDemoTable makes the small `items` table that the printed curl
// commands fetch, when it is absent.
func (e *embeddedPostgres) createDemoTable(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, e.cluster.DSN("postgres"))
	if err != nil {
		return fmt.Errorf("connect to the embedded Postgres: %w", err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT to_regclass('public.items') IS NOT NULL`).Scan(&exists); err != nil {
		return fmt.Errorf("look for the demo table: %w", err)
	}
	if exists {
		return nil
	}
	_, err = conn.Exec(ctx, `
CREATE TABLE public.items (id int8 PRIMARY KEY, title text NOT NULL, done bool NOT NULL DEFAULT false);
INSERT INTO public.items (id, title, done) VALUES (1, 'Buy milk', false), (2, 'Write the report', true), (3, 'Call Alice', false);`)
	if err != nil {
		return fmt.Errorf("create the demo table: %w", err)
	}
	return nil
}

func (e *embeddedPostgres) databaseURL() *config.DatabaseURL {
	return &config.DatabaseURL{User: "postgres", Host: e.cluster.Host(), Port: e.cluster.Port(), Database: "postgres", SSLMode: config.SSLDisable}
}

func (e *embeddedPostgres) stop(log *zap.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := e.cluster.Stop(ctx); err != nil {
		log.Error("embedded Postgres did not stop cleanly", zap.Error(err))
		return
	}
	log.Info("embedded Postgres stopped")
}

func printEmbeddedHelp(w io.Writer, port int) {
	base := fmt.Sprintf("http://localhost:%d", port)
	fmt.Fprintf(w, `
shapesync is running in embedded mode (development only) on %[1]s

  curl -i '%[1]s/v1/health'
  curl -i '%[1]s/v1/status'
  curl -i '%[1]s/v1/shape?table=items&offset=-1'

Press Ctrl-C to stop shapesync and its Postgres.
`, base)
}
