package testkit

import (
	"context"
	"testing"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/evcrm/evcrm/libs/projection"
)

// Processed is how many events a projection counted as processed in m
// (evcrm_projection_events_processed_total), for the projection named name and stream; ""
// for either counts them all. Tests of replicas sharing a durable consumer use it to see how
// the work was split.
func Processed(t testing.TB, m *projection.Metrics, name, stream string) float64 {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(m)
	mfs, err := reg.Gather()
	require.NoError(t, err)
	var n float64
	for _, mf := range mfs {
		if mf.GetName() != "evcrm_projection_events_processed_total" {
			continue
		}
		for _, c := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range c.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if (name == "" || labels["projection"] == name) && (stream == "" || labels["stream"] == stream) {
				n += c.GetCounter().GetValue()
			}
		}
	}
	return n
}

// SubjectCounts returns how many messages stream holds per subject matching filter: a test's
// way to check that each event it expects was stored exactly once.
func SubjectCounts(t testing.TB, js jetstream.JetStream, stream, filter string) map[string]uint64 {
	t.Helper()
	s, err := js.Stream(context.Background(), stream)
	require.NoError(t, err)
	info, err := s.Info(context.Background(), jetstream.WithSubjectFilter(filter))
	require.NoError(t, err)
	return info.State.Subjects
}
