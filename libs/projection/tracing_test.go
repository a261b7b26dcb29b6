package projection_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/evcrm/evcrm/libs/projection"
)

// Each Handle call runs in a consumer span: a single event continues its producer's trace, a
// batch links to every producer.
func TestBatchSpans(t *testing.T) {
	t.Parallel()
	_, js := startJetStream(t)
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })

	sink := newSink()
	gate := newGate()
	sink.hook = gate.hook(1)
	cfg := testConfig("traced", leads)
	cfg.TracerProvider = tp
	r, err := projection.NewDurable(js, cfg, sink)
	require.NoError(t, err)
	start(t, r)

	publish(t, js, "lead", "L1", "LeadCreated")
	gate.waitHeld(t) // call 1 holds the first event alone while two more arrive
	publishLeads(t, js, 2)
	gate.release()
	eventually(t, "all applied", func() bool { return sink.appliedCount() == 3 })

	producer, err := trace.TraceIDFromHex("4bf92f3577b34da6a3ce929d0e0e4736")
	require.NoError(t, err)
	spans := rec.Ended()
	require.Len(t, spans, 2)
	single, batch := spans[0], spans[1]
	require.Equal(t, "process "+leads, single.Name())
	require.Equal(t, trace.SpanKindConsumer, single.SpanKind())
	require.Equal(t, producer, single.Parent().TraceID(), "a single event continues the producer's trace")
	require.Len(t, single.Links(), 1)

	require.False(t, batch.Parent().IsValid(), "a batch span is a new root")
	require.Len(t, batch.Links(), 2)
	for _, l := range batch.Links() {
		require.Equal(t, producer, l.SpanContext.TraceID())
	}
}
