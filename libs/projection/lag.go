package projection

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// ErrNotProvisioned is returned by Lag for a stream whose consumer does not exist yet: call
// Provision (durable) or Run (ordered) first.
var ErrNotProvisioned = errors.New("projection: consumer not provisioned yet")

// StreamLag is how far a Runner is behind on one stream.
type StreamLag struct {
	// Stream is the stream name.
	Stream string
	// Pending counts the events not yet applied: not delivered yet, or delivered and not yet
	// settled (applied, acked or dead-lettered). For a durable Runner it covers all replicas.
	Pending uint64
	// OldestSequence is the stream sequence of the oldest event not yet applied; 0 when
	// Pending is 0.
	OldestSequence uint64
	// OldestAge is how long ago JetStream stored that event (the server's timestamp, not the
	// envelope's occurred_at, which a backfill may set far in the past); 0 when Pending is 0.
	OldestAge time.Duration
}

// Lag reports, per source stream in Config order, how many events are not yet applied and the
// age of the oldest of them. It also updates the lag gauges of the Runner's Metrics. A durable
// Runner answers once provisioned; an ordered one while Run is consuming (its position lives in
// the process). Streams that cannot be measured are reported with an error joined into err and
// zero values in the result.
func (r *Runner) Lag(ctx context.Context) ([]StreamLag, error) {
	out := make([]StreamLag, 0, len(r.sources))
	var errs []error
	for _, s := range r.sources {
		l, err := s.lag(ctx)
		l.Stream = s.name()
		if err != nil {
			errs = append(errs, err)
		} else {
			r.metrics.lagPending.WithLabelValues(r.cfg.Name, l.Stream).Set(float64(l.Pending))
			r.metrics.lagAge.WithLabelValues(r.cfg.Name, l.Stream).Set(l.OldestAge.Seconds())
		}
		out = append(out, l)
	}
	return out, errors.Join(errs...)
}

// oldestPending finds the first event of the source after sequence floor (the ack floor, or
// the last event an ordered Runner settled): the one the projection is waiting on.
func oldestPending(ctx context.Context, st jetstream.Stream, src Source, floor, pending uint64) (StreamLag, error) {
	l := StreamLag{Stream: src.Stream, Pending: pending}
	if pending == 0 {
		return l, nil
	}
	filters := src.FilterSubjects
	if len(filters) == 0 {
		filters = []string{">"}
	}
	// One lookup per filter: the server's next-by-subject takes one (wildcard) subject.
	var oldest *jetstream.RawStreamMsg
	for _, f := range filters {
		m, err := st.GetMsg(ctx, floor+1, jetstream.WithGetMsgSubject(f))
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			return l, fmt.Errorf("projection: oldest pending on %s: %w", src.Stream, err)
		}
		if oldest == nil || m.Sequence < oldest.Sequence {
			oldest = m
		}
	}
	if oldest != nil {
		l.OldestSequence = oldest.Sequence
		l.OldestAge = max(time.Since(oldest.Time), 0)
	}
	return l, nil
}
