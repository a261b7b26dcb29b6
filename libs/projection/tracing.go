package projection

import (
	"context"
	"strconv"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

const tracerName = "github.com/evcrm/evcrm/libs/projection"

// startBatchSpan starts the consumer span one Handle call runs in. A batch has many producers,
// so following the messaging semantic conventions for batch processing the span is a new root
// linked to every producer span rather than the child of an arbitrary one of them. The span name
// carries the stream, not the subject: subjects hold tenant and aggregate ids, and span names
// must stay low-cardinality.
func (r *Runner) startBatchSpan(ctx context.Context, stream string, ds []*delivery) (context.Context, trace.Span) {
	links := make([]trace.Link, 0, len(ds))
	for _, d := range ds {
		if d.spanCtx.IsValid() {
			links = append(links, trace.Link{SpanContext: d.spanCtx})
		}
	}
	attrs := []attribute.KeyValue{
		semconv.MessagingSystemKey.String("nats"),
		semconv.MessagingOperationTypeProcess,
		semconv.MessagingOperationName("process"),
		semconv.MessagingConsumerGroupName(r.cfg.Name),
		semconv.MessagingDestinationName(stream),
		semconv.MessagingBatchMessageCount(len(ds)),
	}
	if len(ds) == 1 {
		attrs = append(attrs,
			semconv.MessagingMessageID(ds[0].Envelope.GetEventId()),
			attribute.String("messaging.nats.subject", ds[0].Subject),
			attribute.String("messaging.nats.stream.sequence", strconv.FormatUint(ds[0].Sequence, 10)),
		)
	}
	opts := []trace.SpanStartOption{
		trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithLinks(links...),
		trace.WithAttributes(attrs...),
	}
	if len(ds) == 1 && ds[0].spanCtx.IsValid() {
		// One event has one producer: continue its trace, so a command and its projection
		// show up as one trace.
		ctx = trace.ContextWithRemoteSpanContext(ctx, ds[0].spanCtx)
	} else {
		opts = append(opts, trace.WithNewRoot())
	}
	return r.tracer.Start(ctx, "process "+stream, opts...)
}

func endSpan(span trace.Span, err error) {
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}
