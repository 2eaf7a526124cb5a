package scenarios

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/shapesync/shapesync/chaos/oracle"
	"github.com/shapesync/shapesync/replication/lsn"
)

// i3Storm is i3Writers goroutines committing small transactions to the
// storm table, each inserting one row with an id of its own (and every
// third one also updating an earlier row of the same writer). Each commit
// is recorded with pg_current_wal_lsn() read right after COMMIT returned:
// an upper bound of the commit's end, so "upper bound ≤ confirmed flush"
// proves the commit is covered by the acknowledgement.
type i3Storm struct {
	stopping atomic.Bool
	n        atomic.Int64
	wg       sync.WaitGroup

	mu   sync.Mutex
	done []i3Commit
	errs []error
}

type i3Commit struct {
	ID    int64
	Upper lsn.LSN
}

func startI3Storm(ctx context.Context, t *testing.T, dsn string) *i3Storm {
	t.Helper()
	s := &i3Storm{}
	for k := range i3Writers {
		conn := connect(t, dsn)
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			if err := s.write(ctx, conn, k); err != nil {
				s.mu.Lock()
				s.errs = append(s.errs, fmt.Errorf("writer %d: %w", k, err))
				s.mu.Unlock()
			}
		}()
	}
	return s
}

func (s *i3Storm) write(ctx context.Context, conn *pgx.Conn, k int) error {
	rng := rand.New(rand.NewPCG(uint64(k), 3))
	base := int64(k) * 1_000_000_000
	for seq := int64(0); !s.stopping.Load(); seq++ {
		tx, err := conn.Begin(ctx)
		if err != nil {
			return fmt.Errorf("begin: %w", err)
		}
		_, err = tx.Exec(ctx, `INSERT INTO storm (id, writer, seq, payload) VALUES ($1, $2, $3, $4)`, base+seq, k, seq, strings.Repeat(fmt.Sprintf("w%d-%d;", k, seq), 8))
		if err == nil && seq > 0 && seq%3 == 0 {
			_, err = tx.Exec(ctx, `UPDATE storm SET bumps = bumps + 1 WHERE id = $1`, base+rng.Int64N(seq))
		}
		if err != nil {
			_ = tx.Rollback(context.Background())
			return fmt.Errorf("transaction %d: %w", seq, err)
		}
		if err := tx.Commit(ctx); err != nil {
			return fmt.Errorf("transaction %d: commit: %w", seq, err)
		}
		upper, err := currentWALLSN(ctx, conn)
		if err != nil {
			return fmt.Errorf("transaction %d: %w", seq, err)
		}
		s.mu.Lock()
		s.done = append(s.done, i3Commit{ID: base + seq, Upper: upper})
		s.mu.Unlock()
		s.n.Add(1)
	}
	return nil
}

func (s *i3Storm) commits() int64 { return s.n.Load() }

// halt stops the writers and waits for them; it may be called again.
func (s *i3Storm) halt() {
	s.stopping.Store(true)
	s.wg.Wait()
}

func (s *i3Storm) err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return errors.Join(s.errs...)
}

// committedAtOrBelow lists, in id order, the rows of the transactions
// known to have committed at or below l.
func (s *i3Storm) committedAtOrBelow(l lsn.LSN) []int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []int64
	for _, c := range s.done {
		if c.Upper <= l {
			ids = append(ids, c.ID)
		}
	}
	slices.Sort(ids)
	return ids
}

// liveFollower follows a shape in live mode on its own goroutine until
// stopped, so the storm also runs against a client (whose audit must hold).
type liveFollower struct {
	cancel context.CancelFunc
	done   chan error
}

func followLive(ctx context.Context, f *oracle.Follower) *liveFollower {
	ctx, cancel := context.WithCancel(ctx)
	l := &liveFollower{cancel: cancel, done: make(chan error, 1)}
	go func() {
		err := followUntil(ctx, f, func() bool { return false })
		if ctx.Err() != nil {
			err = nil // stopped
		}
		l.done <- err
	}()
	return l
}

// stop ends the follower and returns what broke it, if anything did.
func (l *liveFollower) stop() error {
	l.cancel()
	return <-l.done
}
