// Package telemetry sets up OpenTelemetry tracing for an evcrm service: an OTLP/gRPC exporter
// when a collector is configured, and the W3C trace-context and baggage propagators always, so a
// service with tracing off still passes its callers' trace context on to gRPC peers and NATS
// consumers.
package telemetry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// Config says how to trace.
type Config struct {
	// Service is the service.name resource attribute.
	Service string
	// Version is the service.version resource attribute; "" uses the main module's version from
	// the build info.
	Version string
	// OTLPEndpoint is the collector URL (http://host:4317 plaintext, https://host:4317 TLS);
	// "" disables export and installs a no-op tracer provider.
	OTLPEndpoint string
	// Logger receives errors the OpenTelemetry SDK reports in the background (for example a
	// collector that is down); nil keeps OpenTelemetry's default handler.
	Logger *slog.Logger
}

// Telemetry is the installed tracing setup.
type Telemetry struct {
	tp       trace.TracerProvider
	shutdown func(context.Context) error
}

// Propagator returns the propagator evcrm uses on every hop: W3C tracecontext and baggage.
func Propagator() propagation.TextMapPropagator {
	return propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
}

// Setup installs the global tracer provider and propagator. The globals are deliberate: otelgrpc,
// natstrace and third-party instrumentation all read them, so one call in main covers them all.
// The OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG environment variables choose the sampler
// (default: parent-based, always on).
func Setup(ctx context.Context, cfg Config) (*Telemetry, error) {
	otel.SetTextMapPropagator(Propagator())
	if cfg.Logger != nil {
		l := cfg.Logger
		otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
			l.Warn("opentelemetry error", slog.String("error", err.Error()))
		}))
	}
	if cfg.OTLPEndpoint == "" {
		tp := noop.NewTracerProvider()
		otel.SetTracerProvider(tp)
		return &Telemetry{tp: tp, shutdown: func(context.Context) error { return nil }}, nil
	}

	// The exporter dials lazily, so a collector that is down does not stop the service from
	// starting; spans are dropped (and reported to the error handler) until it is back.
	exp, err := otlptracegrpc.New(ctx, otlptracegrpc.WithEndpointURL(cfg.OTLPEndpoint))
	if err != nil {
		return nil, fmt.Errorf("telemetry: otlp exporter: %w", err)
	}
	res, err := newResource(ctx, cfg)
	if err != nil {
		return nil, err
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	otel.SetTracerProvider(tp)
	return &Telemetry{tp: tp, shutdown: tp.Shutdown}, nil
}

// TracerProvider returns the installed provider.
func (t *Telemetry) TracerProvider() trace.TracerProvider { return t.tp }

// Shutdown flushes buffered spans and stops the exporter. Call it last, after servers and workers
// stopped, so the spans of the shutdown itself are exported; ctx bounds the flush.
func (t *Telemetry) Shutdown(ctx context.Context) error {
	if err := t.shutdown(ctx); err != nil {
		return fmt.Errorf("telemetry: shutdown: %w", err)
	}
	return nil
}

func newResource(ctx context.Context, cfg Config) (*resource.Resource, error) {
	version := cfg.Version
	if version == "" {
		if bi, ok := debug.ReadBuildInfo(); ok {
			version = bi.Main.Version
		}
	}
	res, err := resource.New(ctx,
		resource.WithSchemaURL(semconv.SchemaURL),
		resource.WithAttributes(semconv.ServiceName(cfg.Service), semconv.ServiceVersion(version)),
		resource.WithTelemetrySDK(),
		resource.WithHost(),
		resource.WithProcessPID(),
		// OTEL_RESOURCE_ATTRIBUTES lets a deployment add e.g. deployment.environment.name.
		resource.WithFromEnv(),
	)
	// A partial resource (a detector found only some attributes) is still worth exporting with.
	if err != nil && !errors.Is(err, resource.ErrPartialResource) {
		return nil, fmt.Errorf("telemetry: resource: %w", err)
	}
	return res, nil
}
