package projection

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/trace"
)

// Runner feeds events from JetStream to a Handler. Create it with [NewDurable] or [NewOrdered]
// and call [Runner.Run]; the package documentation describes the guarantees.
type Runner struct {
	js      jetstream.JetStream
	cfg     Config
	h       Handler
	cp      Checkpointer // ordered mode only
	sources []source
	metrics *Metrics
	stats   stats
	log     *slog.Logger
	tracer  trace.Tracer
	// turn serialises Handle calls across the per-stream loops; a channel rather than a mutex
	// so that waiting for it can be abandoned when Run stops.
	turn    chan struct{}
	running atomic.Bool
}

// source is one consumed stream: a durable consumer or an ordered one.
type source interface {
	name() string
	// provision makes sure the stream (and, for durable, the consumer) exists.
	provision(ctx context.Context) error
	// run consumes until ctx is cancelled; hctx is the context Handle calls get.
	run(ctx, hctx context.Context)
	// settle marks deliveries as done for good (applied or dead-lettered): an ack for a
	// durable consumer, nothing for an ordered one, whose sink holds the checkpoint.
	settle(ctx context.Context, ds []*delivery)
	lag(ctx context.Context) (StreamLag, error)
}

// NewDurable creates a Runner that consumes each source through a durable pull consumer named
// cfg.Name with explicit acks. The consumer's ack floor is the checkpoint; h must tolerate
// redelivery of events it has already applied (be idempotent by stream and sequence, or by
// event_id). Runners with the same Name in several processes share the work.
func NewDurable(js jetstream.JetStream, cfg Config, h Handler) (*Runner, error) {
	r, err := newRunner(js, cfg, h)
	if err != nil {
		return nil, err
	}
	for _, s := range r.cfg.Sources {
		r.sources = append(r.sources, &durableSource{r: r, src: s})
	}
	return r, nil
}

// NewOrdered creates a Runner that consumes each source through an ordered consumer starting
// right after h's checkpoint for that stream. h stores its checkpoint with its data inside
// Handle, which makes delivery exactly-once without acks; nothing is stored on the server, so
// every replica keeps its own position.
func NewOrdered(js jetstream.JetStream, cfg Config, h CheckpointHandler) (*Runner, error) {
	r, err := newRunner(js, cfg, h)
	if err != nil {
		return nil, err
	}
	r.cp = h
	for _, s := range r.cfg.Sources {
		r.sources = append(r.sources, &orderedSource{r: r, src: s})
	}
	return r, nil
}

func newRunner(js jetstream.JetStream, cfg Config, h Handler) (*Runner, error) {
	if js == nil || h == nil {
		return nil, errors.New("projection: JetStream and handler are required")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	r := &Runner{
		js:      js,
		cfg:     cfg,
		h:       h,
		metrics: cfg.Metrics,
		log:     cfg.Logger.With("projection", cfg.Name),
		turn:    make(chan struct{}, 1),
	}
	if r.metrics == nil {
		r.metrics = NewMetrics()
	}
	tp := cfg.TracerProvider
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	r.tracer = tp.Tracer(tracerName)
	return r, nil
}

// Name is the projection name from the Config.
func (r *Runner) Name() string { return r.cfg.Name }

// Stats returns the Runner's counts since it was created.
func (r *Runner) Stats() Stats { return r.stats.snapshot() }

// Provision creates what the Runner needs on the server: the dead-letter stream if missing and,
// for a durable Runner, the consumers (created or updated to match the Config). It checks that
// the source streams exist. Run calls it; call it yourself to fail fast at startup or to read
// Lag before the first Run.
func (r *Runner) Provision(ctx context.Context) error {
	if err := r.ensureDeadLetterStream(ctx); err != nil {
		return err
	}
	for _, s := range r.sources {
		if err := s.provision(ctx); err != nil {
			return err
		}
	}
	return nil
}

// Run consumes until ctx is cancelled, then returns nil once the batch in flight has been
// settled: acked if Handle finished it, given back to the server (nak) if not. Failures while
// running (server restarts, handler errors) are logged and retried, and so is Provision: a
// stream its owning service has not created yet is waited for. Call Provision before Run to
// fail fast on misconfiguration instead. Run returns an error only if it is already running.
func (r *Runner) Run(ctx context.Context) error {
	if !r.running.CompareAndSwap(false, true) {
		return errors.New("projection: Run called while already running")
	}
	defer r.running.Store(false)
	for attempt := 1; ; attempt++ {
		err := r.Provision(ctx)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return nil
		}
		r.log.Warn("projection: provisioning failed; retrying", "attempt", attempt, "err", err)
		if !sleep(ctx, retryDelay(attempt)) {
			return nil
		}
	}
	hctx, stopHandlers := handlerContext(ctx, r.cfg.StopGrace)
	defer stopHandlers()

	var wg sync.WaitGroup
	for _, s := range r.sources {
		wg.Go(func() { s.run(ctx, hctx) })
	}
	if r.cfg.LagInterval > 0 {
		wg.Go(func() { r.refreshLag(ctx) })
	}
	wg.Wait()
	return nil
}

// handlerContext is the context Handle calls run in: Run's values, cancelled grace after Run's
// context so that a batch in flight at shutdown can still commit.
func handlerContext(ctx context.Context, grace time.Duration) (context.Context, context.CancelFunc) {
	if grace <= 0 {
		return ctx, func() {}
	}
	hctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, func() { time.AfterFunc(grace, cancel) })
	return hctx, func() { stop(); cancel() }
}

// errDeadLetter marks failures to append to the dead-letter stream, as opposed to handler
// failures: they must never themselves lead to a dead letter.
var errDeadLetter = errors.New("projection: dead-letter append failed")

// invoke makes one Handle call, in its turn, in a consumer span, measured and with panics
// turned into errors (a panicking event then follows the normal road to the dead letters
// instead of crash-looping every replica).
func (r *Runner) invoke(ctx, hctx context.Context, stream string, ds []*delivery) (err error) {
	select {
	case r.turn <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-r.turn }()
	// Both select cases may have been ready: never start a batch after Run was told to stop.
	if err := ctx.Err(); err != nil {
		return err
	}
	sctx, span := r.startBatchSpan(hctx, stream, ds)
	start := time.Now()
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("projection: handler panicked: %v", p)
			r.log.Error("projection: handler panicked", "stream", stream, "panic", p, "stack", string(debug.Stack()))
		}
		outcome := "ok"
		if err != nil {
			outcome = "error"
		}
		r.metrics.batchDuration.WithLabelValues(r.cfg.Name, stream, outcome).Observe(time.Since(start).Seconds())
		r.metrics.batchEvents.WithLabelValues(r.cfg.Name, stream).Observe(float64(len(ds)))
		endSpan(span, err)
	}()
	return r.h.Handle(sctx, eventsOf(ds))
}

// apply offers ds to the handler until it accepts them, dead-lettering the events it declares
// poison on the way (the rest is offered again at once: the poison, not they, made the call
// fail). It returns the deliveries left unsettled, in order, and the error that stopped it.
func (r *Runner) apply(ctx, hctx context.Context, src source, ds []*delivery) ([]*delivery, error) {
	for len(ds) > 0 {
		err := r.invoke(ctx, hctx, src.name(), ds)
		if err == nil {
			src.settle(ctx, ds)
			r.stats.processed.Add(uint64(len(ds)))
			r.metrics.processed.WithLabelValues(r.cfg.Name, src.name()).Add(float64(len(ds)))
			return nil, nil
		}
		poison := poisonReasons(err, ds)
		if len(poison) == 0 {
			return ds, err
		}
		rest := make([]*delivery, 0, len(ds))
		for i, d := range ds {
			reason, ok := poison[d.Sequence]
			if !ok {
				rest = append(rest, d)
				continue
			}
			if dlErr := r.deadLetter(ctx, src, d, CausePoison, reason); dlErr != nil {
				return append(rest, ds[i:]...), fmt.Errorf("%w: %w", errDeadLetter, dlErr)
			}
		}
		ds = rest
	}
	return nil, nil
}

// failed records a failed Handle call (its events are then retried or, on their last
// attempt, dead-lettered).
func (r *Runner) failed(stream string, n int, err error) {
	r.stats.failures.Add(1)
	r.metrics.failures.WithLabelValues(r.cfg.Name, stream).Inc()
	r.log.Warn("projection: batch failed", "stream", stream, "events", n, "err", err)
}

// refreshLag keeps the lag gauges current between scrapes without making every scrape a
// round trip to JetStream.
func (r *Runner) refreshLag(ctx context.Context) {
	t := time.NewTicker(r.cfg.LagInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			lctx, cancel := context.WithTimeout(ctx, r.cfg.LagInterval)
			if _, err := r.Lag(lctx); err != nil && ctx.Err() == nil {
				r.log.Debug("projection: lag refresh failed", "err", err)
			}
			cancel()
		}
	}
}

// sleep waits d or until ctx is done, reporting whether the full wait elapsed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// retryDelay paces retries of infrastructure errors (fetch, checkpoint reads): quick at first
// so a server restart costs little, capped so a long outage does not spin.
func retryDelay(n int) time.Duration {
	d := 50 * time.Millisecond << min(n, 7)
	return min(d, 5*time.Second)
}
