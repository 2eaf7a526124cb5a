package scenarios

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/shapesync/shapesync/chaos/oracle"
	"github.com/shapesync/shapesync/replication/lsn"
)

// Helpers of the crash scenarios (B5, D1, D4).

// slotFlushLSN reads confirmed_flush_lsn of the instance's permanent slot:
// each instance has its own database and exactly one such slot on it.
func slotFlushLSN(ctx context.Context, db *pgx.Conn) (lsn.LSN, error) {
	rows, err := db.Query(ctx, `SELECT coalesce(confirmed_flush_lsn::text, '') FROM pg_catalog.pg_replication_slots
		WHERE database = current_database() AND NOT temporary`)
	if err != nil {
		return 0, fmt.Errorf("read pg_replication_slots: %w", err)
	}
	flushes, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return 0, fmt.Errorf("read pg_replication_slots: %w", err)
	}
	if len(flushes) != 1 {
		return 0, fmt.Errorf("want one permanent slot on this database, found %d", len(flushes))
	}
	if flushes[0] == "" {
		return 0, nil
	}
	return lsn.ParseLSN(flushes[0])
}

// ackWatch samples, every few dozen milliseconds, the slot's
// confirmed_flush_lsn and then the service's /v1/status, and records every
// sample where Postgres holds a flush position ahead of what the service
// calls durable (RELIABILITY I3, B5 "Never"), or where the service reports
// acked_lsn ahead of durable_lsn (SHAPE_API §19). The slot is read first:
// durable_lsn only grows, so a flush position read earlier that is ahead of
// a durable position read later was ahead at its own moment too.
type ackWatch struct {
	cancel context.CancelFunc
	done   chan struct{}

	mu         sync.Mutex
	samples    int
	unknown    int // samples while starting, before durable_lsn is known
	violations []string
}

func watchAcks(t *testing.T, svc *instance) *ackWatch {
	t.Helper()
	db := connect(t, svc.DSN)
	ctx, cancel := context.WithCancel(context.Background())
	w := &ackWatch{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(w.done)
		for ctx.Err() == nil {
			w.sample(ctx, db, svc)
			select {
			case <-ctx.Done():
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	t.Cleanup(w.stop)
	return w
}

func (w *ackWatch) sample(ctx context.Context, db *pgx.Conn, svc *instance) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	flushed, err := slotFlushLSN(ctx, db)
	if err != nil {
		return // the slot may not exist yet; the test's own checks catch a missing slot
	}
	st, err := svc.Status(ctx)
	if err != nil {
		return // the service is down between a kill and a restart
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if st.State == "starting" && st.DurableLSN == 0 {
		// The store is not open yet, so the position is unknown; nothing
		// can be acknowledged before the collector reports it (it sets
		// durable_lsn before any AckLSN), so the slot still holds what the
		// previous incarnation acknowledged.
		w.unknown++
		return
	}
	w.samples++
	if flushed > st.DurableLSN {
		w.violations = append(w.violations, fmt.Sprintf("confirmed_flush_lsn %s ahead of durable_lsn %s (state %s, pid %d)",
			flushed, st.DurableLSN, st.State, svc.PID()))
	}
	if st.AckedLSN > st.DurableLSN {
		w.violations = append(w.violations, fmt.Sprintf("acked_lsn %s ahead of durable_lsn %s (state %s, pid %d)",
			st.AckedLSN, st.DurableLSN, st.State, svc.PID()))
	}
}

func (w *ackWatch) stop() {
	w.cancel()
	<-w.done
}

// result stops the watch and returns how many samples it took and what it
// found wrong.
func (w *ackWatch) result() (samples int, violations []string) {
	w.stop()
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.samples, slices.Clone(w.violations)
}

// checkAcks fails t if the watch saw a violation or too few samples to mean
// anything.
func (w *ackWatch) check(t *testing.T, minSamples int) {
	t.Helper()
	samples, violations := w.result()
	w.mu.Lock()
	unknown := w.unknown
	w.mu.Unlock()
	t.Logf("I3 watch: %d samples compared, %d while starting without a durable position, %d violations", samples, unknown, len(violations))
	if samples < minSamples {
		t.Errorf("I3 watch took only %d samples; want at least %d", samples, minSamples)
	}
	if len(violations) > 0 {
		t.Errorf("I3 violated at %d samples; first ones:\n%s", len(violations),
			strings.Join(violations[:min(len(violations), 10)], "\n"))
	}
}

// tableState reads table (columns id int, v text) as shape key → v, the
// way the shape keys its rows ("public"."<table>"/"<id>"); NULL is "<null>".
func tableState(ctx context.Context, db *pgx.Conn, table string) (map[string]string, error) {
	sql := `SELECT id::text, coalesce(v, '<null>') FROM ` + pgx.Identifier{"public", table}.Sanitize()
	rows, err := db.Query(ctx, sql)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", table, err)
	}
	out := map[string]string{}
	var id, v string
	_, err = pgx.ForEachRow(rows, []any{&id, &v}, func() error {
		out[shapeKey(table, id)] = v
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", table, err)
	}
	return out, nil
}

func shapeKey(table, id string) string { return `"public"."` + table + `"/"` + id + `"` }

// rowsDiff describes how a follower's rows differ from want (tableState);
// "" when they are equal.
func rowsDiff(rows map[string]oracle.Row, want map[string]string) string {
	var diffs []string
	for k, v := range want {
		r, ok := rows[k]
		switch {
		case !ok:
			diffs = append(diffs, "missing "+k)
		case r["v"] == nil && v != "<null>", r["v"] != nil && *r["v"] != v:
			diffs = append(diffs, fmt.Sprintf("%s: v %s, want %q", k, showText(r["v"]), v))
		}
	}
	for k := range rows {
		if _, ok := want[k]; !ok {
			diffs = append(diffs, "extra "+k)
		}
	}
	if len(diffs) == 0 {
		return ""
	}
	slices.Sort(diffs)
	return fmt.Sprintf("%d differences: %s", len(diffs), strings.Join(diffs[:min(len(diffs), 20)], "; "))
}

func showText(s *string) string {
	if s == nil {
		return "NULL"
	}
	return fmt.Sprintf("%q", *s)
}

// followUntilTable polls f until its rows equal table's current contents
// (read again after every up-to-date answer).
func followUntilTable(ctx context.Context, f *oracle.Follower, db *pgx.Conn, table string) error {
	var last string
	err := f.Until(ctx, func(f *oracle.Follower) bool {
		want, err := tableState(ctx, db, table)
		if err != nil {
			last = err.Error()
			return false
		}
		last = rowsDiff(f.Rows, want)
		return last == ""
	})
	if err != nil {
		return fmt.Errorf("%s never matched the table: %w (last difference: %s)", table, err, last)
	}
	return nil
}

// transportError reports whether err is the connection failing (the
// service is down or was killed mid-response) rather than an answer.
func transportError(err error) bool {
	var ue *url.Error
	var ne *net.OpError
	return errors.As(err, &ue) || errors.As(err, &ne) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)
}
