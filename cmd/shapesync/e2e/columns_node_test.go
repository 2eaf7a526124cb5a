package e2e_test

import (
	"testing"

	"github.com/shapesync/shapesync/replication/pgcluster"
	"github.com/shapesync/shapesync/replication/pgcluster/pgtest"
)

// TestOfficialClientColumnsReplicaFull follows a shape with
// { columns: ['id', 'title'], replica: 'full' } with the official client;
// columns_replica.mjs says what it checks.
func TestOfficialClientColumnsReplicaFull(t *testing.T) {
	cluster := pgtest.Start(t, pgcluster.Options{})
	dsn := cluster.DSN("postgres")
	execSQL(t, dsn, `CREATE TABLE node_cols (id int8 PRIMARY KEY, title text NOT NULL, n int4, body text);
		INSERT INTO node_cols VALUES (1, 'one', 10, 'b1'), (2, 'two', 20, 'b2'), (3, 'three', NULL, 'b3')`)

	base := startShapesync(t, dsn, "e2enode")
	runNodeScript(t, "columns_replica.mjs",
		"SHAPESYNC_URL="+base,
		"DATABASE_URL="+dsn,
		"E2E_TABLE=node_cols",
		"E2E_WAIT_MS=60000", // per wait; a healthy run needs milliseconds
	)
}
