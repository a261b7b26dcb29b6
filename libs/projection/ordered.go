package projection

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// minCollectWait is how long an ordered Runner with BatchWait 0 looks for more buffered
// events after the first one: enough to drain what the iterator already holds, too short to
// add noticeable latency.
const minCollectWait = time.Millisecond

// orderedSource consumes one stream through an ordered consumer that starts after the sink's
// checkpoint. Failed batches are retried from memory (there is nothing to nak) and the attempt
// count is kept here instead of by the server.
type orderedSource struct {
	r   *Runner
	src Source

	mu     sync.Mutex
	stream jetstream.Stream
	cons   jetstream.Consumer // nil unless consuming
	pos    orderedPosition
}

// orderedPosition is what Lag needs to know about the consumer in this process.
type orderedPosition struct {
	// settledSeq is the last stream sequence of the last settled batch (at start: the
	// checkpoint).
	settledSeq uint64
	// received and settled count deliveries since the consumer was created; the difference is
	// what the Runner holds in hand.
	received, settled uint64
	// lastConsumer and lastConsumerSeq locate the last delivery received, to tell how many the
	// iterator has buffered beyond it.
	lastConsumer    string
	lastConsumerSeq uint64
}

func (s *orderedSource) name() string { return s.src.Stream }

func (s *orderedSource) provision(ctx context.Context) error {
	st, err := s.r.js.Stream(ctx, s.src.Stream)
	if err != nil {
		return fmt.Errorf("projection: stream %s: %w", s.src.Stream, err)
	}
	s.mu.Lock()
	s.stream = st
	s.mu.Unlock()
	return nil
}

func (s *orderedSource) run(ctx, hctx context.Context) {
	errs := 0
	for ctx.Err() == nil {
		progressed, err := s.consume(ctx, hctx)
		if ctx.Err() != nil {
			return
		}
		if progressed {
			errs = 0
		}
		errs++
		s.r.log.Warn("projection: ordered consumer stopped; resuming from the checkpoint", "stream", s.src.Stream, "err", err)
		sleep(ctx, retryDelay(errs))
	}
}

// consume reads the sink's checkpoint, starts an ordered consumer right after it and handles
// batches until ctx is cancelled or the consumer fails. Every (re)start goes back to the sink's
// checkpoint, the only position that is certainly consistent with the data.
func (s *orderedSource) consume(ctx, hctx context.Context) (progressed bool, err error) {
	cps, err := s.r.cp.Checkpoint(ctx)
	if err != nil {
		return false, fmt.Errorf("read checkpoint: %w", err)
	}
	cp := cps[s.src.Stream]
	cfg := jetstream.OrderedConsumerConfig{
		FilterSubjects: s.src.FilterSubjects,
		DeliverPolicy:  jetstream.DeliverAllPolicy,
	}
	if cp > 0 {
		cfg.DeliverPolicy = jetstream.DeliverByStartSequencePolicy
		cfg.OptStartSeq = cp + 1
	}
	cons, err := s.r.js.OrderedConsumer(ctx, s.src.Stream, cfg)
	if err != nil {
		return false, fmt.Errorf("create ordered consumer: %w", err)
	}
	defer s.deleteConsumer(cons)
	// Buffer about two batches: enough to keep the pipe full while Handle runs, little enough
	// that a restart re-reads nothing much.
	it, err := cons.Messages(jetstream.PullMaxMessages(2 * s.r.cfg.BatchSize))
	if err != nil {
		return false, fmt.Errorf("consume: %w", err)
	}
	defer it.Stop()
	// Next honours ctx while waiting for messages but not while the library re-creates a
	// consumer after a server restart; stopping the iterator ends that too.
	defer context.AfterFunc(ctx, it.Stop)()

	s.mu.Lock()
	s.cons = cons
	s.pos = orderedPosition{settledSeq: cp}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.cons = nil
		s.mu.Unlock()
	}()

	for {
		ds, err := s.collect(ctx, it)
		if err != nil {
			return progressed, err
		}
		if !s.handleBatch(ctx, hctx, ds) {
			return progressed, ctx.Err()
		}
		progressed = true
	}
}

// deleteConsumer removes the server-side consumer at once instead of leaving it to expire
// after its inactivity threshold, so restarts do not pile up consumers.
func (s *orderedSource) deleteConsumer(cons jetstream.Consumer) {
	info := cons.CachedInfo()
	if info == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), flushTimeout)
	defer cancel()
	_ = s.r.js.DeleteConsumer(ctx, s.src.Stream, info.Name) // best effort; it expires anyway
}

// collect waits for one event, then takes what else arrives within BatchWait, up to BatchSize.
func (s *orderedSource) collect(ctx context.Context, it jetstream.MessagesContext) ([]*delivery, error) {
	m, err := it.Next(jetstream.NextContext(ctx))
	if err != nil {
		return nil, err
	}
	ds := s.receive(nil, m)
	deadline := time.Now().Add(max(s.r.cfg.BatchWait, minCollectWait))
	for len(ds) < s.r.cfg.BatchSize {
		wait := time.Until(deadline)
		if wait <= 0 {
			break
		}
		m, err := it.Next(jetstream.NextMaxWait(wait))
		if err != nil {
			break // timeout; anything worse shows up on the next first Next
		}
		ds = s.receive(ds, m)
	}
	return ds, nil
}

func (s *orderedSource) receive(ds []*delivery, m jetstream.Msg) []*delivery {
	d, err := newDelivery(m, s.r.cfg.Propagator)
	if err != nil {
		s.r.log.Error("projection: skipping message", "stream", s.src.Stream, "subject", m.Subject(), "err", err)
		return ds
	}
	s.mu.Lock()
	s.pos.received++
	s.pos.lastConsumer, s.pos.lastConsumerSeq = d.consumer, d.consumerSeq
	s.mu.Unlock()
	return append(ds, d)
}

// handleBatch settles ds in order: applied or dead-lettered, retrying with backoff until
// that is done. It returns false only when ctx is cancelled first.
func (s *orderedSource) handleBatch(ctx, hctx context.Context, ds []*delivery) bool {
	r := s.r
	pending := ds
	for attempt := uint64(1); ; attempt++ {
		if ctx.Err() != nil {
			return false
		}
		for _, d := range pending {
			d.Deliveries = attempt
		}
		left, err := s.attempt(ctx, hctx, pending, attempt >= uint64(r.cfg.MaxDeliver))
		if err == nil {
			s.done(ds)
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		r.failed(s.src.Stream, len(left), err)
		if !sleep(ctx, r.cfg.backoff(attempt)) {
			return false
		}
		// A Handle that committed and still returned an error, or a sink that is not quite
		// atomic, must not see committed events again: trust the checkpoint over memory.
		if cps, cerr := r.cp.Checkpoint(ctx); cerr == nil {
			left = after(left, cps[s.src.Stream])
		} else {
			r.log.Warn("projection: read checkpoint failed", "stream", s.src.Stream, "err", cerr)
		}
		if len(left) == 0 {
			s.done(ds)
			return true
		}
		pending = left
	}
}

// attempt offers ds once, in order, and returns what is left unsettled from the first failure
// on. Nothing after an unsettled event may be applied, because the sink's checkpoint is a
// high-water mark: applying past a gap would lose the gap on the next restart. On the final
// attempt events go one by one, and one that fails alone is dead-lettered.
func (s *orderedSource) attempt(ctx, hctx context.Context, ds []*delivery, final bool) ([]*delivery, error) {
	r := s.r
	for i := 0; i < len(ds); {
		if d := ds[i]; d.decodeErr != nil {
			if err := r.deadLetter(ctx, s, d, CauseUndecodable, d.decodeErr.Error()); err != nil {
				return ds[i:], fmt.Errorf("%w: %w", errDeadLetter, err)
			}
			i++
			continue
		}
		j := i + 1
		if !final {
			for j < len(ds) && ds[j].decodeErr == nil {
				j++
			}
		}
		left, err := r.apply(ctx, hctx, s, ds[i:j])
		if err != nil {
			if final && len(left) == 1 && ctx.Err() == nil && !errors.Is(err, errDeadLetter) {
				r.failed(s.src.Stream, 1, err)
				reason := fmt.Sprintf("failed on attempt %d of %d: %v", left[0].Deliveries, r.cfg.MaxDeliver, err)
				if dlErr := r.deadLetter(ctx, s, left[0], CauseMaxDeliveries, reason); dlErr != nil {
					return concat(left, ds[j:]), fmt.Errorf("%w: %w", errDeadLetter, dlErr)
				}
				i = j
				continue
			}
			return concat(left, ds[j:]), err
		}
		i = j
	}
	return nil, nil
}

// settle has nothing to tell the server: an ordered consumer is not acked, and the sink's
// checkpoint records what is applied.
func (s *orderedSource) settle(context.Context, []*delivery) {}

func (s *orderedSource) done(ds []*delivery) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pos.settledSeq = max(s.pos.settledSeq, ds[len(ds)-1].Sequence)
	s.pos.settled += uint64(len(ds))
}

func (s *orderedSource) lag(ctx context.Context) (StreamLag, error) {
	s.mu.Lock()
	cons, st, pos := s.cons, s.stream, s.pos
	s.mu.Unlock()
	if cons == nil {
		return StreamLag{}, fmt.Errorf("%w (stream %s)", ErrNotProvisioned, s.src.Stream)
	}
	info, err := cons.Info(ctx)
	if err != nil {
		return StreamLag{}, fmt.Errorf("projection: consumer info %s: %w", s.src.Stream, err)
	}
	// Not yet applied = not yet delivered by the server (NumPending) + delivered into the
	// iterator's buffer + received and not yet settled. The library replaces the server
	// consumer after a gap or a server restart; deliveries to a replaced one have all been
	// received already.
	buffered := info.Delivered.Consumer
	if pos.lastConsumer == info.Name {
		buffered -= min(pos.lastConsumerSeq, buffered)
	}
	inHand := pos.received - pos.settled
	return oldestPending(ctx, st, s.src, pos.settledSeq, info.NumPending+buffered+inHand)
}

// after drops the deliveries at or below seq.
func after(ds []*delivery, seq uint64) []*delivery {
	out := ds[:0:0]
	for _, d := range ds {
		if d.Sequence > seq {
			out = append(out, d)
		}
	}
	return out
}

func concat(a, b []*delivery) []*delivery {
	out := make([]*delivery, 0, len(a)+len(b))
	return append(append(out, a...), b...)
}
