package e2e_test

import (
	"context"
	"testing"
	"time"

	"github.com/shapesync/shapesync/chaos/service"
)

// startShapesync builds the binary (once per test run) and starts it on dsn
// with its own replication stream id, waiting until it is active; it
// returns the service's base URL.
func startShapesync(t *testing.T, dsn, streamID string) string {
	t.Helper()
	bin := builds.Build(t, service.BuildOptions{})
	svc := service.Start(t, bin, service.Options{
		Env: map[string]string{
			"DATABASE_URL":                   dsn,
			"ELECTRIC_REPLICATION_STREAM_ID": streamID,
			"ELECTRIC_LOG_LEVEL":             "info",
		},
		StorageDir: t.TempDir(),
	})
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	if err := svc.WaitHealthy(ctx, 200); err != nil {
		t.Fatalf("shapesync did not become active: %v", err)
	}
	return svc.URL()
}
