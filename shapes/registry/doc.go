// Package registry owns the shape registry (ARCHITECTURE §1.4 "Registry /
// shape cache"): definitions → handles, the durable shape records, the
// lifecycle of every shape incarnation (creating, snapshotting, ready,
// invalidated) and the View that HTTP reads without sending a message.
//
// Creation is serialised through the registry actor, so identical
// definitions share one handle and one snapshot (E3). A handle is minted
// once and never reissued (SHAPE_API §6.2); invalidation removes it from the
// view before anything else, so no request is served from a log that is
// being deleted (I4).
//
// The registry persists through the Records interface and starts each
// shape's actors through the Children function, both injected by the wiring;
// it exchanges only shapes/protocol and actors messages with other actors.
//
// Layer 2: it may import layers 0–1 and protoactor; it never imports other
// layer-2 packages, http/*, supervisor or chaos.
package registry
