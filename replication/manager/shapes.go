package manager

import (
	"fmt"

	"github.com/asynkron/protoactor-go/actor"
	"go.uber.org/zap"

	"github.com/shapesync/shapesync/actors"
)

// startShapes makes sure the shapes subsystem runs under the shapes parent
// (a kit supervisor): reused when it is already there and need not purge,
// removed and added again when it must purge, added otherwise. The answers
// (ChildRemoved, ChildAdded) come back as messages; nothing here waits.
func (a *connManager) startShapes(ctx actor.Context, act StartShapes) {
	if a.cfg.Shapes == nil {
		a.step(ctx, ShapesStarted{Token: act.Token})
		return
	}
	parent := a.cfg.ShapesParent
	if parent == nil {
		parent = ctx.Parent()
	}
	spec := a.cfg.Shapes(act.Start)
	if parent == nil {
		a.step(ctx, ShapesFailed{Token: act.Token, Err: fmt.Errorf("conn-manager: no parent to start %q under", spec.Label)})
		return
	}
	info, found := a.cfg.Kit.Lookup(parent.Id + "/" + spec.Label)
	running := found && info.State != actors.StateStopped
	log := a.cfg.Log.With(zap.String("shapes", parent.Id+"/"+spec.Label), zap.Bool("purge", act.Start.Purge), zap.String("reason", act.Start.Reason))
	switch {
	case running && !act.Start.Purge:
		log.Info("conn-manager: reusing the running shapes subsystem")
		a.step(ctx, ShapesStarted{Token: act.Token})
	case running:
		log.Warn("conn-manager: restarting the shapes subsystem to purge every shape")
		a.shapes = &shapesRequest{token: act.Token, spec: spec, parent: parent}
		ctx.Request(parent, &actors.RemoveChild{Label: spec.Label})
	default:
		log.Info("conn-manager: starting the shapes subsystem")
		a.shapes = &shapesRequest{token: act.Token, spec: spec, parent: parent}
		ctx.Request(parent, &actors.AddChild{Spec: spec})
	}
}

func (a *connManager) shapesRemoved(ctx actor.Context, m *actors.ChildRemoved) {
	req := a.shapes
	if req == nil || m.Label != req.spec.Label {
		return
	}
	if m.Err != nil {
		a.shapes = nil
		a.step(ctx, ShapesFailed{Token: req.token, Err: fmt.Errorf("remove %q from %s: %w", m.Label, req.parent.Id, m.Err)})
		return
	}
	ctx.Request(req.parent, &actors.AddChild{Spec: req.spec})
}

func (a *connManager) shapesAdded(ctx actor.Context, m *actors.ChildAdded) {
	req := a.shapes
	if req == nil || m.Label != req.spec.Label {
		return
	}
	a.shapes = nil
	if m.Err != nil {
		a.step(ctx, ShapesFailed{Token: req.token, Err: fmt.Errorf("add %q to %s: %w", m.Label, req.parent.Id, m.Err)})
		return
	}
	a.step(ctx, ShapesStarted{Token: req.token})
}
