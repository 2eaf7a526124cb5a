package registry

import (
	"sync"

	"github.com/shapesync/shapesync/replication/events"
	"github.com/shapesync/shapesync/shapes/protocol"
	"github.com/shapesync/shapesync/shapes/shape"
)

// State is where a shape incarnation is in its life.
type State uint8

// The states of an incarnation.
const (
	// Snapshotting: registered and durable; the snapshot is being taken.
	Snapshotting State = iota + 1
	// Ready: the snapshot is stored; the shape follows the stream.
	Ready
	// Invalidated: never served again (SHAPE_API §21).
	Invalidated
)

// Entry is one shape incarnation as published to readers. Entries are
// immutable: a change of state publishes a new Entry.
type Entry struct {
	Handle     string
	ID         protocol.ShapeID
	Definition shape.Definition
	Hash       string
	Table      *events.Table
	State      State
	// Err says why the shape was invalidated (snapshot failure, schema
	// change, …); nil otherwise.
	Err error
}

// View is the registry as lock-free readers see it. It is created by the
// wiring and outlives every incarnation of the registry actor.
type View struct {
	byHandle sync.Map // handle → *Entry
	byHash   sync.Map // definition hash → *Entry (live incarnation only)
	ready    sync.Map // marker: "loaded" once the stored shapes are restored
	// onChange is called after every publish with the entry published.
	onChange func(*Entry)
}

// NewView returns an empty view; onChange (may be nil) is told of every
// entry the registry publishes, after it is visible.
func NewView(onChange func(*Entry)) *View { return &View{onChange: onChange} }

// ByHandle returns the incarnation with the handle, live or invalidated.
func (v *View) ByHandle(handle string) (*Entry, bool) {
	e, ok := v.byHandle.Load(handle)
	if !ok {
		return nil, false
	}
	return e.(*Entry), true
}

// Current returns the live incarnation of the definition with the given
// canonical hash.
func (v *View) Current(hash string) (*Entry, bool) {
	e, ok := v.byHash.Load(hash)
	if !ok {
		return nil, false
	}
	return e.(*Entry), true
}

// Loaded reports whether the stored shapes have been restored.
func (v *View) Loaded() bool { _, ok := v.ready.Load("loaded"); return ok }

func (v *View) publish(e *Entry) {
	v.byHandle.Store(e.Handle, e)
	if e.State == Invalidated {
		v.byHash.CompareAndDelete(e.Hash, v.currentPtr(e.Hash, e.Handle))
	} else {
		v.byHash.Store(e.Hash, e)
	}
	if v.onChange != nil {
		v.onChange(e)
	}
}

// currentPtr returns the stored entry for hash if it is the incarnation
// handle, so invalidating an old incarnation never removes a newer one.
func (v *View) currentPtr(hash, handle string) any {
	cur, ok := v.byHash.Load(hash)
	if ok && cur.(*Entry).Handle == handle {
		return cur
	}
	return nil
}

func (v *View) markLoaded() { v.ready.Store("loaded", true) }

func (v *View) markLoading() { v.ready.Delete("loaded") }

// each calls fn for every published entry.
func (v *View) each(fn func(*Entry)) {
	v.byHandle.Range(func(_, e any) bool { fn(e.(*Entry)); return true })
}
