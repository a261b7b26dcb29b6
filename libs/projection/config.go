package projection

import (
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// Defaults applied by [Config] for zero fields.
const (
	DefaultBatchSize     = 100
	DefaultAckWait       = 30 * time.Second
	DefaultMaxAckPending = 1000
	DefaultMaxDeliver    = 10
	DefaultLagInterval   = 15 * time.Second
)

// DefaultBackoff is the delay before a failed batch is offered again, indexed by the failed
// attempt (the last entry repeats). With DefaultMaxDeliver it spans about 25 minutes, long
// enough to ride out a restart of the sink's database without dead-lettering healthy events.
var DefaultBackoff = []time.Duration{
	time.Second, 5 * time.Second, 30 * time.Second, time.Minute, 2 * time.Minute, 5 * time.Minute,
}

// Source is one stream a Runner consumes, optionally narrowed to some subjects.
type Source struct {
	// Stream is the JetStream stream name, e.g. "CRM_LEADS".
	Stream string
	// FilterSubjects narrows the stream to these subjects (wildcards allowed), e.g.
	// "crm.*.lead.>". Empty means every subject of the stream.
	FilterSubjects []string
}

// Config configures a Runner. Zero values take the documented defaults.
type Config struct {
	// Name identifies the projection. It is the durable consumer name on every source stream
	// (replicas that share a Name share the work), the "projection" metric label and part of the
	// dead-letter subject. Restricted to [A-Za-z0-9_-].
	Name string
	// Sources are the streams to consume; one stream at most once.
	Sources []Source

	// BatchSize bounds the number of events per Handle call. Default DefaultBatchSize.
	BatchSize int
	// BatchWait bounds how long the Runner waits for a batch to fill once its first event has
	// arrived. Zero hands over whatever is available at once, which suits read models that want
	// low latency; a bulk sink such as ClickHouse sets about a second to get larger inserts.
	BatchWait time.Duration

	// MaxDeliver is how many times an event is offered to the handler before it is
	// dead-lettered. Default DefaultMaxDeliver. The Runner enforces it itself (the durable
	// consumer is created without a server-side limit) so an event is never silently dropped by
	// the server.
	MaxDeliver int
	// Backoff is the delay before a failed batch is offered again: entry i after the (i+1)-th
	// failed attempt, the last entry repeating. Default DefaultBackoff.
	Backoff []time.Duration

	// AckWait is how long the server waits for an ack before it redelivers (durable only). The
	// Runner keeps long batches alive with progress acks, so this only matters when a process
	// dies. Default DefaultAckWait.
	AckWait time.Duration
	// MaxAckPending bounds the events handed out and not yet acked, across all replicas
	// (durable only). Default DefaultMaxAckPending.
	MaxAckPending int

	// StopGrace is how long a Handle call in flight may keep running after Run's context is
	// cancelled before its own context is cancelled. Zero cancels both together.
	StopGrace time.Duration

	// DeadLetterStream is the stream dead letters are written to; it is created with subjects
	// "dlq.>" if missing. Default DefaultDeadLetterStream.
	DeadLetterStream string
	// DeadLetterReplicas is the replica count used when the Runner creates the dead-letter
	// stream (1 in development, 3 on a production cluster). Default 1.
	DeadLetterReplicas int

	// LagInterval is how often Run refreshes the lag gauges. Default DefaultLagInterval;
	// negative disables the refresh (Lag still works on demand).
	LagInterval time.Duration

	// Metrics receives the Runner's metrics; share one Metrics between Runners of a process and
	// register it once. Nil keeps the metrics private (Stats still works).
	Metrics *Metrics
	// Logger receives operational logs. Default slog.Default().
	Logger *slog.Logger
	// TracerProvider creates the consumer spans. Default: the global provider.
	TracerProvider trace.TracerProvider
	// Propagator extracts trace context from message headers. Default: the global propagator
	// (W3C trace context and baggage once platform/telemetry is set up), the one
	// platform/natstrace injects with on publish.
	Propagator propagation.TextMapPropagator
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

func (c Config) withDefaults() Config {
	if c.BatchSize <= 0 {
		c.BatchSize = DefaultBatchSize
	}
	if c.MaxDeliver <= 0 {
		c.MaxDeliver = DefaultMaxDeliver
	}
	if len(c.Backoff) == 0 {
		c.Backoff = DefaultBackoff
	}
	if c.AckWait <= 0 {
		c.AckWait = DefaultAckWait
	}
	if c.MaxAckPending <= 0 {
		c.MaxAckPending = DefaultMaxAckPending
	}
	if c.DeadLetterStream == "" {
		c.DeadLetterStream = DefaultDeadLetterStream
	}
	if c.DeadLetterReplicas <= 0 {
		c.DeadLetterReplicas = 1
	}
	if c.LagInterval == 0 {
		c.LagInterval = DefaultLagInterval
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Propagator == nil {
		c.Propagator = otel.GetTextMapPropagator()
	}
	return c
}

// Validate reports what is wrong with the configuration, if anything.
func (c Config) Validate() error {
	var errs []error
	if !nameRE.MatchString(c.Name) {
		errs = append(errs, fmt.Errorf("name %q must match %s", c.Name, nameRE))
	}
	if len(c.Sources) == 0 {
		errs = append(errs, errors.New("at least one source is required"))
	}
	seen := map[string]bool{}
	for i, s := range c.Sources {
		switch {
		case s.Stream == "":
			errs = append(errs, fmt.Errorf("source %d: stream is required", i))
		case seen[s.Stream]:
			// One consumer per stream and runner: two filters on one stream belong in one Source.
			errs = append(errs, fmt.Errorf("source %d: stream %s listed twice; merge the filters", i, s.Stream))
		}
		seen[s.Stream] = true
	}
	for _, d := range c.Backoff {
		if d < 0 {
			errs = append(errs, errors.New("backoff delays must not be negative"))
			break
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("projection: invalid config: %w", errors.Join(errs...))
	}
	return nil
}

// backoff is the delay after the given failed attempt (1-based).
func (c Config) backoff(attempt uint64) time.Duration {
	i := int(min(attempt, uint64(len(c.Backoff)))) - 1
	return c.Backoff[max(i, 0)]
}
