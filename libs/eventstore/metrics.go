package eventstore

import (
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// The store's metrics are package-level, unlike projection.Metrics: every service builds its
// stores and repositories in its own service package, and threading a registry through all of
// them would touch every constructor for counters that mean the same in each. A process
// registers them once with [Collector] (libs/platform/daemon does).
var (
	appendsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "evcrm", Subsystem: "eventstore", Name: "appends_total",
		Help: "Appends by stream and outcome: ok, duplicate (a retried append recognised), conflict (the aggregate moved past the expected version), error (unavailable, timeout, invalid).",
	}, []string{"stream", "outcome"})
	appendDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: "evcrm", Subsystem: "eventstore", Name: "append_duration_seconds",
		Help:    "Time of one append (one atomic batch) until JetStream acknowledged it, by stream.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"stream"})
	conflictRetries = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "evcrm", Subsystem: "eventstore", Name: "command_conflict_retries_total",
		Help: "Commands decided again because another writer appended to the aggregate first, by aggregate type (conflicts a client sees are grpc_server_handled_total{grpc_code=\"Aborted\"}).",
	}, []string{"aggregate_type"})
	idempotentReplays = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "evcrm", Subsystem: "eventstore", Name: "idempotent_replays_total",
		Help: "Commands answered with the result of an earlier command with the same idempotency key (deduplicated retries and redeliveries), by command.",
	}, []string{"command"})
	snapshotLoads = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "evcrm", Subsystem: "eventstore", Name: "snapshot_loads_total",
		Help: "Aggregates missing from the in-memory cache, looked up in the snapshot store, by aggregate type and outcome: hit, miss (none stored), stale_schema (stored for another state schema), error (unreadable).",
	}, []string{"aggregate_type", "outcome"})
)

// Collector returns the event store's metrics (appends by outcome, append latency, conflict
// retries, idempotent replays, snapshot loads) for registration on a service's registry. Register it once per
// registry; the counts are per process.
func Collector() prometheus.Collector { return collector{} }

type collector struct{}

func (collector) Describe(ch chan<- *prometheus.Desc) {
	appendsTotal.Describe(ch)
	appendDuration.Describe(ch)
	conflictRetries.Describe(ch)
	idempotentReplays.Describe(ch)
	snapshotLoads.Describe(ch)
}

func (collector) Collect(ch chan<- prometheus.Metric) {
	appendsTotal.Collect(ch)
	appendDuration.Collect(ch)
	conflictRetries.Collect(ch)
	idempotentReplays.Collect(ch)
	snapshotLoads.Collect(ch)
}

func observeAppend(stream string, start time.Time, res AppendResult, err error) {
	outcome := "ok"
	switch {
	case errors.Is(err, ErrConcurrency):
		outcome = "conflict"
	case err != nil:
		outcome = "error"
	case res.Duplicate:
		outcome = "duplicate"
	}
	appendsTotal.WithLabelValues(stream, outcome).Inc()
	if err == nil {
		appendDuration.WithLabelValues(stream).Observe(time.Since(start).Seconds())
	}
}
