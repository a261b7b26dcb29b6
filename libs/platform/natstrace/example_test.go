package natstrace_test

import (
	"context"
	"fmt"

	"github.com/nats-io/nats.go"
	"go.opentelemetry.io/otel/trace"

	"github.com/evcrm/evcrm/libs/platform/natstrace"
)

// A publisher injects the trace context of the command into the message headers; the consumer
// extracts it and continues the same trace.
func ExampleInjectNATS() {
	sc := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID:    trace.TraceID{0x0a, 0xf7, 0x65, 0x19, 0x16, 0xcd, 0x43, 0xdd, 0x84, 0x48, 0xeb, 0x21, 0x1c, 0x80, 0x31, 0x9c},
		SpanID:     trace.SpanID{0xb7, 0xad, 0x6b, 0x71, 0x69, 0x20, 0x33, 0x31},
		TraceFlags: trace.FlagsSampled,
	})
	ctx := trace.ContextWithSpanContext(context.Background(), sc)

	msg := &nats.Msg{Subject: "crm.acme.lead.L1.LeadQualified", Header: nats.Header{}}
	natstrace.InjectNATS(ctx, msg.Header)
	fmt.Println(msg.Header.Get("traceparent"))

	consumer := natstrace.ExtractNATS(context.Background(), msg.Header)
	fmt.Println(trace.SpanContextFromContext(consumer).TraceID())
	// Output:
	// 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01
	// 0af7651916cd43dd8448eb211c80319c
}
