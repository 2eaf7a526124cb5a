package collector

import (
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/shapesync/shapesync/actors"
	"github.com/shapesync/shapesync/replication/events"
	"github.com/shapesync/shapesync/replication/flush"
	"github.com/shapesync/shapesync/replication/lsn"
	"github.com/shapesync/shapesync/shapes/filter"
	"github.com/shapesync/shapesync/shapes/protocol"
)

// errBusy means an event arrived while another one was still being
// delivered: the txn-builder keeps one event in flight, so it is a bug there.
var errBusy = errors.New("collector: an event arrived while the previous one is still being delivered (the txn-builder must keep one event in flight)")

// tableName names a table the way the stream's Relation does (the
// index's filter.TableKey, converted).
type tableName struct{ Schema, Name string }

// route is one subscribed shape.
type route struct {
	shape  protocol.ShapeID
	handle string
	table  tableName
	pid    *actors.PID
	// joined is the id of the transaction that was open when the shape
	// subscribed (0: none): the shape gets the rest of it without its
	// begin, and its consumer checks that it is visible in the snapshot.
	joined uint64
}

// send is a message the actor must send to a consumer: a *protocol.Deliver
// or a *protocol.AbortTxn.
type send struct {
	Shape protocol.ShapeID
	To    *actors.PID
	Msg   any
}

// step is what one router call asks the actor to do: send the messages,
// then, when Handled is set, answer EventHandled for that event.
type step struct {
	Sends   []send
	Handled *protocol.Event
}

// openTxn is the transaction whose fragments are being routed: the shapes
// that received any of them get its commit fragment too, and the flush
// tracker waits for exactly those.
type openTxn struct {
	id        uint64 // unique per router
	epoch     uint64
	xid       uint32
	commitLSN lsn.LSN
	shapes    []protocol.ShapeID // in first-delivery order
	got       map[protocol.ShapeID]bool
}

type phase int

const (
	phaseAbort   phase = iota + 1 // AbortTxn to the shapes of an abandoned transaction
	phaseDeliver                  // Deliver of the event's fragment
)

// inflight is the event being handled and the answers still awaited.
type inflight struct {
	ev      *protocol.Event
	phase   phase
	waiting map[protocol.ShapeID]uint64 // shape → Seq of the message it must answer
}

// router is the collector's pure core: routes, the open transaction, the
// de-duplication watermark and the flush tracker. It does no I/O and knows
// no actor context; the actor carries out its Steps.
type router struct {
	routes map[protocol.ShapeID]*route
	// index holds every route's condition: per change it names the shapes
	// whose condition the old or the new row may satisfy.
	index  *filter.Index[protocol.ShapeID]
	tables map[tableName]*tableState
	byPID  map[string]protocol.ShapeID
	// found is the reused buffer of a fragment's audience.
	found []protocol.ShapeID

	tracker *flush.Tracker
	// flushed is each shape's newest durable commit as reported by the
	// writer. A report can overtake the Commit it covers (the writer syncs a
	// shape while another shape has not answered Delivered yet), so it is
	// applied again when the commit reaches the tracker.
	flushed map[protocol.ShapeID]lsn.LSN

	lastCommitted lsn.LSN
	haveCommitted bool
	txn           *openTxn
	txns          uint64 // transactions opened
	// recent holds the xids of the last transactions opened, for
	// Subscribed.Streamed.
	recent     [recentXids]uint32
	recentNext int
	cur        *inflight
	seq        uint64
}

// newRouter starts at the durable acknowledged position: the tracker never
// reports less, and commits before it are replays of durable work.
func newRouter(start lsn.LSN) *router {
	return &router{
		routes:  map[protocol.ShapeID]*route{},
		index:   filter.New[protocol.ShapeID](),
		tables:  map[tableName]*tableState{},
		byPID:   map[string]protocol.ShapeID{},
		tracker: flush.NewTracker(start),
		flushed: map[protocol.ShapeID]lsn.LSN{},
	}
}

func trackerID(id protocol.ShapeID) flush.ShapeID {
	return flush.ShapeID(strconv.FormatUint(uint64(id), 10))
}

// Position is the WAL position that may be acknowledged.
func (r *router) Position() lsn.LSN { return r.tracker.Position() }

// Shapes is the number of subscribed shapes.
func (r *router) Shapes() int { return len(r.routes) }

// Busy reports whether an event is being delivered.
func (r *router) Busy() bool { return r.cur != nil }

// Subscribe adds (or replaces) a shape's route; it applies to every event
// handled after it. The shape gets the changes of the table whose old or
// new row may satisfy cond (nil: every change). It returns the consumer PID
// it replaced, if any, and an error when cond is malformed; the shape then
// gets every change of the table, for its consumer filters anyway.
func (r *router) Subscribe(shape protocol.ShapeID, handle string, table tableName, pid *actors.PID, cond filter.Condition) (replaced *actors.PID, err error) {
	if old, ok := r.routes[shape]; ok {
		replaced = old.pid
		delete(r.byPID, old.pid.Id)
		r.leaveTable(shape, old.table)
	}
	if cond == nil {
		cond = filter.All{}
	}
	if err = r.index.Add(filter.TableKey(table), shape, cond); err != nil {
		if allErr := r.index.Add(filter.TableKey(table), shape, filter.All{}); allErr != nil {
			panic(allErr) // All is always valid
		}
	}
	rt := &route{shape: shape, handle: handle, table: table, pid: pid}
	if r.txn != nil {
		rt.joined = r.txn.id
	}
	r.routes[shape] = rt
	r.byPID[pid.Id] = shape
	r.joinTable(shape, table)
	return replaced, err
}

// Unsubscribe removes a shape: it no longer receives events, no longer pins
// the acknowledged position, and an answer it owes is no longer awaited.
// It returns the removed route (nil if unknown) and the step that follows
// if the event in flight was waiting only for it.
func (r *router) Unsubscribe(shape protocol.ShapeID) (*route, step, error) {
	rt, ok := r.routes[shape]
	if !ok {
		return nil, step{}, nil
	}
	delete(r.routes, shape)
	delete(r.byPID, rt.pid.Id)
	r.leaveTable(shape, rt.table)
	delete(r.flushed, shape)
	r.tracker.RemoveShape(trackerID(shape))
	if r.cur == nil {
		return rt, step{}, nil
	}
	if _, waiting := r.cur.waiting[shape]; !waiting {
		return rt, step{}, nil
	}
	delete(r.cur.waiting, shape)
	st, err := r.progress()
	return rt, st, err
}

// Lost handles the termination of the consumer with PID id: undeliverable,
// so the shape is unsubscribed. It returns the removed route (nil if the PID
// is not a current consumer).
func (r *router) Lost(pidID string) (*route, step, error) {
	shape, ok := r.byPID[pidID]
	if !ok {
		return nil, step{}, nil
	}
	return r.Unsubscribe(shape)
}

// Event starts handling one event from the txn-builder.
func (r *router) Event(ev *protocol.Event) (step, error) {
	if r.cur != nil {
		return step{}, errBusy
	}
	r.cur = &inflight{ev: ev}
	if r.needsAbort(ev) {
		r.cur.phase = phaseAbort
		var st step
		for _, s := range r.txn.shapes {
			rt, ok := r.routes[s]
			if !ok {
				continue
			}
			r.seq++
			r.wait(s, r.seq)
			st.Sends = append(st.Sends, send{Shape: s, To: rt.pid,
				Msg: &protocol.AbortTxn{Seq: r.seq, Xid: r.txn.xid, CommitLSN: r.txn.commitLSN}})
		}
		if len(st.Sends) > 0 {
			return st, nil
		}
		r.txn = nil
	}
	return r.deliver()
}

// Delivered records a consumer's answer; a stale or unexpected one changes
// nothing.
func (r *router) Delivered(shape protocol.ShapeID, seq uint64) (step, error) {
	if r.cur == nil {
		return step{}, nil
	}
	if want, ok := r.cur.waiting[shape]; !ok || want != seq {
		return step{}, nil
	}
	delete(r.cur.waiting, shape)
	return r.progress()
}

// Flushed records the writer's report of durable commits.
func (r *router) Flushed(shapes map[protocol.ShapeID]lsn.LSN) {
	for id, l := range shapes {
		if _, ok := r.routes[id]; !ok {
			continue
		}
		if l > r.flushed[id] {
			r.flushed[id] = l
		}
		r.tracker.Flushed(trackerID(id), l)
	}
}

func (r *router) wait(s protocol.ShapeID, seq uint64) {
	if r.cur.waiting == nil {
		r.cur.waiting = map[protocol.ShapeID]uint64{}
	}
	r.cur.waiting[s] = seq
}

// needsAbort reports whether ev shows that the open transaction will not be
// continued: a new stream epoch, or a fragment of another transaction (or
// the same one sent again from its BEGIN).
func (r *router) needsAbort(ev *protocol.Event) bool {
	t := r.txn
	if t == nil {
		return false
	}
	if ev.Epoch != t.epoch {
		return true
	}
	f, ok := ev.Event.(*events.Fragment)
	return ok && (f.HasBegin || f.CommitLSN != t.commitLSN || f.Xid != t.xid)
}

// progress moves the event in flight on once every answer has arrived.
func (r *router) progress() (step, error) {
	if len(r.cur.waiting) > 0 {
		return step{}, nil
	}
	if r.cur.phase == phaseAbort {
		r.txn = nil
		return r.deliver()
	}
	return r.complete()
}

// deliver routes the event in flight.
func (r *router) deliver() (step, error) {
	ev := r.cur.ev
	r.cur.phase = phaseDeliver
	switch e := ev.Event.(type) {
	case *events.Fragment:
		return r.deliverFragment(ev, e)
	case *events.WalEnd:
		// Inside a transaction of the same epoch the position could lie past
		// the commit still to come (the builder never sends one there).
		if r.txn == nil {
			r.tracker.WalEnd(e.LSN)
		}
	}
	// Relation events need no delivery: consumers compare each change's
	// relation with their table, and the first change under a new relation
	// reaches every shape of its table (audience).
	return r.complete()
}

func (r *router) deliverFragment(ev *protocol.Event, f *events.Fragment) (step, error) {
	if r.txn == nil {
		if (r.haveCommitted && f.CommitLSN <= r.lastCommitted) || f.CommitLSN < r.tracker.LastSeen() {
			// A replay of a transaction already handled (same stream after a
			// restart of the replication side, or before the durable ack).
			return r.complete()
		}
		r.txns++
		r.recent[r.recentNext%recentXids] = f.Xid
		r.recentNext++
		r.txn = &openTxn{id: r.txns, epoch: ev.Epoch, xid: f.Xid, commitLSN: f.CommitLSN, got: map[protocol.ShapeID]bool{}}
	}
	t := r.txn
	ids := r.audience(f, r.found[:0])
	if f.Commit || len(f.Changes) == 0 {
		// The shapes that got part of the transaction need its end, with or
		// without changes of their own in this fragment.
		for _, id := range t.shapes {
			if _, ok := r.routes[id]; ok {
				ids = append(ids, id)
			}
		}
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	r.found = ids[:0]
	var st step
	for _, id := range ids {
		rt := r.routes[id]
		df := f
		if !t.got[id] {
			t.got[id] = true
			t.shapes = append(t.shapes, id)
			if !f.HasBegin && rt.joined != t.id {
				// The shape was subscribed when the transaction began; its
				// earlier fragments just had nothing for it. For its consumer,
				// HasBegin means "you see this transaction from its start"
				// (else it must be visible in the snapshot), so it gets a
				// copy marked so; the changes stay shared.
				c := *f
				c.HasBegin = true
				df = &c
			}
		}
		r.seq++
		r.wait(id, r.seq)
		st.Sends = append(st.Sends, send{Shape: id, To: rt.pid, Msg: &protocol.Deliver{Seq: r.seq, Fragment: df}})
	}
	if len(st.Sends) > 0 {
		return st, nil
	}
	return r.complete()
}

// complete finishes the event in flight: a commit reaches the flush tracker
// with the shapes still subscribed that received the transaction.
func (r *router) complete() (step, error) {
	ev := r.cur.ev
	r.cur = nil
	if f, ok := ev.Event.(*events.Fragment); ok && f.Commit && r.txn != nil {
		t := r.txn
		r.txn = nil
		ids := make([]flush.ShapeID, 0, len(t.shapes))
		var live []protocol.ShapeID
		for _, id := range t.shapes {
			if _, ok := r.routes[id]; ok {
				ids = append(ids, trackerID(id))
				live = append(live, id)
			}
		}
		if _, err := r.tracker.Commit(f.EndLSN, f.CommitLSN, ids); err != nil {
			return step{}, fmt.Errorf("collector: transaction %d: %w", f.Xid, err)
		}
		for _, id := range live {
			if l, ok := r.flushed[id]; ok {
				r.tracker.Flushed(trackerID(id), l)
			}
		}
		r.lastCommitted, r.haveCommitted = f.CommitLSN, true
	}
	return step{Handled: ev}, nil
}

// ackWindow keeps at most one PersistAck outstanding: advances made while
// one is being synced are merged into the next.
type ackWindow struct {
	durable   lsn.LSN // last AckPersisted
	requested lsn.LSN // last PersistAck sent
	inFlight  bool
}

// next reports whether to send PersistAck for pos now.
func (a *ackWindow) next(pos lsn.LSN) (lsn.LSN, bool) {
	if a.inFlight || pos <= a.durable || pos <= a.requested {
		return 0, false
	}
	a.inFlight, a.requested = true, pos
	return pos, true
}

// persisted records AckPersisted and returns the durable position.
func (a *ackWindow) persisted(l lsn.LSN) lsn.LSN {
	a.inFlight = false
	if l > a.durable {
		a.durable = l
	}
	return a.durable
}

// recentXids bounds Subscribed.Streamed: the window between a commit
// reaching the stream and becoming visible is a few milliseconds, far
// fewer transactions than this.
const recentXids = 1024

// Streamed returns the xids of the most recently opened transactions,
// oldest first.
func (r *router) Streamed() []uint32 {
	n := min(r.recentNext, recentXids)
	out := make([]uint32, 0, n)
	for i := r.recentNext - n; i < r.recentNext; i++ {
		out = append(out, r.recent[i%recentXids])
	}
	return out
}
