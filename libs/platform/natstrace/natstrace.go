// Package natstrace carries OpenTelemetry trace context across NATS in message headers
// (STYLE.md §7): W3C traceparent/tracestate and baggage on publish, extracted again on consume, so
// a consumer's work shows up in the same trace as the request that appended the event.
//
// nats.Header is case-sensitive, unlike HTTP headers: a carrier that canonicalised names would
// write "Traceparent", which other W3C implementations never look for. [HeaderCarrier] therefore
// keeps names exactly as the propagator writes them.
//
// The package uses the global propagator (set by platform/telemetry.Setup) and the global tracer
// provider, like every other OpenTelemetry instrumentation.
package natstrace

import (
	"context"
	"strings"

	"github.com/nats-io/nats.go"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
)

// HeaderCarrier adapts a nats.Header to propagation.TextMapCarrier without changing the case of
// header names.
type HeaderCarrier nats.Header

var _ propagation.TextMapCarrier = HeaderCarrier(nil)

// Get returns the first value of key. An exact match wins; otherwise a case-insensitive match is
// accepted, because a publisher outside evcrm may have written "Traceparent" and losing its trace
// would be worse than tolerating the spelling.
func (c HeaderCarrier) Get(key string) string {
	if v := nats.Header(c).Get(key); v != "" {
		return v
	}
	for k, vs := range c {
		if len(vs) > 0 && strings.EqualFold(k, key) {
			return vs[0]
		}
	}
	return ""
}

// Set replaces the values of key, keeping key exactly as given. c must not be nil.
func (c HeaderCarrier) Set(key, value string) {
	nats.Header(c).Set(key, value)
}

// Keys lists the header names present.
func (c HeaderCarrier) Keys() []string {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	return keys
}

// InjectNATS writes the trace context and baggage of ctx into h (e.g. "traceparent"). h must be
// non-nil: allocate msg.Header = nats.Header{} before building the message.
func InjectNATS(ctx context.Context, h nats.Header) {
	otel.GetTextMapPropagator().Inject(ctx, HeaderCarrier(h))
}

// ExtractNATS returns ctx carrying the remote span context and baggage found in h. A nil or empty
// h returns ctx unchanged.
func ExtractNATS(ctx context.Context, h nats.Header) context.Context {
	if len(h) == 0 {
		return ctx
	}
	return otel.GetTextMapPropagator().Extract(ctx, HeaderCarrier(h))
}
