package app

// SegmentDeps are the adapters of segments and enrollment (helper C2).
type SegmentDeps struct{}
