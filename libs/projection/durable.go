package projection

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// pollWait bounds one idle pull request. It only decides how often an idle Runner renews its
// request (a cancelled Run abandons the request at once), so it is not configurable.
const pollWait = 15 * time.Second

// flushTimeout bounds the wait for the server to have received a batch's acks.
const flushTimeout = 5 * time.Second

// durableSource consumes one stream through the shared durable consumer.
type durableSource struct {
	r   *Runner
	src Source

	mu     sync.Mutex
	cons   jetstream.Consumer
	stream jetstream.Stream
}

func (s *durableSource) name() string { return s.src.Stream }

func (s *durableSource) provision(ctx context.Context) error {
	st, err := s.r.js.Stream(ctx, s.src.Stream)
	if err != nil {
		return fmt.Errorf("projection: stream %s: %w", s.src.Stream, err)
	}
	cfg := s.r.cfg
	cons, err := s.r.js.CreateOrUpdateConsumer(ctx, s.src.Stream, jetstream.ConsumerConfig{
		Durable:       cfg.Name,
		Description:   "evcrm projection " + cfg.Name,
		DeliverPolicy: jetstream.DeliverAllPolicy,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       cfg.AckWait,
		MaxAckPending: cfg.MaxAckPending,
		// MaxDeliver stays unlimited on the server: when the server gives up on a message it
		// only emits an advisory, which would drop the event silently. The Runner counts
		// deliveries itself and dead-letters instead.
		FilterSubjects: s.src.FilterSubjects,
	})
	if err != nil {
		return fmt.Errorf("projection: consumer %s on %s: %w", cfg.Name, s.src.Stream, err)
	}
	s.mu.Lock()
	s.cons, s.stream = cons, st
	s.mu.Unlock()
	return nil
}

func (s *durableSource) consumer() (jetstream.Consumer, jetstream.Stream) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cons, s.stream
}

func (s *durableSource) run(ctx, hctx context.Context) {
	log := s.r.log.With("stream", s.src.Stream)
	var fetchErrs, failures int
	for ctx.Err() == nil {
		ds, err := s.fetch(ctx)
		if ctx.Err() != nil {
			// Stopping between batches: give back whatever arrived so another replica takes
			// it now instead of after the ack wait.
			s.release(ds)
			return
		}
		if err != nil {
			fetchErrs++
			log.Warn("projection: fetch failed", "err", err)
			if errors.Is(err, jetstream.ErrConsumerNotFound) || errors.Is(err, jetstream.ErrConsumerDeleted) {
				// Someone deleted the consumer; recreate it (from the start of the stream,
				// which the sink's idempotency absorbs) rather than stall forever.
				if perr := s.provision(ctx); perr != nil {
					log.Warn("projection: recreate consumer failed", "err", perr)
				}
			}
		}
		if len(ds) == 0 {
			if err != nil {
				sleep(ctx, retryDelay(fetchErrs))
			}
			continue
		}
		fetchErrs = 0
		if s.process(ctx, hctx, ds) {
			// Pause the loop too, not only the failed events: if the sink is down, fetching
			// the next batches at full speed would just burn their delivery attempts.
			failures++
			sleep(ctx, s.r.cfg.backoff(uint64(failures)))
		} else {
			failures = 0
		}
	}
}

// fetch returns the next batch: it waits (up to pollWait, or until ctx is cancelled) for one
// event, then takes what else is available up to BatchSize, waiting at most BatchWait for it.
// Two pull requests instead of one Fetch(BatchSize) because a single request would hold the
// first event back until the batch is full or the request expires.
func (s *durableSource) fetch(ctx context.Context) ([]*delivery, error) {
	cons, _ := s.consumer()
	pctx, cancel := context.WithTimeout(ctx, pollWait)
	defer cancel()
	b, err := cons.Fetch(1, jetstream.FetchContext(pctx))
	if err != nil {
		return nil, err
	}
	ds := s.collect(b)
	if ctx.Err() != nil {
		return ds, nil // the caller gives them back
	}
	if len(ds) == 0 {
		err := b.Error()
		if errors.Is(err, context.DeadlineExceeded) {
			err = nil // the idle poll expired
		}
		return nil, err
	}
	if s.r.cfg.BatchSize == 1 {
		return ds, nil
	}
	rest := s.r.cfg.BatchSize - len(ds)
	if wait := s.r.cfg.BatchWait; wait > 0 {
		// FetchMaxWait, not a context deadline: the server ends the request after wait, and
		// the client listens until it says so. With a context the client stops listening at
		// its own deadline (the server's expiry is only 10% earlier), and a message the server
		// sent in between was dropped by the client yet stayed "delivered" on the server:
		// nobody saw it again until AckWait (30 s) — long enough for a later event of its
		// aggregate to give up waiting for it. Shutdown waits for at most this one BatchWait.
		b, err = cons.Fetch(rest, jetstream.FetchMaxWait(wait))
	} else {
		b, err = cons.FetchNoWait(rest)
	}
	if err != nil {
		// The first event is in hand; hand it over rather than fail the round.
		s.r.log.Debug("projection: fill batch failed", "stream", s.src.Stream, "err", err)
		return ds, nil
	}
	return append(ds, s.collect(b)...), nil
}

func (s *durableSource) collect(b jetstream.MessageBatch) []*delivery {
	var ds []*delivery
	for m := range b.Messages() {
		d, err := newDelivery(m, s.r.cfg.Propagator)
		if err != nil {
			s.r.log.Error("projection: skipping message", "stream", s.src.Stream, "subject", m.Subject(), "err", err)
			continue
		}
		ds = append(ds, d)
	}
	return ds
}

// process takes one fetched batch to the end: every delivery is acked (applied or
// dead-lettered) or nakked. It reports whether the handler failed.
func (s *durableSource) process(ctx, hctx context.Context, ds []*delivery) (failed bool) {
	r := s.r
	stop := s.keepAlive(ds)
	defer stop()

	maxDeliver := uint64(r.cfg.MaxDeliver)
	ready := make([]*delivery, 0, len(ds))
	for _, d := range ds {
		var err error
		switch {
		case d.decodeErr != nil:
			err = r.deadLetter(ctx, s, d, CauseUndecodable, d.decodeErr.Error())
		case d.Deliveries > maxDeliver:
			// The earlier deliveries never reported back: the process died or stalled on
			// this event (or was stopped while holding it). Do not risk it once more.
			err = r.deadLetter(ctx, s, d, CauseMaxDeliveries, fmt.Sprintf(
				"delivered %d times, more than MaxDeliver %d, without an attempt completing (process died or ack wait expired)",
				d.Deliveries, maxDeliver))
		default:
			ready = append(ready, d)
			continue
		}
		if err != nil {
			r.log.Error("projection: dead-letter failed; will retry", "stream", d.Stream, "seq", d.Sequence, "err", err)
			s.nak([]*delivery{d})
		}
	}

	groups := groupByAttempt(ready, maxDeliver)
	for i, g := range groups {
		if ctx.Err() != nil {
			for _, g := range groups[i:] {
				s.release(g)
			}
			return failed
		}
		left, err := r.apply(ctx, hctx, s, g)
		if err == nil {
			continue
		}
		if ctx.Err() != nil {
			s.release(left)
			continue
		}
		failed = true
		r.failed(s.src.Stream, len(left), err)
		if len(left) == 1 && left[0].Deliveries >= maxDeliver && !errors.Is(err, errDeadLetter) {
			d := left[0]
			reason := fmt.Sprintf("failed on delivery %d of %d: %v", d.Deliveries, maxDeliver, err)
			if dlErr := r.deadLetter(ctx, s, d, CauseMaxDeliveries, reason); dlErr == nil {
				continue
			}
		}
		s.nak(left)
	}
	return failed
}

// groupByAttempt splits a fetched batch into Handle calls. Events with attempts left travel
// together; an event on its last attempt goes alone, so that if the call fails it is certainly
// that event's fault and dead-lettering it spares the others.
func groupByAttempt(ds []*delivery, maxDeliver uint64) [][]*delivery {
	var groups [][]*delivery
	var cur []*delivery
	for _, d := range ds {
		if d.Deliveries < maxDeliver {
			cur = append(cur, d)
			continue
		}
		if len(cur) > 0 {
			groups, cur = append(groups, cur), nil
		}
		groups = append(groups, []*delivery{d})
	}
	if len(cur) > 0 {
		groups = append(groups, cur)
	}
	return groups
}

// settle acks and waits until the server has the acks, so that a Runner that returns from Run
// and closes its connection has not lost them in a buffer.
func (s *durableSource) settle(_ context.Context, ds []*delivery) {
	for _, d := range ds {
		if err := d.msg.Ack(); err != nil && !errors.Is(err, jetstream.ErrMsgAlreadyAckd) {
			s.r.log.Warn("projection: ack failed; the event will be redelivered", "stream", d.Stream, "seq", d.Sequence, "err", err)
		}
	}
	s.flush()
}

// nak schedules redelivery after the backoff for each event's attempt count.
func (s *durableSource) nak(ds []*delivery) {
	for _, d := range ds {
		if err := d.msg.NakWithDelay(s.r.cfg.backoff(d.Deliveries)); err != nil {
			s.r.log.Warn("projection: nak failed; the event returns after the ack wait", "stream", d.Stream, "seq", d.Sequence, "err", err)
		}
	}
	s.flush()
}

// release gives deliveries back without delay because the Runner is stopping, not failing.
func (s *durableSource) release(ds []*delivery) {
	for _, d := range ds {
		_ = d.msg.Nak() // best effort: if it is lost the ack wait returns the event anyway
	}
	s.flush()
}

func (s *durableSource) flush() {
	if err := s.r.js.Conn().FlushTimeout(flushTimeout); err != nil {
		s.r.log.Warn("projection: flush acks failed", "stream", s.src.Stream, "err", err)
	}
}

// keepAlive tells the server the batch is still being worked on, so a slow Handle (a big
// ClickHouse insert) does not get its events redelivered to another replica meanwhile.
func (s *durableSource) keepAlive(ds []*delivery) (stop func()) {
	every := max(s.r.cfg.AckWait/3, 10*time.Millisecond)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				for _, d := range ds {
					// Fails harmlessly (ErrMsgAlreadyAckd) for deliveries already settled.
					_ = d.msg.InProgress()
				}
			}
		}
	})
	return func() { close(done); wg.Wait() }
}

func (s *durableSource) lag(ctx context.Context) (StreamLag, error) {
	cons, st := s.consumer()
	if cons == nil {
		return StreamLag{Stream: s.src.Stream}, fmt.Errorf("%w (stream %s)", ErrNotProvisioned, s.src.Stream)
	}
	info, err := cons.Info(ctx)
	if err != nil {
		return StreamLag{Stream: s.src.Stream}, fmt.Errorf("projection: consumer info %s: %w", s.src.Stream, err)
	}
	// Everything after the ack floor that is not acked: never delivered (NumPending) plus
	// delivered and waiting for an ack or a redelivery (NumAckPending).
	pending := info.NumPending + uint64(info.NumAckPending)
	return oldestPending(ctx, st, s.src, info.AckFloor.Stream, pending)
}
