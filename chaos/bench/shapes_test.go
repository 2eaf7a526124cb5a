package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// shapeClient creates shapes over HTTP the way a client's first sync does.
type shapeClient struct {
	base string
	http *http.Client
}

func newShapeClient(base string, concurrency int) *shapeClient {
	return &shapeClient{base: base, http: &http.Client{
		Timeout:   60 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: concurrency, MaxConnsPerHost: concurrency},
	}}
}

// syncStats counts what one shape's initial sync took.
type syncStats struct {
	Requests, Retries int
	// First is the first 200 (the shape exists and its snapshot has
	// started); Took is until up-to-date.
	First, Took time.Duration
}

// maxRetryWait caps a Retry-After, so a confused answer cannot stall the
// benchmark.
const maxRetryWait = 5 * time.Second

// syncShape requests table's shape from offset -1 and follows the offsets
// it is given until a response says up-to-date. A 503 is retried after its
// Retry-After; a 409 starts again from -1 with the handle it names.
func (c *shapeClient) syncShape(ctx context.Context, table string) (syncStats, error) {
	start := time.Now()
	var st syncStats
	offset, handle := "-1", ""
	for {
		q := url.Values{"table": {table}, "offset": {offset}}
		if handle != "" {
			q.Set("handle", handle)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/v1/shape?"+q.Encode(), nil)
		if err != nil {
			return st, err
		}
		st.Requests++
		resp, err := c.http.Do(req)
		if err != nil {
			return st, fmt.Errorf("GET %s: %w", req.URL, err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return st, fmt.Errorf("GET %s: read body: %w", req.URL, err)
		}
		switch resp.StatusCode {
		case http.StatusOK:
			h, o := resp.Header.Get("electric-handle"), resp.Header.Get("electric-offset")
			if h == "" || o == "" {
				return st, fmt.Errorf("GET %s: 200 without electric-handle or electric-offset", req.URL)
			}
			if st.First == 0 {
				st.First = time.Since(start)
			}
			if _, done := resp.Header["Electric-Up-To-Date"]; done {
				st.Took = time.Since(start)
				return st, nil
			}
			offset, handle = o, h
		case http.StatusServiceUnavailable:
			st.Retries++
			if err := pause(ctx, retryAfter(resp.Header.Get("Retry-After"))); err != nil {
				return st, fmt.Errorf("GET %s: 503 (%s), then: %w", req.URL, body, err)
			}
		case http.StatusConflict:
			offset, handle = "-1", resp.Header.Get("electric-handle")
		default:
			return st, fmt.Errorf("GET %s: status %d: %s", req.URL, resp.StatusCode, body)
		}
	}
}

// retryAfter reads a Retry-After in seconds; missing or odd values wait a
// short while rather than hammering the service.
func retryAfter(header string) time.Duration {
	s, err := strconv.Atoi(header)
	if err != nil || s < 0 {
		return 100 * time.Millisecond
	}
	return min(time.Duration(s)*time.Second, maxRetryWait)
}

// creation is what creating many shapes took.
type creation struct {
	Took     time.Duration
	Requests int
	Retries  int
	// Slices splits the run into consecutive tenths (by completion order):
	// a rate that falls from tenth to tenth means a cost that grows with
	// the number of shapes already there.
	Slices []creationSlice
}

type creationSlice struct {
	Shapes   int
	Took     time.Duration // wall time of this tenth
	P50, P99 time.Duration // of the per-shape sync times finished in it
	// FirstP50 is the median time to the first 200, the rest of P50 is
	// the wait for up-to-date.
	FirstP50 time.Duration
}

func (s creationSlice) rate() float64 { return float64(s.Shapes) / s.Took.Seconds() }

// perTenth lists each tenth's rate and sync-time p99 on one line.
func (c creation) perTenth() string {
	var rates, p50s, p99s []string
	for _, s := range c.Slices {
		rates = append(rates, fmt.Sprintf("%.0f", s.rate()))
		p50s = append(p50s, fmt.Sprintf("%v/%v", s.FirstP50.Round(time.Millisecond), s.P50.Round(time.Millisecond)))
		p99s = append(p99s, s.P99.Round(time.Millisecond).String())
	}
	return fmt.Sprintf("per tenth: shapes/s [%s], p50 first-200/up-to-date [%s], up-to-date p99 [%s]",
		strings.Join(rates, " "), strings.Join(p50s, " "), strings.Join(p99s, " "))
}

// createShapes syncs every table's shape with at most concurrency
// requests in flight and stops at the first error. progress is called
// from the caller's goroutine after each tenth.
func (c *shapeClient) createShapes(ctx context.Context, tables []string, concurrency int, progress func(done int, s creationSlice)) (creation, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type result struct {
		st  syncStats
		err error
	}
	jobs := make(chan string)
	results := make(chan result)
	var wg sync.WaitGroup
	for range concurrency {
		wg.Go(func() {
			for table := range jobs {
				st, err := c.syncShape(ctx, table)
				if err != nil {
					err = fmt.Errorf("shape of %s: %w", table, err)
				}
				select {
				case results <- result{st, err}:
				case <-ctx.Done():
					return
				}
			}
		})
	}
	go func() {
		defer close(jobs)
		for _, t := range tables {
			select {
			case jobs <- t:
			case <-ctx.Done():
				return
			}
		}
	}()
	defer wg.Wait()

	var out creation
	start := time.Now()
	sliceStart := start
	tenth := max(len(tables)/10, 1)
	var took, first []time.Duration
	for done := 1; done <= len(tables); done++ {
		var r result
		select {
		case r = <-results:
		case <-ctx.Done():
			return out, ctx.Err()
		}
		if r.err != nil {
			return out, r.err
		}
		out.Requests += r.st.Requests
		out.Retries += r.st.Retries
		took = append(took, r.st.Took)
		first = append(first, r.st.First)
		if done%tenth == 0 || done == len(tables) {
			now := time.Now()
			s := creationSlice{Shapes: len(took), Took: now.Sub(sliceStart), P50: quantile(took, 0.5), P99: quantile(took, 0.99), FirstP50: quantile(first, 0.5)}
			out.Slices = append(out.Slices, s)
			if progress != nil {
				progress(done, s)
			}
			took, first, sliceStart = took[:0], first[:0], now
		}
	}
	out.Took = time.Since(start)
	if out.Took <= 0 {
		return out, errors.New("shape creation took no time; the clock is broken")
	}
	return out, nil
}

// quantile is the q-th quantile (nearest rank) of ds; it sorts ds.
func quantile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	i := int(q*float64(len(ds))+0.5) - 1
	return ds[min(max(i, 0), len(ds)-1)]
}
