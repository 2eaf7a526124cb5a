package protocol

// StoreReset tells the store-writer that the store was purged: it drops its
// pending batch and starts a fresh storage writer (the old one is stale).
type StoreReset struct{}
