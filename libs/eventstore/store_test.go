package eventstore_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/eventstore"
	eventsv1 "github.com/evcrm/evcrm/libs/gen/crm/events/v1"
	"github.com/evcrm/evcrm/libs/reqctx"
	"github.com/evcrm/evcrm/libs/testkit"
)

// env is one test's JetStream with the CRM streams and a store on it.
type env struct {
	nats  *testkit.NATS
	js    jetstream.JetStream
	store *eventstore.Store
}

func newEnv(t *testing.T, so eventstore.StreamOptions) *env {
	t.Helper()
	n := testkit.StartNATS(t)
	nc := n.Connect(t)
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	require.NoError(t, eventstore.EnsureStreams(context.Background(), js, so))
	st, err := eventstore.New(nc, eventstore.Options{})
	require.NoError(t, err)
	return &env{nats: n, js: js, store: st}
}

func (e *env) streamMsgs(t *testing.T, name string) uint64 {
	t.Helper()
	s, err := e.js.Stream(context.Background(), name)
	require.NoError(t, err)
	info, err := s.Info(context.Background())
	require.NoError(t, err)
	return info.State.Msgs
}

func ev(p proto.Message) eventstore.Event { return eventstore.Event{Payload: p} }

func TestAppendLoadRoundTrip(t *testing.T) {
	t.Parallel()
	e := newEnv(t, eventstore.StreamOptions{})
	ctx := reqctx.WithActor(reqctx.WithCorrelationID(reqctx.WithRequestID(context.Background(), "req-1"), "corr-1"),
		reqctx.Actor{Type: reqctx.ActorUser, ID: "u-7"})
	ref := eventstore.Ref{Tenant: "acme", Type: "lead", ID: "L1"}
	payload, err := structpb.NewStruct(map[string]any{"score": 42.0, "status": "MQL"})
	require.NoError(t, err)
	occurred := time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)

	r1, err := e.store.Append(ctx, ref, eventstore.Position{}, ev(wrapperspb.String("created")))
	require.NoError(t, err)
	assert.Equal(t, uint64(1), r1.Position.Version)
	r2, err := e.store.Append(ctx, ref, r1.Position,
		eventstore.Event{Payload: wrapperspb.Int64(7), OccurredAt: occurred, SchemaVersion: 2},
		ev(payload))
	require.NoError(t, err)
	assert.Equal(t, uint64(3), r2.Position.Version)
	assert.Equal(t, r2.FirstSequence+1, r2.Position.Sequence, "an atomic batch is contiguous")

	recs, pos, err := e.store.Load(context.Background(), ref)
	require.NoError(t, err)
	require.Len(t, recs, 3)
	assert.Equal(t, r2.Position, pos)
	wantTypes := []string{"google.protobuf.StringValue", "google.protobuf.Int64Value", "google.protobuf.Struct"}
	for i, rec := range recs {
		envl := rec.Envelope
		assert.Equal(t, uint64(i+1), envl.GetAggregateVersion())
		assert.Equal(t, wantTypes[i], envl.GetEventType())
		assert.Equal(t, "acme", envl.GetTenantId())
		assert.Equal(t, "lead", envl.GetAggregateType())
		assert.Equal(t, "L1", envl.GetAggregateId())
		assert.Equal(t, "corr-1", envl.GetCorrelationId())
		assert.Equal(t, "req-1", envl.GetCausationId())
		assert.Equal(t, "u-7", envl.GetActor().GetId())
		assert.Equal(t, eventsv1.ActorType_ACTOR_TYPE_USER, envl.GetActor().GetType())
		assert.Equal(t, "crm.acme.lead.L1."+eventstore.ShortType(wantTypes[i]), rec.Subject)
		assert.Equal(t, "CRM_LEADS", rec.Stream)
		assert.Len(t, envl.GetEventId(), 36)
	}
	assert.Equal(t, occurred, recs[1].Envelope.GetOccurredAt().AsTime())
	assert.Equal(t, uint32(2), recs[1].Envelope.GetSchemaVersion())

	got, err := recs[2].Payload()
	require.NoError(t, err)
	assert.True(t, proto.Equal(payload, got), "payload round trip: %v", got)
	got, err = recs[0].Payload()
	require.NoError(t, err)
	assert.Equal(t, "created", got.(*wrapperspb.StringValue).GetValue())

	// A cached reader catches up with only what follows its position.
	more, pos2, err := e.store.ReadAfter(context.Background(), ref, r1.Position)
	require.NoError(t, err)
	assert.Len(t, more, 2)
	assert.Equal(t, pos, pos2)
	none, pos3, err := e.store.ReadAfter(context.Background(), ref, pos)
	require.NoError(t, err)
	assert.Empty(t, none)
	assert.Equal(t, pos, pos3)

	// A new aggregate loads empty.
	recs, pos, err = e.store.Load(context.Background(), eventstore.Ref{Tenant: "acme", Type: "lead", ID: "nobody"})
	require.NoError(t, err)
	assert.Empty(t, recs)
	assert.Equal(t, eventstore.Position{}, pos)
}

func TestAppendRejectsBadInput(t *testing.T) {
	t.Parallel()
	e := newEnv(t, eventstore.StreamOptions{})
	ctx := context.Background()
	tests := []struct {
		name  string
		ref   eventstore.Ref
		evs   []eventstore.Event
		field string
	}{
		{"tenant with a dot", eventstore.Ref{Tenant: "ac.me", Type: "lead", ID: "x"}, []eventstore.Event{ev(wrapperspb.Bool(true))}, "tenant_id"},
		{"wildcard id", eventstore.Ref{Tenant: "acme", Type: "lead", ID: "*"}, []eventstore.Event{ev(wrapperspb.Bool(true))}, "aggregate_id"},
		{"empty type", eventstore.Ref{Tenant: "acme", Type: "", ID: "x"}, []eventstore.Event{ev(wrapperspb.Bool(true))}, "aggregate_type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.store.Append(ctx, tt.ref, eventstore.Position{}, tt.evs...)
			ae, ok := apperr.As(err)
			require.True(t, ok, "want apperr, got %v", err)
			assert.Equal(t, apperr.Invalid, ae.Kind)
			require.Len(t, ae.Fields, 1)
			assert.Equal(t, tt.field, ae.Fields[0].Field)
		})
	}
	_, err := e.store.Append(ctx, eventstore.Ref{Tenant: "acme", Type: "spaceship", ID: "x"}, eventstore.Position{}, ev(wrapperspb.Bool(true)))
	assert.ErrorContains(t, err, "no stream holds aggregate type")
	_, err = e.store.Append(ctx, eventstore.Ref{Tenant: "acme", Type: "lead", ID: "x"}, eventstore.Position{})
	assert.Error(t, err)
	assert.Equal(t, uint64(0), e.streamMsgs(t, "CRM_LEADS"), "rejected appends store nothing")
}

func TestAtomicBatchRejectedForStaleVersionStoresNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t, eventstore.StreamOptions{})
	ctx := context.Background()
	ref := eventstore.Ref{Tenant: "acme", Type: "opportunity", ID: "O1"}
	first, err := e.store.Append(ctx, ref, eventstore.Position{}, ev(wrapperspb.String("opened")))
	require.NoError(t, err)

	// A writer that decided on the empty aggregate loses, and none of its three events land.
	_, err = e.store.Append(ctx, ref, eventstore.Position{},
		ev(wrapperspb.String("a")), ev(wrapperspb.String("b")), ev(wrapperspb.String("c")))
	require.ErrorIs(t, err, eventstore.ErrConcurrency)
	assert.Equal(t, apperr.Conflict, apperr.KindOf(err))
	assert.Equal(t, uint64(1), e.streamMsgs(t, "CRM_PIPELINE"))

	recs, pos, err := e.store.Load(ctx, ref)
	require.NoError(t, err)
	require.Len(t, recs, 1)
	assert.Equal(t, first.Position, pos)

	// The same batch on the right position lands whole.
	res, err := e.store.Append(ctx, ref, pos, ev(wrapperspb.String("a")), ev(wrapperspb.String("b")), ev(wrapperspb.String("c")))
	require.NoError(t, err)
	assert.Equal(t, uint64(4), res.Position.Version)
	assert.Equal(t, uint64(4), e.streamMsgs(t, "CRM_PIPELINE"))
}

func TestConcurrentWritersOnOneAggregate(t *testing.T) {
	t.Parallel()
	e := newEnv(t, eventstore.StreamOptions{})
	ctx := context.Background()
	ref := eventstore.Ref{Tenant: "acme", Type: "lead", ID: "hot"}
	const writers = 50

	var (
		mu      sync.Mutex
		winners = map[uint64][]int{} // version → writers whose append produced it
		start   = make(chan struct{})
		wg      sync.WaitGroup
	)
	firstRound := make([]error, writers)
	for w := range writers {
		wg.Go(func() {
			<-start
			pos := eventstore.Position{} // every writer decides on the same starting version
			for round := 0; ; round++ {
				res, err := e.store.Append(ctx, ref, pos, ev(wrapperspb.Int64(int64(w))))
				if round == 0 {
					firstRound[w] = err
				}
				if err == nil {
					mu.Lock()
					winners[res.Position.Version] = append(winners[res.Position.Version], w)
					mu.Unlock()
					return
				}
				if !errors.Is(err, eventstore.ErrConcurrency) {
					t.Errorf("writer %d: %v", w, err)
					return
				}
				_, pos, err = e.store.Load(ctx, ref)
				if err != nil {
					t.Errorf("writer %d reload: %v", w, err)
					return
				}
			}
		})
	}
	close(start)
	wg.Wait()

	succeeded := 0
	for _, err := range firstRound {
		if err == nil {
			succeeded++
		}
	}
	assert.Equal(t, 1, succeeded, "exactly one writer wins the first version")
	require.Len(t, winners, writers, "no version skipped")
	for v := uint64(1); v <= writers; v++ {
		assert.Len(t, winners[v], 1, "version %d has exactly one winner", v)
	}

	recs, pos, err := e.store.Load(ctx, ref)
	require.NoError(t, err)
	require.Len(t, recs, writers, "no event lost or duplicated")
	assert.Equal(t, uint64(writers), pos.Version)
	seen := map[int64]bool{}
	for i, rec := range recs {
		assert.Equal(t, uint64(i+1), rec.Envelope.GetAggregateVersion())
		p, err := rec.Payload()
		require.NoError(t, err)
		w := p.(*wrapperspb.Int64Value).GetValue()
		assert.False(t, seen[w], "writer %d appended twice", w)
		seen[w] = true
		assert.Equal(t, []int{int(w)}, winners[uint64(i+1)], "the fold equals the log")
	}
}

func TestRetriedAppendIsRecognised(t *testing.T) {
	t.Parallel()
	// A short duplicate window so the second retry takes the conflict path, not dedupe.
	e := newEnv(t, eventstore.StreamOptions{Duplicates: 200 * time.Millisecond})
	ctx := context.Background()
	ref := eventstore.Ref{Tenant: "acme", Type: "campaign", ID: "C1"}
	events := []eventstore.Event{
		{ID: "0190a000-0000-7000-8000-000000000001", Payload: wrapperspb.String("x")},
		{ID: "0190a000-0000-7000-8000-000000000002", Payload: wrapperspb.String("y")},
	}
	first, err := e.store.Append(ctx, ref, eventstore.Position{}, events...)
	require.NoError(t, err)
	assert.False(t, first.Duplicate)

	for _, wait := range []time.Duration{0, 400 * time.Millisecond} {
		time.Sleep(wait)
		again, err := e.store.Append(ctx, ref, eventstore.Position{}, events...)
		require.NoError(t, err, "after %s", wait)
		assert.True(t, again.Duplicate)
		assert.Equal(t, first.Position, again.Position)
		assert.Equal(t, first.FirstSequence, again.FirstSequence)
	}
	single := eventstore.Event{ID: "0190a000-0000-7000-8000-000000000003", Payload: wrapperspb.String("z")}
	r1, err := e.store.Append(ctx, ref, first.Position, single)
	require.NoError(t, err)
	r2, err := e.store.Append(ctx, ref, first.Position, single)
	require.NoError(t, err)
	assert.True(t, r2.Duplicate)
	assert.Equal(t, r1.Position, r2.Position)
	assert.Equal(t, uint64(3), e.streamMsgs(t, "CRM_CAMPAIGN"))
}

func TestServerRestartKeepsAcknowledgedEvents(t *testing.T) {
	t.Parallel()
	e := newEnv(t, eventstore.StreamOptions{})
	ctx := context.Background()
	const aggs, per = 20, 5
	positions := map[string]eventstore.Position{}
	for a := range aggs {
		ref := eventstore.Ref{Tenant: "acme", Type: "account", ID: fmt.Sprintf("A%d", a)}
		var pos eventstore.Position
		for i := range per {
			res, err := e.store.Append(ctx, ref, pos, ev(wrapperspb.Int32(int32(i))))
			require.NoError(t, err)
			pos = res.Position
		}
		positions[ref.ID] = pos
	}

	e.nats.Restart(t)

	// The same client reconnects; appends may see no responders until JetStream is back, which
	// the store retries.
	rctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	for id, want := range positions {
		ref := eventstore.Ref{Tenant: "acme", Type: "account", ID: id}
		var (
			recs []eventstore.Recorded
			pos  eventstore.Position
			err  error
		)
		require.Eventually(t, func() bool {
			recs, pos, err = e.store.Load(rctx, ref)
			return err == nil
		}, 15*time.Second, 50*time.Millisecond, "load after restart: %v", err)
		assert.Len(t, recs, per)
		assert.Equal(t, want, pos)
		_, err = e.store.Append(rctx, ref, pos, ev(wrapperspb.String("after restart")))
		require.NoError(t, err)
	}
	assert.Equal(t, uint64(aggs*(per+1)), e.streamMsgs(t, "CRM_LEADS"))
}

func TestStreamsRefuseDeleteAndPurge(t *testing.T) {
	t.Parallel()
	e := newEnv(t, eventstore.StreamOptions{})
	ctx := context.Background()
	_, err := e.store.Append(ctx, eventstore.Ref{Tenant: "acme", Type: "lead", ID: "L"}, eventstore.Position{}, ev(wrapperspb.Bool(true)))
	require.NoError(t, err)
	s, err := e.js.Stream(ctx, "CRM_LEADS")
	require.NoError(t, err)
	assert.Error(t, s.Purge(ctx))
	assert.Error(t, s.DeleteMsg(ctx, 1))
	cfg := s.CachedInfo().Config
	assert.Equal(t, jetstream.FileStorage, cfg.Storage)
	assert.Zero(t, cfg.MaxAge)
	assert.True(t, cfg.AllowAtomicPublish)
	assert.True(t, cfg.AllowDirect)
	// Re-running EnsureStreams (every replica does at start) is harmless.
	require.NoError(t, eventstore.EnsureStreams(ctx, e.js, eventstore.StreamOptions{}))
	assert.Equal(t, uint64(1), e.streamMsgs(t, "CRM_LEADS"))

	// A consumer of the stream with another configuration in mind (CreateOnly) leaves the
	// owner's as it is; without CreateOnly the owner's EnsureStreams updates it.
	require.NoError(t, eventstore.EnsureStreams(ctx, e.js, eventstore.StreamOptions{Duplicates: time.Minute, CreateOnly: true}))
	info, err := s.Info(ctx)
	require.NoError(t, err)
	assert.Equal(t, cfg.Duplicates, info.Config.Duplicates, "CreateOnly changed an existing stream")
	require.NoError(t, eventstore.EnsureStreams(ctx, e.js, eventstore.StreamOptions{Duplicates: time.Minute}, eventstore.LeadsStream))
	info, err = s.Info(ctx)
	require.NoError(t, err)
	assert.Equal(t, time.Minute, info.Config.Duplicates)
}

func TestAppendCarriesTraceContext(t *testing.T) {
	// Not parallel: sets the global propagator (to the one telemetry.Setup installs).
	otel.SetTextMapPropagator(propagation.TraceContext{})
	e := newEnv(t, eventstore.StreamOptions{})
	traceID := trace.TraceID{0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36}
	parent := trace.NewSpanContext(trace.SpanContextConfig{TraceID: traceID, SpanID: trace.SpanID{1, 2, 3, 4, 5, 6, 7, 8}, TraceFlags: trace.FlagsSampled})
	ctx := trace.ContextWithSpanContext(context.Background(), parent)
	res, err := e.store.Append(ctx, eventstore.Ref{Tenant: "acme", Type: "lead", ID: "traced"}, eventstore.Position{}, ev(wrapperspb.Bool(true)))
	require.NoError(t, err)

	s, err := e.js.Stream(context.Background(), "CRM_LEADS")
	require.NoError(t, err)
	msg, err := s.GetMsg(context.Background(), res.Position.Sequence)
	require.NoError(t, err)
	assert.Contains(t, msg.Header.Get("traceparent"), traceID.String(), "consumers continue the producer's trace")
	assert.Equal(t, res.EventIDs[0], msg.Header.Get(jetstream.MsgIDHeader))
	assert.Equal(t, "google.protobuf.BoolValue", msg.Header.Get(eventstore.HeaderEventType))
	assert.Equal(t, "1", msg.Header.Get(eventstore.HeaderAggregateVersion))
}
