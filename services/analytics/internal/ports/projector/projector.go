package projector

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/evcrm/evcrm/libs/eventstore"
	"github.com/evcrm/evcrm/libs/projection"
	"github.com/evcrm/evcrm/services/analytics/internal/app"
)

// DefaultName is the prefix of the durable consumers: "analytics-CRM_LEADS" and so on, one per
// stream, shared by every replica of the service.
const DefaultName = "analytics"

// Streams are the streams the projector consumes.
var Streams = []string{eventstore.LeadsStream.Name, eventstore.PipelineStream.Name, eventstore.CampaignStream.Name}

// Options configure a Projector.
type Options struct {
	// Name prefixes the consumer names; DefaultName when empty.
	Name string
	// BatchSize and BatchWait bound an insert batch (events, time).
	BatchSize int
	BatchWait time.Duration
	// Backoff overrides projection.DefaultBackoff (tests shorten it).
	Backoff []time.Duration
	// AckWait overrides projection.DefaultAckWait: how long a batch a replica took may stay
	// unacked before the server offers it again (after a crash, say). Tests shorten it.
	AckWait time.Duration
	// DeadLetterReplicas is the replica count of the dead-letter stream if it is created.
	DeadLetterReplicas int
	Metrics            *projection.Metrics
	Logger             *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.Name == "" {
		o.Name = DefaultName
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 5000
	}
	if o.BatchWait <= 0 {
		o.BatchWait = 500 * time.Millisecond
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.AckWait <= 0 {
		o.AckWait = projection.DefaultAckWait
	}
	return o
}

// GapWait is how long the writer lets an event wait on an unsettled gap before applying it
// anyway (chwriter.Options.GapWait): twice the consumers' AckWait, so that a predecessor held by
// a replica that died has been offered again by then.
func (o Options) GapWait() time.Duration { return 2 * o.withDefaults().AckWait }

// Projector runs one durable Runner per stream. One Runner per stream rather than one for all
// three: a Runner serialises its Handle calls, and the streams' batches touch disjoint
// current-state tables, so they may be inserted concurrently.
type Projector struct {
	js      jetstream.JetStream
	opts    Options
	runners []*projection.Runner
	h       *handler
}

// New creates the Projector; w receives the batches. gate, when set, is read-locked around
// every batch (see handler).
func New(js jetstream.JetStream, w Writer, gate *sync.RWMutex, o Options) (*Projector, error) {
	o = o.withDefaults()
	p := &Projector{js: js, opts: o, h: &handler{w: w, gate: gate, log: o.Logger.With("projection", o.Name)}}
	for _, s := range Streams {
		r, err := projection.NewDurable(js, projection.Config{
			Name:      ConsumerName(o.Name, s),
			Sources:   []projection.Source{{Stream: s}},
			BatchSize: o.BatchSize,
			BatchWait: o.BatchWait,
			Backoff:   stretchBackoff(o.Backoff, projection.DefaultMaxDeliver-1, o.GapWait()*5/4),
			AckWait:   o.AckWait,
			// The server must be able to hand out a full batch.
			MaxAckPending:      max(2*o.BatchSize, projection.DefaultMaxAckPending),
			DeadLetterReplicas: o.DeadLetterReplicas,
			Metrics:            o.Metrics,
			Logger:             o.Logger,
		}, p.h)
		if err != nil {
			return nil, err
		}
		p.runners = append(p.runners, r)
	}
	return p, nil
}

// stretchBackoff returns backoff (projection.DefaultBackoff when empty), its repeating last
// entry raised when needed so that the redeliveries before the dead-letter stream span at least
// span: an event waiting on a gap must outlast the writer's GapWait before its deliveries run
// out, or it would be dead-lettered while its predecessor is merely on its way back from a
// replica that died. The default schedule spans far more; a short test backoff gets stretched.
func stretchBackoff(backoff []time.Duration, redeliveries int, span time.Duration) []time.Duration {
	if len(backoff) == 0 {
		backoff = projection.DefaultBackoff
	}
	var total time.Duration
	for i := range redeliveries {
		total += backoff[min(i, len(backoff)-1)]
	}
	if total >= span {
		return backoff
	}
	out := slices.Clone(backoff)
	var head time.Duration
	for _, d := range out[:len(out)-1] {
		head += d
	}
	if rest := redeliveries - (len(out) - 1); rest > 0 {
		out[len(out)-1] = max(out[len(out)-1], (span-head+time.Duration(rest)-1)/time.Duration(rest))
	}
	return out
}

// ConsumerName is the durable consumer of projection name on stream.
func ConsumerName(name, stream string) string { return name + "-" + stream }

// Provision creates the consumers (and the dead-letter stream); the streams must exist.
func (p *Projector) Provision(ctx context.Context) error {
	for _, r := range p.runners {
		if err := r.Provision(ctx); err != nil {
			return err
		}
	}
	return nil
}

// Run consumes until ctx is cancelled.
func (p *Projector) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	errs := make([]error, len(p.runners))
	for i, r := range p.runners {
		wg.Go(func() { errs[i] = r.Run(ctx) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Processed is the number of events the Projector's Runners applied since it was created.
func (p *Projector) Processed() uint64 {
	var n uint64
	for _, r := range p.runners {
		n += r.Stats().Processed
	}
	return n
}

// StreamStatus is the projector's position in one stream: ProjectedSequence is the consumer's
// ack floor (every event up to it is in ClickHouse), Pending the events after it that are not.
type StreamStatus = app.StreamStatus

// Status reports, per stream, where the Projector's consumers stand.
func (p *Projector) Status(ctx context.Context) ([]StreamStatus, error) {
	return status(ctx, p.js, p.opts.Name, p.runners)
}

func status(ctx context.Context, js jetstream.JetStream, name string, runners []*projection.Runner) ([]StreamStatus, error) {
	out := make([]StreamStatus, 0, len(Streams))
	for i, s := range Streams {
		st := StreamStatus{Stream: s}
		stream, err := js.Stream(ctx, s)
		if err != nil {
			return nil, fmt.Errorf("projector: stream %s: %w", s, err)
		}
		st.LastSequence = stream.CachedInfo().State.LastSeq
		if info, err := stream.Info(ctx); err == nil {
			st.LastSequence = info.State.LastSeq
		}
		cons, err := js.Consumer(ctx, s, ConsumerName(name, s))
		switch {
		case errors.Is(err, jetstream.ErrConsumerNotFound):
			// Not provisioned yet: nothing is projected.
			st.Pending = st.LastSequence
		case err != nil:
			return nil, fmt.Errorf("projector: consumer %s on %s: %w", ConsumerName(name, s), s, err)
		default:
			info, err := cons.Info(ctx)
			if err != nil {
				return nil, fmt.Errorf("projector: consumer %s on %s: %w", ConsumerName(name, s), s, err)
			}
			st.ProjectedSequence = info.AckFloor.Stream
			st.Pending = info.NumPending + uint64(info.NumAckPending)
		}
		if st.Pending > 0 && runners != nil {
			if lags, err := runners[i].Lag(ctx); err == nil && len(lags) == 1 {
				st.Lag = lags[0].OldestAge
			}
		}
		out = append(out, st)
	}
	return out, nil
}

// DeleteConsumers removes the Projector's consumers (the next Run recreates them at the start
// of the streams). A missing consumer is not an error.
func DeleteConsumers(ctx context.Context, js jetstream.JetStream, name string) error {
	for _, s := range Streams {
		err := js.DeleteConsumer(ctx, s, ConsumerName(name, s))
		if err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
			return fmt.Errorf("projector: delete consumer %s on %s: %w", ConsumerName(name, s), s, err)
		}
	}
	return nil
}

// Control is the projector as the application drives it (app.Projection).
type Control struct {
	Projector *Projector
	Rebuilder *Rebuilder
}

var _ app.Projection = Control{}

// Status implements app.Projection.
func (c Control) Status(ctx context.Context) ([]StreamStatus, error) { return c.Projector.Status(ctx) }

// Rebuild implements app.Projection.
func (c Control) Rebuild(ctx context.Context, progress func([]StreamStatus)) error {
	return c.Rebuilder.Rebuild(ctx, progress)
}

// Rebuilding implements app.Projection.
func (c Control) Rebuilding(ctx context.Context) bool { return c.Rebuilder.Rebuilding(ctx) }
