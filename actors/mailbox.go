package actors

import (
	"sync/atomic"

	"github.com/asynkron/protoactor-go/actor"
	"go.uber.org/zap"
)

// mailboxGauge counts one incarnation's pending user messages. It is the
// protoactor MailboxMiddleware of an actor.Unbounded mailbox (Bounded and
// BoundedDropping are never used: a full Bounded makes senders spin,
// BoundedDropping loses messages; ARCHITECTURE §4). A fresh gauge is built
// for every spawn, because actor.Unbounded(mw...) shares its middleware
// slice with every mailbox its Props produce (GO_STACK P14).
//
// Depth includes the message being handled: MessageReceived runs after
// Receive returns. protoactor skips MessageReceived for a message whose
// Receive panicked (GO_STACK P10); the kit's panic middleware takes that
// message off the gauge instead, so the depth does not drift.
type mailboxGauge struct {
	id     string
	bound  Bound
	policy Policy
	log    *zap.Logger

	depth     atomic.Int64 // pending user messages
	load      atomic.Int64 // pending, in the bound's unit
	high      atomic.Int64 // highest load seen
	reserved  atomic.Int64 // admitted by TrySend, not yet posted
	overflows atomic.Int64 // times the load rose above the bound (credit, coalesce)
	over      atomic.Bool
}

var _ actor.MailboxMiddleware = (*mailboxGauge)(nil)

func newMailboxGauge(id string, bound Bound, policy Policy, log *zap.Logger) *mailboxGauge {
	return &mailboxGauge{id: id, bound: bound, policy: policy, log: log}
}

func (g *mailboxGauge) MailboxStarted() {}
func (g *mailboxGauge) MailboxEmpty()   {}

func (g *mailboxGauge) MessagePosted(msg any) {
	if systemQueued(msg) {
		return
	}
	g.depth.Add(1)
	load := g.load.Add(g.weight(msg))
	for {
		h := g.high.Load()
		if load <= h || g.high.CompareAndSwap(h, load) {
			break
		}
	}
	if g.policy == Shed {
		return // TrySend guards shed edges; internal plain sends may pass the bound
	}
	if limit := g.bound.Limit(); load > limit && !g.over.Swap(true) {
		g.overflows.Add(1)
		// A credit window should make this impossible: it is a bug in the
		// protocol between the stages. Never drop; report.
		g.log.Error("mailbox above its declared bound (credit protocol bug)",
			zap.String("actor", g.id), zap.Stringer("policy", g.policy),
			zap.Int64("load", load), zap.Int64("bound", limit), zap.String("unit", g.bound.Unit()))
	}
}

func (g *mailboxGauge) MessageReceived(msg any) {
	if systemQueued(msg) {
		return
	}
	g.taken(msg)
}

// taken removes msg from the gauge.
func (g *mailboxGauge) taken(msg any) {
	g.depth.Add(-1)
	if load := g.load.Add(-g.weight(msg)); load <= g.bound.Limit() {
		g.over.Store(false)
	}
}

func (g *mailboxGauge) weight(msg any) int64 {
	if c, ok := msg.(*coalesced); ok {
		return c.weight
	}
	return g.bound.weight(actor.UnwrapEnvelopeMessage(msg))
}

// tryReserve admits a message of weight w if the load plus everything
// admitted but not yet posted stays within the bound. An admitted message
// is counted in reserved until after its MessagePosted has counted it in
// load, so it is never counted zero times: concurrent TrySends can be
// refused a little early near the bound, never admitted past it (P10).
// A message heavier than the whole bound is admitted into an empty mailbox.
func (g *mailboxGauge) tryReserve(w int64) bool {
	r := g.reserved.Add(w)
	load := g.load.Load()
	if load+r <= g.bound.Limit() || (load == 0 && r == w) {
		return true
	}
	g.reserved.Add(-w)
	return false
}

func (g *mailboxGauge) release(w int64) { g.reserved.Add(-w) }

// systemQueued reports whether a message travels on protoactor's system
// queue (Started, Stop, Watch, Terminated, Failure, Restart, continuations,
// Suspend/Resume); those are not part of the actor's declared bound.
func systemQueued(msg any) bool {
	switch msg.(type) {
	case actor.SystemMessage, actor.MailboxMessage:
		return true
	}
	return false
}

// userQueued reports whether a message seen by receiver middleware came
// from the user queue: system messages and the lifecycle notifications
// protoactor invokes directly (Restarting, Stopping, Stopped) did not.
func userQueued(msg any) bool {
	switch msg.(type) {
	case actor.SystemMessage, *actor.Restarting, *actor.Stopping, *actor.Stopped:
		return false
	}
	return true
}

// TrySend delivers msg to pid unless pid's mailbox has reached its bound,
// in which case it returns false and sends nothing (the shed policy; the
// HTTP caller answers 503 + Retry-After). An actor between incarnations
// still shows the dead one's pending messages, so TrySend keeps shedding
// until the re-spawn. A pid the kit did not spawn is sent to unconditionally.
func (k *Kit) TrySend(pid *PID, msg any) bool {
	return k.tryPost(pid, msg, func() { k.sys.Root.Send(pid, msg) })
}

// TryRequest is TrySend with a reply-to PID (ctx.Sender() in the target).
func (k *Kit) TryRequest(pid *PID, msg any, replyTo *PID) bool {
	return k.tryPost(pid, msg, func() { k.sys.Root.RequestWithCustomSender(pid, msg, replyTo) })
}

func (k *Kit) tryPost(pid *PID, msg any, post func()) bool {
	inc := k.reg.current(pid.Id)
	if inc == nil {
		post()
		return true
	}
	w := inc.gauge.weight(msg)
	if !inc.gauge.tryReserve(w) {
		return false
	}
	post()
	inc.gauge.release(w)
	return true
}
