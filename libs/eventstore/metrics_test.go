package eventstore_test

import (
	"context"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/evcrm/evcrm/libs/eventstore"
)

// TestMetricsCountOutcomes checks that appends, duplicates, conflicts, conflict retries and
// idempotent replays show up in the store's metrics. Not parallel: the metrics are per process,
// and the package's parallel tests start only after the sequential ones are done.
func TestMetricsCountOutcomes(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	require.NoError(t, reg.Register(eventstore.Collector()))
	count := func(name string, labels ...string) float64 {
		t.Helper()
		mfs, err := reg.Gather()
		require.NoError(t, err)
		for _, mf := range mfs {
			if mf.GetName() != name {
				continue
			}
		next:
			for _, m := range mf.GetMetric() {
				for i := 0; i+1 < len(labels); i += 2 {
					found := false
					for _, l := range m.GetLabel() {
						if l.GetName() == labels[i] && l.GetValue() == labels[i+1] {
							found = true
						}
					}
					if !found {
						continue next
					}
				}
				if h := m.GetHistogram(); h != nil {
					return float64(h.GetSampleCount())
				}
				return m.GetCounter().GetValue()
			}
		}
		return 0
	}
	before := map[string]float64{
		"ok":        count("evcrm_eventstore_appends_total", "stream", "CRM_LEADS", "outcome", "ok"),
		"duplicate": count("evcrm_eventstore_appends_total", "stream", "CRM_LEADS", "outcome", "duplicate"),
		"conflict":  count("evcrm_eventstore_appends_total", "stream", "CRM_LEADS", "outcome", "conflict"),
		"latency":   count("evcrm_eventstore_append_duration_seconds", "stream", "CRM_LEADS"),
		"retries":   count("evcrm_eventstore_command_conflict_retries_total", "aggregate_type", "lead"),
		"replays":   count("evcrm_eventstore_idempotent_replays_total", "command", "MetricsProbe"),
	}
	delta := func(key, name string, labels ...string) float64 { return count(name, labels...) - before[key] }

	e := newEnv(t, eventstore.StreamOptions{})
	ctx := context.Background()
	ref := eventstore.Ref{Tenant: "acme", Type: "lead", ID: "metrics"}
	first := eventstore.Event{ID: "0190a000-0000-7000-8000-00000000f001", Payload: wrapperspb.String("created")}
	res, err := e.store.Append(ctx, ref, eventstore.Position{}, first)
	require.NoError(t, err)
	_, err = e.store.Append(ctx, ref, eventstore.Position{}, first) // a retry
	require.NoError(t, err)
	_, err = e.store.Append(ctx, ref, eventstore.Position{}, ev(wrapperspb.String("rival")))
	require.ErrorIs(t, err, eventstore.ErrConcurrency)

	// A repository whose cached position is stale decides again.
	idem, err := eventstore.NewIdempotency(ctx, e.js, eventstore.IdempotencyOptions{Bucket: "IDEM_METRICS"})
	require.NoError(t, err)
	repo := newRepo(t, e.store, eventstore.RepositoryOptions{Idempotency: idem})
	cref := repo.Ref("acme", "metrics-counter")
	_, err = repo.Execute(ctx, cref, eventstore.Command{Name: "Create"}, create("c"))
	require.NoError(t, err)
	_, err = e.store.Append(ctx, cref, eventstore.Position{Version: 1, Sequence: res.Position.Sequence + 1}, ev(wrapperspb.Int64(1)))
	require.NoError(t, err, "a write behind the repository's back")
	cmd := eventstore.Command{Name: "MetricsProbe", IdempotencyKey: "metrics-key"}
	_, err = repo.Execute(ctx, cref, cmd, add(2))
	require.NoError(t, err)
	again, err := repo.Execute(ctx, cref, cmd, add(2))
	require.NoError(t, err)
	require.True(t, again.Replayed)

	assert.Equal(t, 4.0, delta("ok", "evcrm_eventstore_appends_total", "stream", "CRM_LEADS", "outcome", "ok"), "first, create, behind, add")
	assert.Equal(t, 1.0, delta("duplicate", "evcrm_eventstore_appends_total", "stream", "CRM_LEADS", "outcome", "duplicate"))
	assert.Equal(t, 2.0, delta("conflict", "evcrm_eventstore_appends_total", "stream", "CRM_LEADS", "outcome", "conflict"), "the rival and the stale decision")
	assert.Equal(t, 5.0, delta("latency", "evcrm_eventstore_append_duration_seconds", "stream", "CRM_LEADS"), "successful appends are timed")
	assert.Equal(t, 1.0, delta("retries", "evcrm_eventstore_command_conflict_retries_total", "aggregate_type", "lead"))
	assert.Equal(t, 1.0, delta("replays", "evcrm_eventstore_idempotent_replays_total", "command", "MetricsProbe"))

	problems, err := testutil.GatherAndLint(reg)
	require.NoError(t, err)
	for _, p := range problems {
		if !strings.Contains(p.Text, "non-histogram and non-summary metrics should not have \"_count\"") {
			t.Errorf("metric lint: %s: %s", p.Metric, p.Text)
		}
	}
}
