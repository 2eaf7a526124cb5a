package service

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/shapesync/shapesync/replication/lsn"
)

// maxProbeBody bounds what Health and Status read: both bodies are a few
// dozen bytes, so more means something else answers on the port.
const maxProbeBody = 1 << 20

// healthPoll is how often WaitHealthy asks.
const healthPoll = 25 * time.Millisecond

// Status is /v1/status (SHAPE_API §19).
type Status struct {
	State       string // starting, waiting, live or fallback
	Reasons     []string
	ReceivedLSN lsn.LSN // newest WAL position received
	DurableLSN  lsn.LSN // every change up to it is durably stored
	AckedLSN    lsn.LSN // flushed position last sent to Postgres
}

// Health asks GET /v1/health and returns the status code and body.
func (p *Process) Health(ctx context.Context) (code int, body string, err error) {
	return p.get(ctx, "/v1/health")
}

// Status asks GET /v1/status and parses it. A status other than 200, a
// missing field or an LSN not in pg_lsn form is an error.
func (p *Process) Status(ctx context.Context) (Status, error) {
	code, body, err := p.get(ctx, "/v1/status")
	if err != nil {
		return Status{}, err
	}
	if code != http.StatusOK {
		return Status{}, fmt.Errorf("GET /v1/status: status %d, want 200: %s", code, body)
	}
	return ParseStatus([]byte(body))
}

// ParseStatus parses a /v1/status body.
func ParseStatus(body []byte) (Status, error) {
	var wire struct {
		State       *string  `json:"state"`
		Reasons     []string `json:"reasons"`
		ReceivedLSN *string  `json:"received_lsn"`
		DurableLSN  *string  `json:"durable_lsn"`
		AckedLSN    *string  `json:"acked_lsn"`
	}
	if err := json.Unmarshal(body, &wire); err != nil {
		return Status{}, fmt.Errorf("parse /v1/status %q: %w", body, err)
	}
	if wire.State == nil {
		return Status{}, fmt.Errorf("parse /v1/status %q: no state", body)
	}
	s := Status{State: *wire.State, Reasons: wire.Reasons}
	for _, f := range []struct {
		name string
		text *string
		dst  *lsn.LSN
	}{
		{"received_lsn", wire.ReceivedLSN, &s.ReceivedLSN},
		{"durable_lsn", wire.DurableLSN, &s.DurableLSN},
		{"acked_lsn", wire.AckedLSN, &s.AckedLSN},
	} {
		if f.text == nil {
			return Status{}, fmt.Errorf("parse /v1/status %q: no %s", body, f.name)
		}
		v, err := lsn.ParseLSN(*f.text)
		if err != nil {
			return Status{}, fmt.Errorf("parse /v1/status: %s: %w", f.name, err)
		}
		*f.dst = v
	}
	return s, nil
}

// WaitHealthy polls /v1/health until it answers wantStatus (200: active;
// 202: waiting, starting or fallback). It fails at once if the process
// exits, and with the last answer when ctx ends.
func (p *Process) WaitHealthy(ctx context.Context, wantStatus int) error {
	c := p.current()
	if c == nil {
		return fmt.Errorf("service.WaitHealthy: not started")
	}
	last := "no answer yet"
	for {
		code, body, err := p.Health(ctx)
		switch {
		case err == nil && code == wantStatus:
			return nil
		case err == nil:
			last = fmt.Sprintf("status %d %s", code, body)
		case ctx.Err() == nil:
			last = err.Error()
		}
		select {
		case <-c.done:
			return fmt.Errorf("service.WaitHealthy: pid %d %s while waiting for health %d (last: %s)",
				c.pid, c.describeExit(), wantStatus, last)
		case <-ctx.Done():
			return fmt.Errorf("service.WaitHealthy: no health %d from pid %d: %w (last: %s)",
				wantStatus, c.pid, ctx.Err(), last)
		case <-time.After(healthPoll):
		}
	}
}

func (p *Process) get(ctx context.Context, path string) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.URL()+path, nil)
	if err != nil {
		return 0, "", fmt.Errorf("GET %s: %w", path, err)
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return 0, "", fmt.Errorf("GET %s: %w", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxProbeBody))
	if err != nil {
		return resp.StatusCode, "", fmt.Errorf("GET %s: read body: %w", path, err)
	}
	return resp.StatusCode, string(body), nil
}
