package registry

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"go.uber.org/zap"

	"github.com/shapesync/shapesync/actors"
	"github.com/shapesync/shapesync/replication/events"
	"github.com/shapesync/shapesync/shapes/protocol"
	"github.com/shapesync/shapesync/shapes/shape"
)

// Label is the registry's label in the tree.
const Label = "registry"

// Bound and Policy of the registry mailbox: requests come from HTTP, which
// sheds with 503 when the registry is this far behind.
func Bound() actors.Bound { return actors.Count(1024) }

// Policy is the registry's overflow policy.
const Policy = actors.Shed

// Consumer and snapshot actor labels of a shape.
func ConsumerLabel(handle string) string { return "consumer-" + handle }

// SnapshotLabel is the label of a shape's snapshot actor.
func SnapshotLabel(handle string) string { return "snapshot-" + handle }

// CreateOrGet asks for the live incarnation of a definition on a table,
// registering one when there is none. It is answered (to the sender) with
// *Created.
type CreateOrGet struct {
	Definition shape.Definition
	Table      *events.Table
}

// Created answers CreateOrGet.
type Created struct {
	Entry *Entry
	Err   error
}

// Invalidate ends an incarnation: it is never served again and its log is
// reclaimed. Not answered.
type Invalidate struct {
	Handle string
	Reason error
}

// Config is what the registry needs from the wiring.
type Config struct {
	View    *View
	Records Records
	// Children returns the actors of a shape to add to the consumers
	// supervisor: its consumer first, then (for a new shape) its snapshot.
	Children func(e *Entry, restored bool) []actors.ChildSpec
	// Route returns the routing condition a restored shape subscribes with
	// (protocol.Subscribe.Route, built by the wiring). Nil: none, so the
	// collector routes every change of the shape's table to it.
	Route func(e *Entry) any
	// Consumers is the supervisor the shapes' actors are added to.
	Consumers *actors.PID
	// Collector receives the subscriptions of restored shapes and, once
	// they are all in, CollectorReady.
	Collector *actors.PID
	// Status receives CondMetadataLoaded.
	Status *actors.PID
	Kit    *actors.Kit
	Log    *zap.Logger
	// Purge, when set, removes every stored shape before the registry
	// loads (the replication slot is new, so no stored log continues the
	// stream). After it the registry sends protocol.StoreReset to Writer so
	// the store-writer starts afresh on the purged store.
	Purge  func(ctx context.Context) error
	Writer *actors.PID
}

type registry struct {
	cfg     Config
	gor     *actors.Goroutines
	minter  *shape.HandleMinter
	byID    map[protocol.ShapeID]*Entry
	pending map[string][]*actor.PID // definition hash → senders waiting for the creation
	// restoring counts the restored shapes whose consumer is not added yet.
	restoring map[string]*Entry
	loaded    bool
}

// Producer returns the registry's producer.
func Producer(cfg Config) actor.Producer {
	if cfg.Log == nil {
		cfg.Log = zap.NewNop()
	}
	return func() actor.Actor {
		return &registry{cfg: cfg, byID: map[protocol.ShapeID]*Entry{}, pending: map[string][]*actor.PID{}, restoring: map[string]*Entry{}}
	}
}

// Internal results of owned goroutines.
type (
	loadedRecords struct {
		records []Record
		err     error
		purged  bool
	}
	persisted struct {
		entry *Entry
		err   error
	}
	retryLoad struct{}
)

func (r *registry) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *actor.Started:
		r.gor = r.cfg.Kit.Goroutines(ctx)
		r.cfg.View.markLoading()
		r.load()
	case *retryLoad:
		r.load()
	case *loadedRecords:
		r.onLoaded(ctx, m)
	case *CreateOrGet:
		r.createOrGet(ctx, m)
	case *persisted:
		r.onPersisted(ctx, m)
	case *actors.ChildAdded:
		r.onChildAdded(ctx, m)
	case *actors.ChildExited:
		if h, ok := strings.CutPrefix(m.Label, "consumer-"); ok {
			r.invalidate(ctx, h, fmt.Errorf("its consumer stopped: %v", m.Reason))
		}
	case *protocol.SnapshotStored:
		r.onSnapshotStored(m.Shape)
	case *protocol.SnapshotFailed:
		if e, ok := r.byID[m.Shape]; ok {
			r.invalidate(ctx, e.Handle, m.Err)
		}
	case *protocol.ShapeInvalid:
		if e, ok := r.byID[m.Shape]; ok {
			r.invalidate(ctx, e.Handle, errors.New(m.Reason))
		}
	case *Invalidate:
		r.invalidate(ctx, m.Handle, m.Reason)
	case *protocol.Inspect:
		ctx.Respond(&protocol.Inspection{Summary: fmt.Sprintf("%d shapes, %d creations pending, loaded=%v", len(r.byID), len(r.pending), r.loaded)})
	}
}

func (r *registry) load() {
	records, purge := r.cfg.Records, r.cfg.Purge
	r.gor.Go("load", func(t *actors.Task) error {
		if purge != nil {
			if err := purge(t.Context()); err != nil {
				t.Send(&loadedRecords{err: fmt.Errorf("purge stored shapes: %w", err)})
				return nil
			}
		}
		list, err := records.List(t.Context())
		t.Send(&loadedRecords{records: list, err: err, purged: purge != nil})
		return nil
	})
}

func (r *registry) onLoaded(ctx actor.Context, m *loadedRecords) {
	if m.err != nil {
		r.cfg.Log.Error("cannot read the stored shapes; retrying", zap.Error(m.err))
		r.report(ctx, false, "cannot read stored shapes: "+m.err.Error())
		root, self := r.cfg.Kit.Root(), ctx.Self()
		time.AfterFunc(2*time.Second, func() { root.Send(self, &retryLoad{}) })
		return
	}
	if m.purged {
		r.cfg.Purge = nil // done: a retried load must not purge shapes created since
		if r.cfg.Writer != nil {
			ctx.Send(r.cfg.Writer, &protocol.StoreReset{})
		}
	}
	// Entries a previous incarnation published but the store no longer
	// holds (purged, or dropped while this actor was down) are invalidated
	// in the view, so their clients get 409 (I4).
	stored := make(map[string]bool, len(m.records))
	for _, rec := range m.records {
		stored[rec.Handle] = true
	}
	r.cfg.View.each(func(e *Entry) {
		if !stored[e.Handle] && e.State != Invalidated {
			next := *e
			next.State = Invalidated
			next.Err = errors.New("the shape's log is gone (purged or dropped)")
			r.cfg.View.publish(&next)
		}
	})
	var lastMicros int64
	for _, rec := range m.records {
		if h, err := shape.ParseHandle(rec.Handle); err == nil && h.Micros > lastMicros {
			lastMicros = h.Micros
		}
		def, table, err := decodeBody(rec.Body)
		if err != nil || !rec.SnapshotDone {
			// A snapshot cut short by a restart cannot be resumed: the shape
			// is dropped and its clients get 409 (D1).
			reason := "its snapshot did not complete before the restart"
			if err != nil {
				reason = err.Error()
			}
			r.cfg.Log.Info("dropping stored shape", zap.String("handle", rec.Handle), zap.String("reason", reason))
			r.deleteRecord(rec)
			continue
		}
		e := &Entry{Handle: rec.Handle, ID: rec.ID, Definition: def, Hash: rec.Hash, Table: table, State: Ready}
		r.byID[e.ID] = e
		r.cfg.View.publish(e)
		r.restoring[e.Handle] = e
		r.addChildren(ctx, e, true)
	}
	r.minter = shape.NewHandleMinter(lastMicros)
	r.maybeReady(ctx)
}

// maybeReady tells the collector to take events once every restored
// shape's consumer is subscribed. The subscriptions and CollectorReady go
// from this one actor, so the collector receives them in order.
func (r *registry) maybeReady(ctx actor.Context) {
	if r.loaded || len(r.restoring) > 0 || r.minter == nil {
		return
	}
	r.loaded = true
	ctx.Send(r.cfg.Collector, &protocol.CollectorReady{})
	r.cfg.View.markLoaded()
	r.report(ctx, true, "")
	r.cfg.Log.Info("stored shapes restored", zap.Int("shapes", len(r.byID)))
}

func (r *registry) report(ctx actor.Context, ok bool, reason string) {
	if r.cfg.Status != nil {
		r.cfg.Kit.Coalesce(r.cfg.Status, &protocol.Condition{Name: protocol.CondMetadataLoaded, OK: ok, Reason: reason})
	}
}

func (r *registry) addChildren(ctx actor.Context, e *Entry, restored bool) {
	for _, spec := range r.cfg.Children(e, restored) {
		ctx.Request(r.cfg.Consumers, &actors.AddChild{Spec: spec})
	}
}

func (r *registry) onChildAdded(ctx actor.Context, m *actors.ChildAdded) {
	h, isConsumer := strings.CutPrefix(m.Label, "consumer-")
	if !isConsumer {
		if m.Err != nil {
			if sh, ok := strings.CutPrefix(m.Label, "snapshot-"); ok {
				r.invalidate(ctx, sh, fmt.Errorf("cannot start its snapshot: %w", m.Err))
			}
		}
		return
	}
	if m.Err != nil {
		delete(r.restoring, h)
		r.invalidate(ctx, h, fmt.Errorf("cannot start its consumer: %w", m.Err))
		r.maybeReady(ctx)
		return
	}
	if e, ok := r.restoring[h]; ok {
		delete(r.restoring, h)
		var route any
		if r.cfg.Route != nil {
			route = r.cfg.Route(e)
		}
		ctx.Send(r.cfg.Collector, &protocol.Subscribe{Shape: e.ID, Handle: e.Handle, Schema: e.Table.Schema, Table: e.Table.Name,
			Consumer: m.PID, ReplyTo: ctx.Self(), Route: route})
		r.maybeReady(ctx)
	}
}

func (r *registry) createOrGet(ctx actor.Context, m *CreateOrGet) {
	if !r.loaded {
		ctx.Respond(&Created{Err: ErrNotLoaded})
		return
	}
	hash := strconv.FormatUint(m.Definition.Hash(), 10)
	if e, ok := r.cfg.View.Current(hash); ok && e.State != Invalidated {
		ctx.Respond(&Created{Entry: e})
		return
	}
	if waiting, ok := r.pending[hash]; ok {
		r.pending[hash] = append(waiting, ctx.Sender())
		return
	}
	r.pending[hash] = []*actor.PID{ctx.Sender()}
	handle := r.minter.Mint(&m.Definition, time.Now()).String()
	e := &Entry{Handle: handle, ID: r.cfg.Records.AllocateShapeID(), Definition: m.Definition, Hash: hash, Table: m.Table, State: Snapshotting}
	bodyBytes, err := encodeBody(m.Definition, m.Table)
	if err != nil {
		r.onPersisted(ctx, &persisted{entry: e, err: err})
		return
	}
	rec := Record{Handle: handle, ID: e.ID, Hash: hash, Body: bodyBytes}
	records := r.cfg.Records
	r.gor.Go("persist-"+handle, func(t *actors.Task) error {
		t.Send(&persisted{entry: e, err: records.Put(t.Context(), rec)})
		return nil
	})
}

func (r *registry) onPersisted(ctx actor.Context, m *persisted) {
	waiters := r.pending[m.entry.Hash]
	delete(r.pending, m.entry.Hash)
	if m.err != nil {
		r.cfg.Log.Error("cannot register a shape", zap.String("handle", m.entry.Handle), zap.Error(m.err))
		for _, w := range waiters {
			ctx.Send(w, &Created{Err: fmt.Errorf("register shape: %w", m.err)})
		}
		return
	}
	r.byID[m.entry.ID] = m.entry
	r.cfg.View.publish(m.entry)
	r.addChildren(ctx, m.entry, false)
	for _, w := range waiters {
		ctx.Send(w, &Created{Entry: m.entry})
	}
}

func (r *registry) onSnapshotStored(id protocol.ShapeID) {
	e, ok := r.byID[id]
	if !ok || e.State != Snapshotting {
		return
	}
	next := *e
	next.State = Ready
	r.byID[id] = &next
	r.cfg.View.publish(&next)
	bodyBytes, err := encodeBody(next.Definition, next.Table)
	if err != nil {
		return
	}
	rec := Record{Handle: next.Handle, ID: next.ID, Hash: next.Hash, Body: bodyBytes, SnapshotDone: true}
	records, log := r.cfg.Records, r.cfg.Log
	r.gor.Go("persist-"+next.Handle, func(t *actors.Task) error {
		if err := records.Put(t.Context(), rec); err != nil {
			// The shape keeps serving; after a restart it is dropped as if
			// its snapshot had not finished, which costs a refetch, not data.
			log.Warn("cannot mark a shape's snapshot as stored", zap.String("handle", rec.Handle), zap.Error(err))
		}
		return nil
	})
}

func (r *registry) invalidate(ctx actor.Context, handle string, reason error) {
	cur, ok := r.cfg.View.ByHandle(handle)
	if !ok || cur.State == Invalidated {
		return
	}
	next := *cur
	next.State = Invalidated
	next.Err = reason
	delete(r.byID, next.ID)
	// The view first: from here on no request is served from this log (I4).
	r.cfg.View.publish(&next)
	r.cfg.Log.Info("shape invalidated", zap.String("handle", handle), zap.Error(reason))
	ctx.Send(r.cfg.Collector, &protocol.Unsubscribe{Shape: next.ID})
	ctx.Send(r.cfg.Consumers, &actors.RemoveChild{Label: ConsumerLabel(handle)})
	ctx.Send(r.cfg.Consumers, &actors.RemoveChild{Label: SnapshotLabel(handle)})
	r.deleteRecord(Record{Handle: next.Handle, ID: next.ID, Hash: next.Hash})
}

func (r *registry) deleteRecord(rec Record) {
	records, log := r.cfg.Records, r.cfg.Log
	r.gor.Go("delete-"+rec.Handle, func(t *actors.Task) error {
		if err := records.Delete(t.Context(), rec); err != nil {
			log.Warn("cannot reclaim a shape's storage; it stays hidden", zap.String("handle", rec.Handle), zap.Error(err))
		}
		return nil
	})
}

// ErrNotLoaded answers creations that arrive before the stored shapes are
// restored; the HTTP layer turns it into a 503 with a retry.
var ErrNotLoaded = errors.New("the shape registry is still loading stored shapes")
