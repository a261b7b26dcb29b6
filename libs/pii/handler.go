package pii

import (
	"context"

	"github.com/evcrm/evcrm/libs/projection"
)

// Handler wraps a projection handler so that it sees the events' personal fields: each
// event's envelope is opened (Sealer.Open) before h gets the batch. An event that cannot be
// opened fails the batch, which the runner offers again (the key store may be briefly
// unreachable) and dead-letters after MaxDeliver. Events of erased people reach h without
// their personal fields. If h keeps its own checkpoint, so does the result.
func Handler(s *Sealer, h projection.Handler) projection.Handler {
	o := opening{s: s, h: h}
	if c, ok := h.(projection.Checkpointer); ok {
		return checkpointOpening{opening: o, c: c}
	}
	return o
}

// CheckpointHandler is Handler for a sink that keeps its own checkpoint (ordered runners).
func CheckpointHandler(s *Sealer, h projection.CheckpointHandler) projection.CheckpointHandler {
	return checkpointOpening{opening: opening{s: s, h: h}, c: h}
}

type opening struct {
	s *Sealer
	h projection.Handler
}

func (o opening) Handle(ctx context.Context, events []projection.Event) error {
	for _, e := range events {
		if err := o.s.Open(ctx, e.Envelope); err != nil {
			return err
		}
	}
	return o.h.Handle(ctx, events)
}

type checkpointOpening struct {
	opening
	c projection.Checkpointer
}

func (o checkpointOpening) Checkpoint(ctx context.Context) (map[string]uint64, error) {
	return o.c.Checkpoint(ctx)
}
