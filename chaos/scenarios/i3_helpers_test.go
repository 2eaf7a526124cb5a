package scenarios

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/shapesync/shapesync/chaos/oracle"
	"github.com/shapesync/shapesync/replication/lsn"
)

// Helpers shared by the B11, B14 and I3 scenarios: the instance's slot and
// publication as Postgres sees them, and the table as a direct query sees
// it, in the oracle's row form.

// instanceSlot returns the name of the instance's replication slot. Each
// instance has a database of its own, so its slot is the only
// electric_slot_* slot on that database; its stream id is the suffix.
func instanceSlot(ctx context.Context, t *testing.T, db *pgx.Conn) string {
	t.Helper()
	rows, err := db.Query(ctx, `SELECT slot_name::text FROM pg_catalog.pg_replication_slots
		WHERE database = pg_catalog.current_database() AND slot_name LIKE 'electric\_slot\_%'`)
	if err != nil {
		t.Fatalf("list the instance's replication slots: %v", err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatalf("list the instance's replication slots: %v", err)
	}
	if len(names) != 1 {
		t.Fatalf("the instance's database has slots %v; want exactly one electric_slot_*", names)
	}
	return names[0]
}

// instancePublication returns the name of the instance's publication.
func instancePublication(ctx context.Context, t *testing.T, db *pgx.Conn) string {
	t.Helper()
	rows, err := db.Query(ctx, `SELECT pubname::text FROM pg_catalog.pg_publication WHERE pubname LIKE 'electric\_publication\_%'`)
	if err != nil {
		t.Fatalf("list publications: %v", err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatalf("list publications: %v", err)
	}
	if len(names) != 1 {
		t.Fatalf("the instance's database has publications %v; want exactly one electric_publication_*", names)
	}
	return names[0]
}

// slotPosition is one reading of a slot in pg_replication_slots.
type slotPosition struct {
	ConfirmedFlush lsn.LSN
	Active         bool
}

func readSlotPosition(ctx context.Context, db *pgx.Conn, slot string) (slotPosition, error) {
	var text *string
	var p slotPosition
	err := db.QueryRow(ctx, `SELECT confirmed_flush_lsn::text, active FROM pg_catalog.pg_replication_slots WHERE slot_name = $1`, slot).Scan(&text, &p.Active)
	if err != nil {
		return p, fmt.Errorf("read slot %s: %w", slot, err)
	}
	if text == nil {
		return p, fmt.Errorf("read slot %s: confirmed_flush_lsn is NULL", slot)
	}
	p.ConfirmedFlush, err = lsn.ParseLSN(*text)
	if err != nil {
		return p, fmt.Errorf("read slot %s: %w", slot, err)
	}
	return p, nil
}

// currentWALLSN is pg_current_wal_lsn(): at least the end of every commit
// that has returned to its client.
func currentWALLSN(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}) (lsn.LSN, error) {
	var text string
	if err := q.QueryRow(ctx, `SELECT pg_catalog.pg_current_wal_lsn()::text`).Scan(&text); err != nil {
		return 0, fmt.Errorf("read pg_current_wal_lsn(): %w", err)
	}
	return lsn.ParseLSN(text)
}

// keyOfRow is the Shape API key of the row of public.<table> whose
// single-column primary key is id (SHAPE_API §12). Table names and ids in
// these scenarios need no escaping.
func keyOfRow(table, id string) string {
	return `"public"."` + table + `"/"` + id + `"`
}

// readTableRows reads every row of public.<table> as text, keyed as the shape
// keys them; the primary key is the first of cols.
func readTableRows(ctx context.Context, db *pgx.Conn, table string, cols []string) (map[string]oracle.Row, error) {
	exprs := make([]string, len(cols))
	for i, c := range cols {
		exprs[i] = pgx.Identifier{c}.Sanitize() + "::text"
	}
	rows, err := db.Query(ctx, "SELECT "+strings.Join(exprs, ", ")+" FROM "+pgx.Identifier{"public", table}.Sanitize())
	if err != nil {
		return nil, fmt.Errorf("read table %s: %w", table, err)
	}
	defer rows.Close()
	out := map[string]oracle.Row{}
	for rows.Next() {
		vals := make([]*string, len(cols))
		dst := make([]any, len(cols))
		for i := range vals {
			dst[i] = &vals[i]
		}
		if err := rows.Scan(dst...); err != nil {
			return nil, fmt.Errorf("read table %s: %w", table, err)
		}
		if vals[0] == nil {
			return nil, fmt.Errorf("read table %s: NULL primary key", table)
		}
		r := oracle.Row{}
		for i, c := range cols {
			r[c] = vals[i]
		}
		out[keyOfRow(table, *vals[0])] = r
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read table %s: %w", table, err)
	}
	return out, nil
}

// shapeTableDiff describes how got differs from want (both keyed as shapes key
// rows), naming at most a few keys; "" means equal. Only want's columns are
// compared, so a shape with every column matches a direct SELECT of them.
func shapeTableDiff(want, got map[string]oracle.Row) string {
	var diffs []string
	keys := make([]string, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		g, ok := got[k]
		if !ok {
			diffs = append(diffs, "missing "+k)
			continue
		}
		for c, v := range want[k] {
			if textOrNULL(g[c]) != textOrNULL(v) {
				diffs = append(diffs, fmt.Sprintf("%s.%s = %s, want %s", k, c, textOrNULL(g[c]), textOrNULL(v)))
			}
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			diffs = append(diffs, "unexpected "+k)
		}
	}
	if len(diffs) == 0 {
		return ""
	}
	const shown = 8
	if len(diffs) > shown {
		diffs = append(diffs[:shown], fmt.Sprintf("… %d more", len(diffs)-shown))
	}
	return fmt.Sprintf("%d rows in the shape, %d in the table: %s", len(got), len(want), strings.Join(diffs, "; "))
}

func textOrNULL(v *string) string {
	if v == nil {
		return "NULL"
	}
	return *v
}

func cloneRows(rows map[string]oracle.Row) map[string]oracle.Row {
	out := make(map[string]oracle.Row, len(rows))
	for k, r := range rows {
		c := make(oracle.Row, len(r))
		for col, v := range r {
			c[col] = v
		}
		out[k] = c
	}
	return out
}

// retryPoll calls poll (one request) until it succeeds, retrying transport
// errors and 5xx answers after a short pause as the official client does.
// Anything else, such as an audit failure of the oracle, ends it at once.
func retryPoll(ctx context.Context, poll func(context.Context) error) error {
	for {
		err := poll(ctx)
		if err == nil {
			return nil
		}
		var se *oracle.StatusError
		var ne net.Error
		transient := (errors.As(err, &se) && se.Code >= 500) || (se == nil && (errors.As(err, &ne) || errors.Is(err, io.ErrUnexpectedEOF)))
		if !transient || ctx.Err() != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last error: %v)", ctx.Err(), err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// followUntil polls f (see retryPoll) until it is up to date and done
// holds.
func followUntil(ctx context.Context, f *oracle.Follower, done func() bool) error {
	for !f.UpToDate || !done() {
		if err := retryPoll(ctx, f.Poll); err != nil {
			return err
		}
	}
	return nil
}
