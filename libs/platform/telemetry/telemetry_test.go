package telemetry_test

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/grpc"

	"github.com/evcrm/evcrm/libs/platform/telemetry"
)

// collector is a minimal OTLP/gRPC trace receiver.
type collector struct {
	coltracepb.UnimplementedTraceServiceServer
	mu    sync.Mutex
	spans map[string]string // span name → service.name
}

func (c *collector) Export(_ context.Context, req *coltracepb.ExportTraceServiceRequest) (*coltracepb.ExportTraceServiceResponse, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, rs := range req.GetResourceSpans() {
		service := ""
		for _, a := range rs.GetResource().GetAttributes() {
			if a.GetKey() == "service.name" {
				service = a.GetValue().GetStringValue()
			}
		}
		for _, ss := range rs.GetScopeSpans() {
			for _, s := range ss.GetSpans() {
				c.spans[s.GetName()] = service
			}
		}
	}
	return &coltracepb.ExportTraceServiceResponse{}, nil
}

// The tests replace OpenTelemetry globals, so they run one after the other.

func TestSetupExportsAndFlushesOnShutdown(t *testing.T) {
	col := &collector{spans: map[string]string{}}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	gs := grpc.NewServer()
	coltracepb.RegisterTraceServiceServer(gs, col)
	go func() { _ = gs.Serve(lis) }()
	t.Cleanup(gs.Stop)

	tel, err := telemetry.Setup(t.Context(), telemetry.Config{Service: "leads", Version: "v1.2.3", OTLPEndpoint: "http://" + lis.Addr().String()})
	require.NoError(t, err)
	_, span := otel.Tracer("test").Start(t.Context(), "ConvertLead")
	require.True(t, span.SpanContext().IsValid())
	span.End()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, tel.Shutdown(ctx), "shutdown flushes the batch")
	col.mu.Lock()
	defer col.mu.Unlock()
	assert.Equal(t, "leads", col.spans["ConvertLead"])
}

func TestSetupWithoutEndpointStillPropagates(t *testing.T) {
	tel, err := telemetry.Setup(t.Context(), telemetry.Config{Service: "leads"})
	require.NoError(t, err)
	t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })

	// An incoming trace context is carried on even though nothing is exported.
	in := propagation.MapCarrier{"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "baggage": "tenant=acme"}
	ctx := otel.GetTextMapPropagator().Extract(context.Background(), in)
	ctx, span := tel.TracerProvider().Tracer("test").Start(ctx, "op")
	defer span.End()
	assert.False(t, span.IsRecording())
	out := propagation.MapCarrier{}
	otel.GetTextMapPropagator().Inject(ctx, out)
	assert.Contains(t, out["traceparent"], "0af7651916cd43dd8448eb211c80319c")
	assert.Equal(t, "tenant=acme", out["baggage"])
}
