package protomap

import "github.com/evcrm/evcrm/libs/protoconv"

// Short names for the libs/protoconv mappings the codecs use everywhere.
var (
	ts      = protoconv.Timestamp
	fromTS  = protoconv.Time
	dur     = protoconv.Duration
	fromDur = protoconv.FromDuration
)
