package eventstore

import (
	"context"

	"github.com/nats-io/nats.go"
	"go.opentelemetry.io/otel"
)

// injectTrace writes the W3C trace context of ctx into the message headers.
func injectTrace(ctx context.Context, h nats.Header) {
	otel.GetTextMapPropagator().Inject(ctx, headerCarrier(h))
}

type headerCarrier nats.Header

func (c headerCarrier) Get(k string) string { return nats.Header(c).Get(k) }
func (c headerCarrier) Set(k, v string)     { nats.Header(c).Set(k, v) }
func (c headerCarrier) Keys() []string {
	out := make([]string, 0, len(c))
	for k := range c {
		out = append(out, k)
	}
	return out
}
