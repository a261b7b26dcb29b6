package telemetry_test

import (
	"context"
	"fmt"
	"slices"

	"go.opentelemetry.io/otel"

	"github.com/evcrm/evcrm/libs/platform/telemetry"
)

// With no collector configured nothing is exported, but trace context still flows through the
// service: the propagators are installed either way.
func ExampleSetup() {
	ctx := context.Background()
	tel, err := telemetry.Setup(ctx, telemetry.Config{Service: "leads", OTLPEndpoint: ""})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer func() { _ = tel.Shutdown(ctx) }()
	fields := otel.GetTextMapPropagator().Fields()
	slices.Sort(fields)
	fmt.Println(fields)
	// Output: [baggage traceparent tracestate]
}
