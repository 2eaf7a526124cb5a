package scenarios

import (
	"context"
	"testing"
	"time"

	"github.com/shapesync/shapesync/chaos/oracle"
)

// TestFollowWholeTable is the smallest end-to-end check: a shape on a
// table follows an insert, an update and a delete.
func TestFollowWholeTable(t *testing.T) {
	svc := startInstance(t, false, nil)
	db := connect(t, svc.DSN)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if _, err := db.Exec(ctx, `CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t VALUES (1, 'a'), (2, 'b')`); err != nil {
		t.Fatal(err)
	}
	f := oracle.New(svc.URL(), "t")
	if err := f.UpToDateNow(ctx); err != nil {
		t.Fatal(err)
	}
	if len(f.Rows) != 2 {
		t.Fatalf("snapshot has %d rows; want 2", len(f.Rows))
	}
	if _, err := db.Exec(ctx, `INSERT INTO t VALUES (3, 'c'); UPDATE t SET v = 'A' WHERE id = 1; DELETE FROM t WHERE id = 2`); err != nil {
		t.Fatal(err)
	}
	err := f.Until(ctx, func(f *oracle.Follower) bool {
		_, has2 := f.Rows[`"public"."t"/"2"`]
		r1 := f.Rows[`"public"."t"/"1"`]
		return len(f.Rows) == 2 && !has2 && r1 != nil && r1["v"] != nil && *r1["v"] == "A"
	})
	if err != nil {
		t.Fatalf("%v; rows %v\n%s", err, f.Rows, svc.Output())
	}
}
