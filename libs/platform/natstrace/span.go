package natstrace

import (
	"context"

	"github.com/nats-io/nats.go"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// ScopeName is the instrumentation scope of spans started by this package.
const ScopeName = "github.com/evcrm/evcrm/libs/platform/natstrace"

// messagingSystem is not in the semconv enum for NATS, so it is spelled out.
var messagingSystem = semconv.MessagingSystemKey.String("nats")

// StartSend starts a producer span for publishing to subject and returns the context to inject
// into the message headers with [InjectNATS] (so the consumer's span is the producer span's
// child). The span name is the bare operation "send": subjects carry tenant and aggregate ids,
// and span names must stay low-cardinality; the subject is an attribute instead.
func StartSend(ctx context.Context, subject string, attrs ...attribute.KeyValue) (context.Context, trace.Span) {
	return otel.Tracer(ScopeName).Start(ctx, "send",
		trace.WithSpanKind(trace.SpanKindProducer),
		trace.WithAttributes(messagingSystem, semconv.MessagingOperationTypeSend,
			semconv.MessagingOperationName("send"), semconv.MessagingDestinationName(subject)),
		trace.WithAttributes(attrs...),
	)
}

// StartProcess extracts the trace context from h and starts a consumer span for processing one
// message received on subject, as a child of the publisher's span.
func StartProcess(ctx context.Context, h nats.Header, subject string, attrs ...attribute.KeyValue) (context.Context, trace.Span) {
	ctx = ExtractNATS(ctx, h)
	return otel.Tracer(ScopeName).Start(ctx, "process",
		trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithAttributes(messagingSystem, semconv.MessagingOperationTypeProcess,
			semconv.MessagingOperationName("process"), semconv.MessagingDestinationName(subject)),
		trace.WithAttributes(attrs...),
	)
}
