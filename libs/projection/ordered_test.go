package projection_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/evcrm/evcrm/libs/projection"
)

// An ordered Runner starts right after the sink's checkpoint, on every start, and its filter
// keeps other subjects of the stream away from the sink.
func TestOrderedResumesFromSinkCheckpoint(t *testing.T) {
	t.Parallel()
	_, js := startJetStream(t)
	var leadSeqs []uint64
	for i := range 20 {
		leadSeqs = append(leadSeqs, publish(t, js, "lead", fmt.Sprintf("L%d", i), "LeadCreated"))
		if i%4 == 0 {
			publish(t, js, "contact", fmt.Sprintf("C%d", i), "ContactCreated") // filtered out
		}
	}

	sink := newSink()
	sink.checkpoint[leads] = leadSeqs[9] // restored from the sink's store: 10 leads applied
	cfg := testConfig("leadlist")
	cfg.Sources = []projection.Source{{Stream: leads, FilterSubjects: []string{"crm.*.lead.>"}}}

	r, err := projection.NewOrdered(js, cfg, sink)
	require.NoError(t, err)
	rn := start(t, r)
	eventually(t, "the 10 leads after the checkpoint", func() bool { return sink.appliedCount() == 10 })
	rn.stop(t)
	sink.requireExactlyOnce(t, keys(leads, leadSeqs[10:]...))

	more := publishLeads(t, js, 5)
	r2, err := projection.NewOrdered(js, cfg, sink)
	require.NoError(t, err)
	start(t, r2)
	eventually(t, "the new leads", func() bool { return sink.appliedCount() == 15 })
	sink.requireExactlyOnce(t, keys(leads, append(leadSeqs[10:], more...)...))

	// Strict order: the sink saw sequences ascending, never one at or below its checkpoint.
	sink.mu.Lock()
	defer sink.mu.Unlock()
	for k, n := range sink.offers {
		require.Equalf(t, 1, n, "event %v offered once", k)
		require.Greater(t, k.seq, leadSeqs[9])
	}
}

// An ordered sink may commit part of a failing batch; a retry never offers the committed part.
func TestOrderedRetryTrustsCheckpointOverMemory(t *testing.T) {
	t.Parallel()
	_, js := startJetStream(t)
	seqs := publishLeads(t, js, 6)
	sink := newSink()
	var once sync.Once
	cfg := testConfig("leadlist", leads)
	r, err := projection.NewOrdered(js, cfg, checkpointed{
		Checkpointer: sink,
		HandlerFunc: func(ctx context.Context, evs []projection.Event) error {
			var err error
			once.Do(func() {
				// Commit the first half, then fail: a sink that is not quite atomic.
				_ = sink.Handle(ctx, evs[:len(evs)/2])
				err = errors.New("connection reset after partial commit")
			})
			if err != nil {
				return err
			}
			return sink.Handle(ctx, evs)
		},
	})
	require.NoError(t, err)
	start(t, r)
	eventually(t, "all applied", func() bool { return sink.appliedCount() == len(seqs) })
	sink.requireExactlyOnce(t, keys(leads, seqs...))
}

// checkpointed pairs a handler function with a sink's checkpoint.
type checkpointed struct {
	projection.HandlerFunc
	projection.Checkpointer
}

// Lag of an ordered Runner counts buffered and in-hand events too.
func TestOrderedLag(t *testing.T) {
	t.Parallel()
	_, js := startJetStream(t)
	ctx := testContext(t)
	seqs := publishLeads(t, js, 5)

	sink := newSink()
	gate := newGate()
	sink.hook = gate.hook(1, 2)
	cfg := testConfig("leadlist", leads)
	cfg.BatchSize = 2
	cfg.BatchWait = 200 * time.Millisecond // deterministic batches: always 2 events
	r, err := projection.NewOrdered(js, cfg, sink)
	require.NoError(t, err)
	_, err = r.Lag(ctx)
	require.ErrorIs(t, err, projection.ErrNotProvisioned, "an ordered position exists only while running")

	start(t, r)
	gate.waitHeld(t) // batch 1 (events 1, 2) in the handler; nothing applied
	requireLag(t, js, r, 5, seqs[0])
	gate.release()
	gate.waitHeld(t) // batch 2 (3, 4) in the handler
	requireLag(t, js, r, 3, seqs[2])
	gate.release()
	eventually(t, "all applied", func() bool { return sink.appliedCount() == len(seqs) })
	requireLag(t, js, r, 0, 0)
}

// gate holds chosen Handle calls until released.
type gate struct {
	held     chan struct{}
	releases chan struct{}
}

func newGate() *gate { return &gate{held: make(chan struct{}, 10), releases: make(chan struct{}, 10)} }

func (g *gate) hook(calls ...int) func(context.Context, int, []projection.Event) error {
	return func(ctx context.Context, call int, _ []projection.Event) error {
		for _, c := range calls {
			if c == call {
				g.held <- struct{}{}
				select {
				case <-g.releases:
				case <-ctx.Done():
					return ctx.Err()
				}
			}
		}
		return nil
	}
}

func (g *gate) waitHeld(t *testing.T) {
	t.Helper()
	select {
	case <-g.held:
	case <-time.After(20 * time.Second):
		t.Fatal("no Handle call reached the gate")
	}
}

func (g *gate) release() { g.releases <- struct{}{} }

// requireLag waits until the single source's lag shows pending events with the given oldest
// one (the server processes acks asynchronously, so a reading right after an ack may be
// stale), then checks that the reported age lies between the event's age just before and just
// after the call.
func requireLag(t *testing.T, js jetstream.JetStream, r *projection.Runner, pending, oldest uint64) {
	t.Helper()
	ctx := testContext(t)
	var stored time.Time
	if oldest > 0 {
		st, err := js.Stream(ctx, leads)
		require.NoError(t, err)
		m, err := st.GetMsg(ctx, oldest)
		require.NoError(t, err)
		stored = m.Time
	}
	var (
		l      []projection.StreamLag
		lo, hi time.Duration
		err    error
	)
	deadline := time.Now().Add(10 * time.Second)
	for {
		lo = time.Since(stored)
		l, err = r.Lag(ctx)
		hi = time.Since(stored)
		require.NoError(t, err)
		require.Len(t, l, 1)
		if (l[0].Pending == pending && l[0].OldestSequence == oldest) || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	require.Equal(t, leads, l[0].Stream)
	require.Equal(t, pending, l[0].Pending, "pending")
	require.Equal(t, oldest, l[0].OldestSequence, "oldest sequence")
	if oldest == 0 {
		require.Zero(t, l[0].OldestAge)
		return
	}
	require.GreaterOrEqual(t, l[0].OldestAge, lo)
	require.LessOrEqual(t, l[0].OldestAge, hi)
}
