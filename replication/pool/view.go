package pool

import (
	"sync/atomic"

	"github.com/jackc/pgx/v5/pgxpool"
)

// View publishes one pool for lock-free readers. The wiring creates it once
// and hands it to every incarnation of the pool's owner; an incarnation
// replaces what it published itself and nothing else.
//
// A reader may hold a pool the owner has since closed (the owner stopped,
// or is reconnecting): Acquire then fails with pgxpool's closed-pool error,
// and the reader retries with View.Pool.
type View struct {
	pool atomic.Pointer[pgxpool.Pool]
}

// NewView returns an empty view.
func NewView() *View { return &View{} }

// Pool is the current pool, or nil while none is connected.
func (v *View) Pool() *pgxpool.Pool { return v.pool.Load() }

func (v *View) publish(p *pgxpool.Pool) { v.pool.Store(p) }

// withdraw clears the view if it still shows p, so a dying incarnation
// never clears its successor's pool.
func (v *View) withdraw(p *pgxpool.Pool) { v.pool.CompareAndSwap(p, nil) }
