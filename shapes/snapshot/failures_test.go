package snapshot

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/shapesync/shapesync/replication/events"
	"github.com/shapesync/shapesync/replication/publication"
)

func TestRunFailures(t *testing.T) {
	t.Parallel()
	d := newDB(t)
	ctx := context.Background()
	d.exec(t, `CREATE TABLE t (id int PRIMARY KEY, v int, g int GENERATED ALWAYS AS (v * 2) STORED)`)
	d.exec(t, `INSERT INTO t (id, v) SELECT i, i FROM generate_series(1, 5) i`)
	tb := d.lookup(t, "public", "t")
	if _, err := publication.AddTable(ctx, d.admin, testPub, tb); err != nil {
		t.Fatal(err)
	}
	idV := []int{0, 1}
	noPublish := func(context.Context, *events.Table) (uint64, error) { return 0, nil }

	run := func(t *testing.T, req Request, ensure func(context.Context, *events.Table) (uint64, error), edit func(*Deps)) (*recorder, *Error) {
		t.Helper()
		rec := &recorder{}
		deps := rec.deps(d.snap, encoderFor(t, req.Table, req.Columns), ensure)
		if edit != nil {
			edit(&deps)
		}
		_, err := Run(ctx, deps, req)
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("Run = %v; want *Error", err)
		}
		if e.Table != `"public"."`+req.Table.Name+`"` {
			t.Errorf("error names table %s", e.Table)
		}
		return rec, e
	}

	t.Run("generated columns rejected before any query", func(t *testing.T) {
		rec, e := run(t, Request{Table: tb, Columns: allColumns(tb), ServerVersion: 150000}, noPublish, nil)
		if e.Kind != KindInvalidColumns || len(rec.callList()) != 0 {
			t.Errorf("%v (kind %s), calls %v", e, e.Kind, rec.callList())
		}
	})
	t.Run("data exception", func(t *testing.T) {
		_, e := run(t, Request{Table: tb, Columns: idV, Where: `1 / ("v" - $1) > 0`, Args: []any{3}}, noPublish, nil)
		if e.Kind != KindDataException || e.SQLState != "22012" || e.Reason != "division by zero" {
			t.Errorf("%v: kind %s, SQLSTATE %s, reason %q", e, e.Kind, e.SQLState, e.Reason)
		}
	})
	t.Run("manual mode not set up", func(t *testing.T) {
		d.exec(t, `CREATE TABLE manual (id int PRIMARY KEY)`)
		mt := d.lookup(t, "public", "manual")
		check := func(ctx context.Context, t *events.Table) (uint64, error) {
			return 0, publication.CheckTable(ctx, d.admin, testPub, t)
		}
		rec, e := run(t, Request{Table: mt, Columns: []int{0}}, check, nil)
		var ms *publication.ManualSetupError
		if e.Kind != KindSetup || !errors.As(e, &ms) || slices.Contains(rec.callList(), "subscribe") {
			t.Errorf("%v: kind %s, calls %v", e, e.Kind, rec.callList())
		}
	})
	t.Run("pool exhausted", func(t *testing.T) {
		small := newSnapshotPool(t, d.dsn, 1)
		held, err := small.Acquire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer held.Release()
		_, e := run(t, Request{Table: tb, Columns: idV}, noPublish, func(deps *Deps) {
			deps.Pool = small
			deps.Limits.AcquireTimeout = 200 * time.Millisecond
		})
		if e.Kind != KindTransient || !errors.Is(e, ErrPoolExhausted) {
			t.Errorf("%v: kind %s", e, e.Kind)
		}
	})
	t.Run("callback failure", func(t *testing.T) {
		boom := errors.New("collector went away")
		_, e := run(t, Request{Table: tb, Columns: idV}, noPublish, func(deps *Deps) {
			deps.Subscribe = func(context.Context) error { return boom }
		})
		if e.Kind != KindInternal || !errors.Is(e, boom) {
			t.Errorf("%v: kind %s", e, e.Kind)
		}
	})
	t.Run("canceled", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		rec := &recorder{onSubscribe: func(context.Context) error { cancel(); return nil }}
		_, err := Run(cctx, rec.deps(d.snap, encoderFor(t, tb, idV), noPublish), Request{Table: tb, Columns: idV})
		if KindOf(err) != KindCanceled {
			t.Errorf("Run after cancel = %v (kind %s)", err, KindOf(err))
		}
	})
	t.Run("missing dependency", func(t *testing.T) {
		_, e := run(t, Request{Table: tb, Columns: idV}, noPublish, func(deps *Deps) { deps.End = nil })
		if e.Kind != KindInternal {
			t.Errorf("%v", e)
		}
	})

	// Schema changes between the lookup and the snapshot.
	t.Run("table dropped", func(t *testing.T) {
		d.exec(t, `CREATE TABLE dropme (id int PRIMARY KEY)`)
		dt := d.lookup(t, "public", "dropme")
		d.exec(t, `DROP TABLE dropme`)
		// Through the publication step and, in manual mode, through the
		// snapshot's own check.
		for _, ensure := range []func(context.Context, *events.Table) (uint64, error){publishWith(d.admin), noPublish} {
			_, e := run(t, Request{Table: dt, Columns: []int{0}}, ensure, nil)
			if e.Kind != KindTableChanged || e.SQLState != "42P01" {
				t.Errorf("%v: kind %s", e, e.Kind)
			}
		}
	})
	t.Run("table recreated", func(t *testing.T) {
		d.exec(t, `CREATE TABLE again (id int PRIMARY KEY)`)
		old := d.lookup(t, "public", "again")
		d.exec(t, `DROP TABLE again`)
		d.exec(t, `CREATE TABLE again (id int PRIMARY KEY)`)
		_, e := run(t, Request{Table: old, Columns: []int{0}}, noPublish, nil)
		if e.Kind != KindTableChanged {
			t.Errorf("%v: kind %s", e, e.Kind)
		}
	})
	t.Run("column dropped", func(t *testing.T) {
		d.exec(t, `CREATE TABLE shrink (id int PRIMARY KEY, v int)`)
		st := d.lookup(t, "public", "shrink")
		d.exec(t, `ALTER TABLE shrink DROP COLUMN v`)
		_, e := run(t, Request{Table: st, Columns: []int{0, 1}}, noPublish, nil)
		if e.Kind != KindTableChanged || e.SQLState != "42703" {
			t.Errorf("%v: kind %s", e, e.Kind)
		}
	})
}

func TestClassify(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	lockErr := &publication.LockTimeoutError{Table: `"public"."t"`, Statement: "ALTER TABLE", Lock: "ACCESS EXCLUSIVE", Timeout: time.Second}
	cases := []struct {
		ctx  context.Context
		err  error
		want Kind
	}{
		{ctx, lockErr, KindTransient},
		{ctx, &publication.PermissionError{Table: `"public"."t"`}, KindSetup},
		{ctx, &publication.TableChangedError{Table: `"public"."t"`}, KindTableChanged},
		{ctx, &publication.PublicationMissingError{Publication: "p"}, KindSetup},
		{ctx, fmt.Errorf("wrapped: %w", &Error{Kind: KindDataException}), KindDataException},
		{ctx, pgx.ErrTxClosed, KindInternal},
		{canceled, errors.New("anything"), KindCanceled},
	}
	for _, c := range cases {
		if got := classify(c.ctx, `"public"."t"`, "step", c.err).Kind; got != c.want {
			t.Errorf("classify(%v) = %s; want %s", c.err, got, c.want)
		}
	}
	for code, want := range map[string]Kind{"22003": KindDataException, "22P02": KindDataException, "42P01": KindTableChanged,
		"55P03": KindTransient, "57014": KindTransient, "08006": KindTransient, "53300": KindTransient, "57P01": KindTransient,
		"42501": KindSetup, "XX000": KindInternal, "42601": KindInternal} {
		if got := kindOfSQLState(code); got != want {
			t.Errorf("kindOfSQLState(%s) = %s; want %s", code, got, want)
		}
	}
	if msg := classify(ctx, `"public"."t"`, "publish", lockErr).Error(); msg != `snapshot of "public"."t": `+lockErr.Error()+" (SQLSTATE 55P03)" {
		t.Errorf("message %q", msg)
	}
}
