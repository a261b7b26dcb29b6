package projection_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/evcrm/evcrm/libs/projection"
)

// The tests in this file run against both kinds of Runner: they are the contract every sink
// relies on, whichever consumer feeds it.

// A handler that fails, then is killed in the middle of a batch, then comes back after a NATS
// restart: every event ends up applied exactly once.
func TestExactlyOnceAcrossFailureCancelAndRestart(t *testing.T) {
	t.Parallel()
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			n, js := startJetStream(t)
			want := keys(leads, publishLeads(t, js, 40)...)
			for i := range 20 {
				want[evKey{pipeline, publish(t, js, "opportunity", fmt.Sprintf("O%d", i), "OpportunityCreated")}] = true
			}

			sink := newSink()
			inFlight := make(chan []projection.Event, 1)
			sink.hook = func(ctx context.Context, call int, evs []projection.Event) error {
				switch call {
				case 3:
					return errors.New("database unavailable")
				case 6:
					// Killed mid-batch: hold the batch until the Runner is stopped.
					inFlight <- evs
					<-ctx.Done()
					return ctx.Err()
				}
				return nil
			}
			cfg := testConfig("readmodel", leads, pipeline)
			cfg.BatchSize = 7
			// The server does not persist a nak across its own restart: the batch given back
			// at stop is redelivered only when its ack wait expires. Keep that short here.
			cfg.AckWait = 2 * time.Second

			r1, err := m.new(js, cfg, sink)
			require.NoError(t, err)
			rn := start(t, r1)
			var interrupted []projection.Event
			select {
			case interrupted = <-inFlight:
			case <-time.After(20 * time.Second):
				t.Fatal("the handler never reached batch 6")
			}
			rn.stop(t)
			require.GreaterOrEqual(t, r1.Stats().Failures, uint64(1))
			require.Less(t, sink.appliedCount(), len(want), "the first runner must not have finished")

			n.Restart(t)

			r2, err := m.new(js, cfg, sink)
			require.NoError(t, err)
			start(t, r2)
			eventually(t, "every event applied", func() bool { return sink.appliedCount() == len(want) })
			if m.name == "durable" {
				// The durable consumer's acks live on the server. Acks it received just
				// before the restart may not have reached its consumer store yet, so a few
				// committed events can come once more (at-least-once); the sink's
				// idempotence keeps them applied once. The ordered Runner resumes from the
				// sink's checkpoint and never offers a committed event again.
				sink.requireAppliedOnce(t, want)
				t.Logf("committed events offered again after the restart: %d", sink.reofferedCount())
			} else {
				sink.requireExactlyOnce(t, want)
			}

			sink.mu.Lock()
			defer sink.mu.Unlock()
			require.Equal(t, len(want), sink.headersSeen, "trace context reaches the handler")
			for _, e := range interrupted {
				k := evKey{e.Stream, e.Sequence}
				require.GreaterOrEqual(t, sink.offers[k], 2, "the interrupted batch was offered again")
				if m.name == "durable" {
					// It was given back (nak), not acked, and the server counted the attempt.
					require.GreaterOrEqual(t, sink.maxDeliver[k], uint64(2))
				}
			}
		})
	}
}

// An undecodable body and an event the handler refuses both land in the dead-letter stream
// with their reason, are counted, and do not hold up the events around them.
func TestPoisonEventsAreDeadLettered(t *testing.T) {
	t.Parallel()
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			_, js := startJetStream(t)
			var good []uint64
			good = append(good, publish(t, js, "lead", "L1", "LeadCreated"), publish(t, js, "lead", "L2", "LeadCreated"))
			garbage := []byte("\xff\xff\xff not an envelope")
			undecodable := publishRaw(t, js, "crm.acme.lead.L3.LeadCreated", garbage)
			good = append(good, publish(t, js, "lead", "L4", "LeadCreated"))
			refused := publish(t, js, "lead", "L5", "Bad")
			good = append(good, publishLeads(t, js, 3)...)

			sink := newSink()
			sink.hook = func(_ context.Context, _ int, evs []projection.Event) error {
				var errs []error
				for _, e := range evs {
					if isBad(e) {
						errs = append(errs, projection.Poison(e, "amount is negative"))
					}
				}
				return errors.Join(errs...)
			}
			reg := prometheus.NewRegistry()
			metrics := projection.NewMetrics()
			reg.MustRegister(metrics)
			cfg := testConfig("readmodel", leads)
			cfg.Metrics = metrics

			r, err := m.new(js, cfg, sink)
			require.NoError(t, err)
			start(t, r)
			eventually(t, "good events applied and poison dead-lettered", func() bool {
				return sink.appliedCount() == len(good) && r.Stats().DeadLettered == 2
			})
			sink.requireExactlyOnce(t, keys(leads, good...))

			dls := deadLetters(t, js)
			require.Len(t, dls, 2)
			bySeq := map[string]int{}
			for i, d := range dls {
				bySeq[d.Header.Get(projection.HeaderDLQSequence)] = i
				require.Equal(t, leads, d.Header.Get(projection.HeaderDLQStream))
				require.Equal(t, "readmodel", d.Header.Get(projection.HeaderDLQConsumer))
				require.Equal(t, "dlq.readmodel."+d.Header.Get(projection.HeaderDLQSubject), d.Subject)
				require.Equal(t, testTraceparent, d.Header.Get("traceparent"), "original headers travel along")
				require.NotEmpty(t, d.Header.Get(projection.HeaderDLQStored))
			}

			u := dls[bySeq[strconv.FormatUint(undecodable, 10)]]
			require.Equal(t, string(projection.CauseUndecodable), u.Header.Get(projection.HeaderDLQCause))
			require.Contains(t, u.Header.Get(projection.HeaderDLQReason), "decode envelope")
			require.Equal(t, "crm.acme.lead.L3.LeadCreated", u.Header.Get(projection.HeaderDLQSubject))
			require.Equal(t, garbage, u.Data, "the original body is kept")

			p := dls[bySeq[strconv.FormatUint(refused, 10)]]
			require.Equal(t, string(projection.CausePoison), p.Header.Get(projection.HeaderDLQCause))
			require.Equal(t, "amount is negative", p.Header.Get(projection.HeaderDLQReason))
			require.Equal(t, "crm.acme.lead.L5.Bad", p.Header.Get(projection.HeaderDLQSubject))
			require.NotEmpty(t, p.Header.Get(projection.HeaderDLQEventID))

			labels := func(cause string) map[string]string {
				return map[string]string{"projection": "readmodel", "stream": leads, "cause": cause}
			}
			require.Equal(t, 1.0, metricValue(t, reg, "evcrm_projection_events_dead_lettered_total", labels("undecodable")))
			require.Equal(t, 1.0, metricValue(t, reg, "evcrm_projection_events_dead_lettered_total", labels("poison")))
			require.Equal(t, float64(len(good)), metricValue(t, reg, "evcrm_projection_events_processed_total",
				map[string]string{"projection": "readmodel", "stream": leads}))
			require.Equal(t, 1, testutil.CollectAndCount(metrics, "evcrm_projection_batch_events"),
				"batch sizes are observed per projection and stream")
		})
	}
}

// An event the handler fails on every time is dead-lettered after MaxDeliver attempts; the
// events it shared batches with are applied, not dead-lettered with it.
func TestMaxDeliveriesExhaustedGoesToDeadLetter(t *testing.T) {
	t.Parallel()
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			_, js := startJetStream(t)
			seqs := publishLeads(t, js, 20)
			stuck := seqs[4]

			sink := newSink()
			sink.hook = func(_ context.Context, _ int, evs []projection.Event) error {
				for _, e := range evs {
					if e.Sequence == stuck {
						return errors.New("constraint violation on lead L4")
					}
				}
				return nil
			}
			cfg := testConfig("readmodel", leads) // MaxDeliver 3, BatchSize 10
			r, err := m.new(js, cfg, sink)
			require.NoError(t, err)
			start(t, r)
			eventually(t, "the stuck event dead-lettered", func() bool {
				return sink.appliedCount() == len(seqs)-1 && r.Stats().DeadLettered == 1
			})
			want := keys(leads, seqs...)
			delete(want, evKey{leads, stuck})
			sink.requireExactlyOnce(t, want)

			sink.mu.Lock()
			require.Equal(t, uint64(3), sink.maxDeliver[evKey{leads, stuck}], "offered exactly MaxDeliver times")
			sink.mu.Unlock()
			require.GreaterOrEqual(t, r.Stats().Failures, uint64(3))

			dls := deadLetters(t, js)
			require.Len(t, dls, 1)
			h := dls[0].Header
			require.Equal(t, string(projection.CauseMaxDeliveries), h.Get(projection.HeaderDLQCause))
			require.Equal(t, strconv.FormatUint(stuck, 10), h.Get(projection.HeaderDLQSequence))
			require.Equal(t, "3", h.Get(projection.HeaderDLQDeliveries))
			require.Contains(t, h.Get(projection.HeaderDLQReason), "constraint violation on lead L4")
		})
	}
}

func TestConfigValidation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  projection.Config
		ok   bool
	}{
		{"valid", projection.Config{Name: "analytics", Sources: []projection.Source{{Stream: leads}}}, true},
		{"bad name", projection.Config{Name: "a.b", Sources: []projection.Source{{Stream: leads}}}, false},
		{"no sources", projection.Config{Name: "x"}, false},
		{"stream twice", projection.Config{Name: "x", Sources: []projection.Source{{Stream: leads}, {Stream: leads}}}, false},
		{"negative backoff", projection.Config{Name: "x", Sources: []projection.Source{{Stream: leads}}, Backoff: []time.Duration{-1}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.cfg.Validate()
			if tt.ok {
				require.NoError(t, err)
			} else {
				require.Error(t, err)
			}
		})
	}
}
