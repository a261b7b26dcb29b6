package projector

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/evcrm/evcrm/libs/projection"
	"github.com/evcrm/evcrm/services/analytics/internal/adapters/chwriter"
)

// GapSettled is the chwriter.SettledFunc of the consumers named name: an event whose
// aggregate's row misses an earlier event may be applied over the gap once that earlier event
// is settled — the consumer has acknowledged it, so a replica wrote it (and the row just read
// would have it) or it was dead-lettered — or once the stream holds no event of the aggregate
// between the row's and this one (removed by a purge or by the retention limits). While the
// earlier event is still pending it is in some replica's batch or waiting for redelivery, and
// the event waits for it.
//
// The writer reads the row again after a positive answer before it applies the event (see
// chwriter.Options.Settled), so that a predecessor written and acknowledged between its first
// read and this check is not folded over. The check terminates because the predecessor's sequence is lower than the event's: the
// consumer's ack floor cannot be held back by the waiting event's own predecessors forever,
// since the lowest unacknowledged event of a stream never waits for a pending one.
func GapSettled(js jetstream.JetStream, name string) chwriter.SettledFunc {
	var streams sync.Map // stream name → jetstream.Stream
	return func(ctx context.Context, ev projection.Event, after uint64) (bool, error) {
		var stream jetstream.Stream
		if s, ok := streams.Load(ev.Stream); ok {
			stream = s.(jetstream.Stream)
		} else {
			s, err := js.Stream(ctx, ev.Stream)
			if err != nil {
				return false, fmt.Errorf("stream %s: %w", ev.Stream, err)
			}
			streams.Store(ev.Stream, s)
			stream = s
		}
		// The subject is crm.<tenant>.<type>.<id>.<EventType>: every event of the aggregate
		// matches crm.<tenant>.<type>.<id>.*.
		i := strings.LastIndexByte(ev.Subject, '.')
		if i < 0 {
			return false, fmt.Errorf("event subject %q has no event type token", ev.Subject)
		}
		next, err := stream.GetMsg(ctx, after+1, jetstream.WithGetMsgSubject(ev.Subject[:i]+".*"))
		switch {
		case errors.Is(err, jetstream.ErrMsgNotFound):
			return true, nil
		case err != nil:
			return false, fmt.Errorf("next event of %s after seq %d: %w", ev.Subject[:i], after, err)
		case next.Sequence >= ev.Sequence:
			return true, nil
		}
		cons, err := stream.Consumer(ctx, ConsumerName(name, ev.Stream))
		if err != nil {
			return false, fmt.Errorf("consumer %s: %w", ConsumerName(name, ev.Stream), err)
		}
		// Stream.Consumer has just fetched the consumer's info.
		return next.Sequence <= cons.CachedInfo().AckFloor.Stream, nil
	}
}
