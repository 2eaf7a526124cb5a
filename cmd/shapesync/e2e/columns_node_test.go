package e2e_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/shapesync/shapesync/replication/pgcluster"
	"github.com/shapesync/shapesync/replication/pgcluster/pgtest"
)

// TestOfficialClientColumnsReplicaFull follows a shape with
// { columns: ['id', 'title'], replica: 'full' } with the official client;
// columns_replica.mjs says what it checks.
func TestOfficialClientColumnsReplicaFull(t *testing.T) {
	dir, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	node := requireNode(t)
	requireNodeModules(t, dir)

	cluster := pgtest.Start(t, pgcluster.Options{})
	dsn := cluster.DSN("postgres")
	execSQL(t, dsn, `CREATE TABLE node_cols (id int8 PRIMARY KEY, title text NOT NULL, n int4, body text);
		INSERT INTO node_cols VALUES (1, 'one', 10, 'b1'), (2, 'two', 20, 'b2'), (3, 'three', NULL, 'b3')`)

	base := startShapesync(t, dsn, "e2enode")

	ctx, cancel := context.WithTimeout(context.Background(), nodeTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "columns_replica.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"SHAPESYNC_URL="+base,
		"DATABASE_URL="+dsn,
		"E2E_TABLE=node_cols",
		"E2E_WAIT_MS=60000", // per wait; a healthy run needs milliseconds
	)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	cmd.WaitDelay = 5 * time.Second
	err = cmd.Run()
	switch {
	case ctx.Err() != nil:
		t.Fatalf("node columns_replica.mjs did not finish within %v; its output:\n%s", nodeTimeout, out.String())
	case err != nil:
		t.Fatalf("node columns_replica.mjs failed (%v); its output:\n%s", err, out.String())
	}
	t.Logf("node columns_replica.mjs passed:\n%s", out.String())
}
