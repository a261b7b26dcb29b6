package projection_test

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/evcrm/evcrm/libs/projection"
)

// Two replicas on one durable consumer split the events between them; together they apply
// every event exactly once, and neither sees an event the other applied.
func TestDurableReplicasShareTheConsumer(t *testing.T) {
	t.Parallel()
	_, js := startJetStream(t)
	sink := newSink()
	sink.hook = func(context.Context, int, []projection.Event) error {
		time.Sleep(time.Millisecond) // let the other replica get a turn at the stream
		return nil
	}
	cfg := testConfig("projector", leads)

	var handled [2]atomic.Int64
	for i := range handled {
		r, err := projection.NewDurable(js, cfg, projection.HandlerFunc(func(ctx context.Context, evs []projection.Event) error {
			if err := sink.Handle(ctx, evs); err != nil {
				return err
			}
			handled[i].Add(int64(len(evs)))
			return nil
		}))
		require.NoError(t, err)
		start(t, r)
	}
	// Publish only once both replicas have a pull request waiting, so neither can take the
	// whole stream before the other has started.
	cons, err := js.Consumer(testContext(t), leads, "projector")
	if err != nil {
		eventually(t, "consumer created", func() bool {
			cons, err = js.Consumer(testContext(t), leads, "projector")
			return err == nil
		})
	}
	eventually(t, "both replicas pulling", func() bool {
		info, err := cons.Info(testContext(t))
		return err == nil && info.NumWaiting >= 2
	})

	want := keys(leads, publishLeads(t, js, 200)...)
	eventually(t, "every event applied", func() bool { return sink.appliedCount() == len(want) })
	sink.requireExactlyOnce(t, want)
	sink.mu.Lock()
	for k, n := range sink.offers {
		require.Equalf(t, 1, n, "event %v offered to more than one replica", k)
	}
	sink.mu.Unlock()
	require.Positive(t, handled[0].Load(), "replica 0 did work")
	require.Positive(t, handled[1].Load(), "replica 1 did work")
	require.Equal(t, int64(len(want)), handled[0].Load()+handled[1].Load())
}

// A process that dies while holding an event (here: a consumer that fetches and never acks)
// uses up deliveries without the handler ever finishing. Once past MaxDeliver the Runner
// dead-letters the event without offering it again: it may be what kills the process.
func TestDurableDeadLettersEventThatOutlivedItsDeliveries(t *testing.T) {
	t.Parallel()
	_, js := startJetStream(t)
	ctx := testContext(t)
	sink := newSink()
	cfg := testConfig("projector", leads)
	cfg.MaxDeliver = 2
	cfg.AckWait = 300 * time.Millisecond
	r, err := projection.NewDurable(js, cfg, sink)
	require.NoError(t, err)
	require.NoError(t, r.Provision(ctx))

	killer := publish(t, js, "lead", "L1", "LeadCreated")
	cons, err := js.Consumer(ctx, leads, "projector")
	require.NoError(t, err)
	for attempt := 1; attempt <= 2; attempt++ {
		b, err := cons.Fetch(1, jetstream.FetchMaxWait(2*time.Second))
		require.NoError(t, err)
		m := <-b.Messages()
		require.NotNil(t, m, "delivery %d", attempt)
		md, err := m.Metadata()
		require.NoError(t, err)
		require.Equal(t, killer, md.Sequence.Stream)
		require.Equal(t, uint64(attempt), md.NumDelivered)
		// ...and the process "dies" without acking.
	}
	rest := publishLeads(t, js, 2)

	start(t, r)
	eventually(t, "the rest applied and the killer dead-lettered", func() bool {
		return sink.appliedCount() == len(rest) && r.Stats().DeadLettered == 1
	})
	sink.requireExactlyOnce(t, keys(leads, rest...))
	sink.mu.Lock()
	require.Zero(t, sink.offers[evKey{leads, killer}], "never offered to the handler again")
	sink.mu.Unlock()

	dls := deadLetters(t, js)
	require.Len(t, dls, 1)
	require.Equal(t, string(projection.CauseMaxDeliveries), dls[0].Header.Get(projection.HeaderDLQCause))
	require.Equal(t, strconv.FormatUint(killer, 10), dls[0].Header.Get(projection.HeaderDLQSequence))
	require.Equal(t, "3", dls[0].Header.Get(projection.HeaderDLQDeliveries))
}

// Lag counts what is neither delivered nor acked and ages the oldest of it, before, during
// and after processing.
func TestDurableLag(t *testing.T) {
	t.Parallel()
	_, js := startJetStream(t)
	ctx := testContext(t)
	seqs := publishLeads(t, js, 5)

	sink := newSink()
	gate := newGate()
	sink.hook = gate.hook(2)
	cfg := testConfig("projector", leads)
	cfg.BatchSize = 2
	r, err := projection.NewDurable(js, cfg, sink)
	require.NoError(t, err)

	_, err = r.Lag(ctx)
	require.ErrorIs(t, err, projection.ErrNotProvisioned)
	require.NoError(t, r.Provision(ctx))
	requireLag(t, js, r, 5, seqs[0])

	start(t, r)
	gate.waitHeld(t) // batch 1 (events 1, 2) applied; batch 2 (3, 4) in the handler
	requireLag(t, js, r, 3, seqs[2])

	gate.release()
	eventually(t, "all applied", func() bool { return sink.appliedCount() == len(seqs) })
	requireLag(t, js, r, 0, 0)
}

// A Runner stopped while idle leaves no pull request behind that would swallow the next event
// until its ack wait expires.
func TestDurableStopWhileIdleLeavesNothingBehind(t *testing.T) {
	t.Parallel()
	_, js := startJetStream(t)
	sink := newSink()
	cfg := testConfig("projector", leads) // default AckWait: 30s
	r1, err := projection.NewDurable(js, cfg, sink)
	require.NoError(t, err)
	rn := start(t, r1)
	first := publish(t, js, "lead", "L1", "LeadCreated")
	eventually(t, "first applied", func() bool { return sink.appliedCount() == 1 })
	time.Sleep(50 * time.Millisecond) // idle in a pull request
	rn.stop(t)

	second := publish(t, js, "lead", "L2", "LeadCreated")
	r2, err := projection.NewDurable(js, cfg, sink)
	require.NoError(t, err)
	start(t, r2)
	begin := time.Now()
	eventually(t, "second applied", func() bool { return sink.appliedCount() == 2 })
	require.Less(t, time.Since(begin), 5*time.Second)
	sink.requireExactlyOnce(t, keys(leads, first, second))
}

// With StopGrace, a batch in flight when Run is cancelled still completes and is acked.
func TestDurableStopGraceFinishesBatchInFlight(t *testing.T) {
	t.Parallel()
	_, js := startJetStream(t)
	seqs := publishLeads(t, js, 3)
	sink := newSink()
	gate := newGate()
	sink.hook = gate.hook(1)
	cfg := testConfig("projector", leads)
	cfg.StopGrace = 10 * time.Second
	r, err := projection.NewDurable(js, cfg, sink)
	require.NoError(t, err)
	rn := start(t, r)
	gate.waitHeld(t)
	rn.cancel() // shutdown begins while the batch is in the handler
	time.Sleep(20 * time.Millisecond)
	gate.release()
	rn.stop(t)
	sink.requireExactlyOnce(t, keys(leads, seqs...))

	cons, err := js.Consumer(testContext(t), leads, "projector")
	require.NoError(t, err)
	info, err := cons.Info(testContext(t))
	require.NoError(t, err)
	require.Equal(t, seqs[2], info.AckFloor.Stream, "the finished batch was acked")
	require.Zero(t, info.NumAckPending)
}
