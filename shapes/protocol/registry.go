package protocol

// CollectorReady tells the collector that every stored shape's consumer is
// subscribed, so it may take events (it answers NotReady until then). The
// registry sends it after the Subscribe messages of the restored shapes,
// from the same actor, so the collector sees them first.
type CollectorReady struct{}

// InvalidateShape asks the registry to invalidate a shape (schema change,
// TRUNCATE, a consumer that cannot continue, a storage mismatch). The shape
// is never served again; its clients get 409 and refetch.
type InvalidateShape struct {
	Shape  ShapeID
	Reason string
}
