package projection

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics holds the Prometheus metrics of every Runner in a process, labelled by projection
// (the Runner's Name) and stream. It is a prometheus.Collector: create it once with
// [NewMetrics], register it, and pass it to each Runner's Config.
//
// Exported series:
//
//	evcrm_projection_events_processed_total{projection,stream}       events applied
//	evcrm_projection_events_dead_lettered_total{projection,stream,cause}
//	evcrm_projection_handler_failures_total{projection,stream}       failed Handle calls
//	evcrm_projection_batch_duration_seconds{projection,stream,outcome} Handle latency
//	evcrm_projection_lag_pending_events{projection,stream}           events not yet applied
//	evcrm_projection_lag_oldest_age_seconds{projection,stream}       age of the oldest of them
type Metrics struct {
	processed     *prometheus.CounterVec
	deadLettered  *prometheus.CounterVec
	failures      *prometheus.CounterVec
	batchDuration *prometheus.HistogramVec
	batchEvents   *prometheus.HistogramVec
	lagPending    *prometheus.GaugeVec
	lagAge        *prometheus.GaugeVec
}

// NewMetrics creates unregistered metrics.
func NewMetrics() *Metrics {
	labels := []string{"projection", "stream"}
	return &Metrics{
		processed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "evcrm", Subsystem: "projection", Name: "events_processed_total",
			Help: "Events the handler applied.",
		}, labels),
		deadLettered: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "evcrm", Subsystem: "projection", Name: "events_dead_lettered_total",
			Help: "Events written to the dead-letter stream, by cause (undecodable, poison, max_deliveries).",
		}, append(labels, "cause")),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "evcrm", Subsystem: "projection", Name: "handler_failures_total",
			Help: "Handle calls that failed and were retried later.",
		}, labels),
		batchDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "evcrm", Subsystem: "projection", Name: "batch_duration_seconds",
			Help:    "Time spent in Handle per batch, by outcome (ok, error).",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 9), // 1ms .. ~65s
		}, append(labels, "outcome")),
		batchEvents: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "evcrm", Subsystem: "projection", Name: "batch_events",
			Help:    "Events per Handle call: how full batches are (a bulk sink far below its batch size is inserting too often).",
			Buckets: prometheus.ExponentialBuckets(1, 4, 8), // 1 .. 16384
		}, labels),
		lagPending: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "evcrm", Subsystem: "projection", Name: "lag_pending_events",
			Help: "Events of the stream not yet applied (undelivered plus delivered and unacked).",
		}, labels),
		lagAge: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "evcrm", Subsystem: "projection", Name: "lag_oldest_age_seconds",
			Help: "Age of the oldest event not yet applied; 0 when caught up.",
		}, labels),
	}
}

func (m *Metrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.processed, m.deadLettered, m.failures, m.batchDuration, m.batchEvents, m.lagPending, m.lagAge}
}

// Describe implements prometheus.Collector.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	for _, c := range m.collectors() {
		c.Describe(ch)
	}
}

// Collect implements prometheus.Collector.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	for _, c := range m.collectors() {
		c.Collect(ch)
	}
}

// Stats are a Runner's counts since it was created.
type Stats struct {
	// Processed counts events the handler applied.
	Processed uint64
	// DeadLettered counts events written to the dead-letter stream.
	DeadLettered uint64
	// Failures counts Handle calls that failed (and were retried or dead-lettered).
	Failures uint64
}

type stats struct {
	processed, deadLettered, failures atomic.Uint64
}

func (s *stats) snapshot() Stats {
	return Stats{Processed: s.processed.Load(), DeadLettered: s.deadLettered.Load(), Failures: s.failures.Load()}
}
