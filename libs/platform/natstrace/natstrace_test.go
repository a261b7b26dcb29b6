package natstrace_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/baggage"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/evcrm/evcrm/libs/platform/natstrace"
	"github.com/evcrm/evcrm/libs/platform/telemetry"
	"github.com/evcrm/evcrm/libs/testkit"
)

var recorder = tracetest.NewSpanRecorder()

// TestMain installs what telemetry.Setup installs in a service: the W3C propagators and an SDK
// tracer provider (recording in memory instead of exporting).
func TestMain(m *testing.M) {
	otel.SetTextMapPropagator(telemetry.Propagator())
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(recorder))
	otel.SetTracerProvider(tp)
	code := m.Run()
	_ = tp.Shutdown(context.Background())
	os.Exit(code)
}

func TestHeaderCarrier(t *testing.T) {
	t.Parallel()
	h := nats.Header{}
	c := natstrace.HeaderCarrier(h)
	c.Set("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
	assert.Equal(t, []string{"traceparent"}, c.Keys(), "names must keep their case")
	assert.Equal(t, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", c.Get("traceparent"))

	other := natstrace.HeaderCarrier(nats.Header{"Traceparent": {"canonicalised"}})
	assert.Equal(t, "canonicalised", other.Get("traceparent"), "a canonicalised name from another publisher is still read")
	assert.Empty(t, other.Get("tracestate"))
}

func TestTraceContextCrossesNATS(t *testing.T) {
	t.Parallel()
	srv := testkit.StartNATS(t)
	pub, sub := srv.Connect(t), srv.Connect(t)

	subj := "crm.acme.lead.L1.LeadQualified"
	s, err := sub.SubscribeSync("crm.*.lead.>")
	require.NoError(t, err)
	require.NoError(t, sub.Flush())

	member, err := baggage.NewMember("tenant", "acme")
	require.NoError(t, err)
	bag, err := baggage.New(member)
	require.NoError(t, err)
	ctx := baggage.ContextWithBaggage(t.Context(), bag)
	ctx, cmd := otel.Tracer("test").Start(ctx, "QualifyLead")
	defer cmd.End()

	sendCtx, send := natstrace.StartSend(ctx, subj)
	msg := &nats.Msg{Subject: subj, Header: nats.Header{}, Data: []byte("payload")}
	natstrace.InjectNATS(sendCtx, msg.Header)
	require.NoError(t, pub.PublishMsg(msg))
	send.End()
	require.Contains(t, msg.Header, "traceparent", "the header must be written in lower case, exactly as W3C names it")

	got, err := s.NextMsg(5 * time.Second)
	require.NoError(t, err)
	assert.Contains(t, got.Header, "traceparent")

	remote := natstrace.ExtractNATS(context.Background(), got.Header)
	rsc := trace.SpanContextFromContext(remote)
	require.True(t, rsc.IsValid())
	assert.True(t, rsc.IsRemote())
	assert.Equal(t, cmd.SpanContext().TraceID(), rsc.TraceID(), "consumer must continue the producer's trace")
	assert.Equal(t, send.SpanContext().SpanID(), rsc.SpanID(), "the producer span is the parent")
	assert.Equal(t, "acme", baggage.FromContext(remote).Member("tenant").Value())

	_, process := natstrace.StartProcess(context.Background(), got.Header, got.Subject)
	process.End()
	assert.Equal(t, cmd.SpanContext().TraceID(), process.SpanContext().TraceID())

	var kinds []trace.SpanKind
	for _, sp := range recorder.Ended() {
		if sp.SpanContext().TraceID() != cmd.SpanContext().TraceID() {
			continue
		}
		kinds = append(kinds, sp.SpanKind())
		if sp.SpanKind() == trace.SpanKindConsumer {
			assert.Equal(t, send.SpanContext().SpanID(), sp.Parent().SpanID())
			attrs := map[string]string{}
			for _, a := range sp.Attributes() {
				attrs[string(a.Key)] = a.Value.Emit()
			}
			assert.Equal(t, "nats", attrs["messaging.system"])
			assert.Equal(t, "process", attrs["messaging.operation.type"])
			assert.Equal(t, subj, attrs["messaging.destination.name"])
		}
	}
	assert.ElementsMatch(t, []trace.SpanKind{trace.SpanKindProducer, trace.SpanKindConsumer}, kinds)
}

func TestExtractWithoutHeaders(t *testing.T) {
	t.Parallel()
	ctx := natstrace.ExtractNATS(t.Context(), nil)
	assert.False(t, trace.SpanContextFromContext(ctx).IsValid())
}
