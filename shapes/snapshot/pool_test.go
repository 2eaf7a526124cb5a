package snapshot

import (
	"context"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/shapesync/shapesync/replication/pgwire"
)

// Every connection of a configured pool runs under pgwire's display
// settings, inside transactions too, and an AfterConnect set before
// ConfigurePool still runs.
func TestConfigurePool(t *testing.T) {
	t.Parallel()
	dsn := pg.CreateDatabase(t)
	ctx := context.Background()
	var earlier atomic.Int32
	pool := newPool(t, dsn, func(cfg *pgxpool.Config) {
		cfg.MaxConns = 2
		cfg.AfterConnect = func(ctx context.Context, c *pgx.Conn) error {
			earlier.Add(1)
			_, err := c.Exec(ctx, "SET application_name = 'earlier_hook'")
			return err
		}
		ConfigurePool(cfg)
	})

	setting := regexp.MustCompile(`^SET (\w+) = '?([^']*)'?$`)
	// Two connections at once, so both are new ones.
	a, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Release()
	b, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Release()
	for _, conn := range []*pgxpool.Conn{a, b} {
		tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
		if err != nil {
			t.Fatal(err)
		}
		for _, stmt := range pgwire.DisplaySettings() {
			m := setting.FindStringSubmatch(stmt)
			if m == nil {
				t.Fatalf("display setting %q is not of the form SET name = 'value'", stmt)
			}
			var got string
			if err := tx.QueryRow(ctx, "SELECT current_setting($1)", m[1]).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if !strings.EqualFold(strings.ReplaceAll(got, " ", ""), strings.ReplaceAll(m[2], " ", "")) {
				t.Errorf("%s = %q; want %q", m[1], got, m[2])
			}
		}
		var app string
		if err := tx.QueryRow(ctx, "SELECT current_setting('application_name')").Scan(&app); err != nil || app != "earlier_hook" {
			t.Errorf("the earlier AfterConnect did not run: %q, %v", app, err)
		}
		if err := tx.Rollback(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if n := earlier.Load(); n != 2 {
		t.Errorf("earlier AfterConnect ran %d times for 2 connections", n)
	}
}
