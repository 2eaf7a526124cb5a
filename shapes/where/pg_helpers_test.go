package where

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/shapesync/shapesync/replication/pgcluster"
	"github.com/shapesync/shapesync/replication/pgcluster/pgtest"
	"github.com/shapesync/shapesync/replication/pgwire"
)

// connectWithDisplaySettings starts a private cluster and opens a
// connection that has run the §12.6 display settings, as every connection
// that produces values does.
func connectWithDisplaySettings(t *testing.T) *pgx.Conn {
	t.Helper()
	c := pgtest.Start(t, pgcluster.Options{})
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, c.DSN("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	for _, stmt := range pgwire.DisplaySettings() {
		if _, err := conn.Exec(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	return conn
}
