package oracle

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Row is a materialised row: column name → text value (nil for NULL).
type Row map[string]*string

// Change is one change message as received.
type Change struct {
	Handle    string
	Key       string
	Operation string
	LSN       uint64
	Op        uint64
	Value     Row
}

// Follower follows one shape. It is not safe for concurrent use.
type Follower struct {
	base, table string
	client      *http.Client

	Handle string
	offset string
	cursor string
	// Rows is the materialised shape.
	Rows map[string]Row
	// Changes lists every change message received, in order.
	Changes []Change
	// Refetches counts 409s.
	Refetches int
	// UpToDate reports whether the last response ended with up-to-date.
	UpToDate bool

	lastTx, lastOp uint64
	seen           map[string]bool
}

// New returns a follower of table on the service at base (http://host:port).
func New(base, table string) *Follower {
	return &Follower{base: base, table: table, client: &http.Client{Timeout: 60 * time.Second}, offset: "-1", Rows: map[string]Row{}, seen: map[string]bool{}}
}

type message struct {
	Key     string             `json:"key"`
	Value   map[string]*string `json:"value"`
	Headers struct {
		Operation  string  `json:"operation"`
		Control    string  `json:"control"`
		LSN        string  `json:"lsn"`
		OpPosition *uint64 `json:"op_position"`
	} `json:"headers"`
}

// Poll sends one request (live once up to date) and applies its messages.
func (f *Follower) Poll(ctx context.Context) error {
	q := url.Values{"table": {f.table}, "offset": {f.offset}}
	if f.Handle != "" && f.offset != "-1" {
		q.Set("handle", f.Handle)
	}
	live := f.UpToDate
	if live {
		q.Set("live", "true")
		q.Set("cursor", f.cursor)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.base+"/v1/shape?"+q.Encode(), nil)
	if err != nil {
		return err
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return fmt.Errorf("GET %s: %w", req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("read %s: %w", req.URL, err)
	}
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusConflict:
		// Start again from -1 with the new handle (SHAPE_API §24 item 7).
		f.Refetches++
		f.Handle = resp.Header.Get("electric-handle")
		f.offset, f.UpToDate = "-1", false
		f.Rows = map[string]Row{}
		f.lastTx, f.lastOp = 0, 0
		return nil
	default:
		return &StatusError{Code: resp.StatusCode, Body: string(body), URL: req.URL.String()}
	}
	handle, offset := resp.Header.Get("electric-handle"), resp.Header.Get("electric-offset")
	if handle == "" || offset == "" {
		return fmt.Errorf("GET %s: 200 without electric-handle/electric-offset", req.URL)
	}
	if f.Handle != "" && handle != f.Handle {
		return fmt.Errorf("GET %s: handle changed from %s to %s without a 409 (I4)", req.URL, f.Handle, handle)
	}
	f.Handle = handle
	if c := resp.Header.Get("electric-cursor"); c != "" {
		f.cursor = c
	}
	var msgs []message
	if len(body) > 0 {
		if err := json.Unmarshal(body, &msgs); err != nil {
			return fmt.Errorf("GET %s: body is not a JSON array: %w", req.URL, err)
		}
	}
	f.UpToDate = false
	for _, m := range msgs {
		if err := f.apply(m); err != nil {
			return fmt.Errorf("GET %s: %w", req.URL, err)
		}
	}
	f.offset = offset
	return nil
}

func (f *Follower) apply(m message) error {
	switch m.Headers.Control {
	case "up-to-date":
		f.UpToDate = true
		return nil
	case "snapshot-end", "must-refetch":
		return nil
	case "":
	default:
		return fmt.Errorf("unknown control message %q", m.Headers.Control)
	}
	if m.Headers.LSN != "" {
		tx, err := strconv.ParseUint(m.Headers.LSN, 10, 64)
		if err != nil || m.Headers.OpPosition == nil {
			return fmt.Errorf("change with bad lsn/op_position: %q", m.Headers.LSN)
		}
		op := *m.Headers.OpPosition
		if tx < f.lastTx || (tx == f.lastTx && op <= f.lastOp) {
			return fmt.Errorf("change offset %d_%d not after %d_%d (I1/I5)", tx, op, f.lastTx, f.lastOp)
		}
		f.lastTx, f.lastOp = tx, op
		id := f.Handle + "|" + m.Headers.LSN + "_" + strconv.FormatUint(op, 10) + "|" + m.Key
		if f.seen[id] {
			return fmt.Errorf("change %s received twice (I2)", id)
		}
		f.seen[id] = true
		f.Changes = append(f.Changes, Change{Handle: f.Handle, Key: m.Key, Operation: m.Headers.Operation, LSN: tx, Op: op, Value: m.Value})
	}
	switch m.Headers.Operation {
	case "insert":
		if _, exists := f.Rows[m.Key]; exists {
			return fmt.Errorf("insert of %s, which is already present (no delete between)", m.Key)
		}
		f.Rows[m.Key] = copyRow(m.Value)
	case "update":
		row, ok := f.Rows[m.Key]
		if !ok {
			return fmt.Errorf("update of %s, which is not present", m.Key)
		}
		for k, v := range m.Value {
			row[k] = v
		}
	case "delete":
		if _, ok := f.Rows[m.Key]; !ok {
			return fmt.Errorf("delete of %s, which is not present", m.Key)
		}
		delete(f.Rows, m.Key)
	default:
		return fmt.Errorf("unknown operation %q", m.Headers.Operation)
	}
	return nil
}

func copyRow(r map[string]*string) Row {
	out := make(Row, len(r))
	for k, v := range r {
		out[k] = v
	}
	return out
}

// StatusError is a response that is neither 200 nor 409.
type StatusError struct {
	Code      int
	Body, URL string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("GET %s: status %d: %s", e.URL, e.Code, strings.TrimSpace(e.Body))
}

// Until polls until done reports true after an up-to-date response, or ctx
// ends. 5xx answers and network errors are retried after a short pause, as
// the official client does.
func (f *Follower) Until(ctx context.Context, done func(*Follower) bool) error {
	for {
		if f.UpToDate && done(f) {
			return nil
		}
		if err := f.Poll(ctx); err != nil {
			var se *StatusError
			retry := !isStatus(err, &se) || se.Code >= 500
			if !retry || ctx.Err() != nil {
				return err
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("%w (last error: %v)", ctx.Err(), err)
			case <-time.After(200 * time.Millisecond):
			}
		}
	}
}

// UpToDateNow polls until the shape is up to date once.
func (f *Follower) UpToDateNow(ctx context.Context) error {
	f.UpToDate = false
	for !f.UpToDate {
		if err := f.Until(ctx, func(*Follower) bool { return true }); err != nil {
			return err
		}
	}
	return nil
}

func isStatus(err error, target **StatusError) bool {
	se, ok := err.(*StatusError)
	if ok {
		*target = se
	}
	return ok
}
