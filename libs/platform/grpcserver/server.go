// Package grpcserver builds the gRPC server every evcrm service exposes (STYLE.md §3), with the
// same instrumentation, safety nets and conventions everywhere:
//
//   - OpenTelemetry server spans (otelgrpc stats handler; health checks are not traced),
//   - grpc.health.v1 health service and server reflection (so grpcurl works),
//   - request id (x-request-id: taken from the caller or a new UUIDv7, echoed in the response
//     header) and correlation id (x-correlation-id, defaulting to the request id) in reqctx,
//   - Prometheus RPC metrics (grpc_server_* with handling-time histograms),
//   - error mapping through platform/grpcerr, logging internal failures,
//   - panic recovery (codes.Internal, logged with the stack),
//   - authentication through a platform/grpcauth Authenticator (health and reflection exempt),
//   - authorization by the platform/authz permission table (same exemptions),
//   - backfill: x-evcrm-backfill-time metadata into reqctx when Options.AllowBackfill, refused
//     otherwise (see [MetadataBackfillTime]),
//   - rate limiting per authenticated principal when Options.RateLimit is set (health and
//     reflection exempt; a stream counts once), after authentication so that it knows the
//     principal, before authorization so that refused calls count too,
//   - request validation: messages with Validate() error are checked before the handler.
//
// Received messages are bounded by Options.MaxRequestBytes ([DefaultMaxRequestBytes]).
//
// Interceptors run in that order, unary and streaming alike. Error mapping sits outside recovery,
// auth and validation so their failures are mapped too, and inside metrics so the metrics count
// the codes clients actually receive.
package grpcserver

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"time"

	grpcprom "github.com/grpc-ecosystem/go-grpc-middleware/providers/prometheus"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/recovery"
	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc/filters"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"

	"github.com/evcrm/evcrm/libs/platform/authz"
	"github.com/evcrm/evcrm/libs/platform/grpcauth"
	"github.com/evcrm/evcrm/libs/platform/grpcerr"
)

// Options configure [New]. Logger, Registerer and Authenticator are required: a server that
// silently dropped its metrics or served unauthenticated would be worse than one that refuses to
// start.
type Options struct {
	// Logger receives internal errors and panics.
	Logger *slog.Logger
	// Registerer receives the gRPC server metrics; pass the registry the metrics endpoint serves.
	Registerer prometheus.Registerer
	// Authenticator establishes tenant and actor of each call (grpcauth.FromBase picks one).
	Authenticator grpcauth.Authenticator
	// Authorize decides whether the authenticated caller may call a method; nil means
	// authz.Authorize, the permission table, which refuses methods it does not list. Tests that
	// serve test-only services pass their own.
	Authorize authz.Func
	// AuthExempt names further methods served without authentication, in addition to health and
	// reflection. Nil exempts only those.
	AuthExempt func(fullMethod string) bool
	// OTel adds options to the otelgrpc server handler (tests pass a tracer provider).
	OTel []otelgrpc.Option
	// ServerOptions are appended to the server's options (TLS credentials, keepalive, limits).
	ServerOptions []grpc.ServerOption
	// AllowBackfill lets callers date their calls in the past with [MetadataBackfillTime] (demo
	// data, imports of history). Off, such calls fail FailedPrecondition. Never on in production:
	// a backfilled call rewrites when things happened.
	AllowBackfill bool
	// MaxRequestBytes bounds one received message (unary request or streamed message); larger
	// ones fail ResourceExhausted before they are decoded. 0 means [DefaultMaxRequestBytes].
	MaxRequestBytes int
	// RateLimit limits calls per authenticated principal (tenant and subject); a zero Rate turns
	// it off. Refused calls fail ResourceExhausted with a RetryInfo detail.
	RateLimit RateLimit
}

// Server is a *grpc.Server with evcrm's interceptors, health and reflection. Register services on
// it as on any grpc.Server, then start it with [Server.Serve] and stop it with [Server.Shutdown].
type Server struct {
	*grpc.Server
	// Health is the server's health service; Serve marks every registered service SERVING and
	// Shutdown marks them NOT_SERVING.
	Health  *health.Server
	metrics *grpcprom.ServerMetrics
}

// New builds a server. Register the service implementations before calling Serve.
func New(opts Options) (*Server, error) {
	switch {
	case opts.Logger == nil:
		return nil, errors.New("grpcserver: Options.Logger is required")
	case opts.Registerer == nil:
		return nil, errors.New("grpcserver: Options.Registerer is required")
	case opts.Authenticator == nil:
		return nil, errors.New("grpcserver: Options.Authenticator is required")
	}
	exempt := grpcauth.ExemptMethod
	if extra := opts.AuthExempt; extra != nil {
		exempt = func(m string) bool { return grpcauth.ExemptMethod(m) || extra(m) }
	}

	if opts.MaxRequestBytes < 0 || opts.RateLimit.Rate < 0 || opts.RateLimit.Burst < 0 {
		return nil, errors.New("grpcserver: MaxRequestBytes and RateLimit must not be negative")
	}
	maxRecv := opts.MaxRequestBytes
	if maxRecv == 0 {
		maxRecv = DefaultMaxRequestBytes
	}
	var lims *limiters
	if opts.RateLimit.Rate > 0 {
		lims = newLimiters(opts.RateLimit, time.Now)
	}

	metrics := grpcprom.NewServerMetrics(grpcprom.WithServerHandlingTimeHistogram(
		grpcprom.WithHistogramBuckets([]float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}),
	))
	if err := opts.Registerer.Register(metrics); err != nil {
		return nil, errors.Join(errors.New("grpcserver: register metrics"), err)
	}

	otelOpts := append([]otelgrpc.Option{otelgrpc.WithFilter(filters.Not(filters.HealthCheck()))}, opts.OTel...)
	serverOpts := []grpc.ServerOption{
		grpc.StatsHandler(otelgrpc.NewServerHandler(otelOpts...)),
		grpc.MaxRecvMsgSize(maxRecv),
		grpc.ChainUnaryInterceptor(
			requestIDUnary(),
			metrics.UnaryServerInterceptor(),
			grpcerr.UnaryServerInterceptor(opts.Logger),
			recovery.UnaryServerInterceptor(recoveryHandler(opts.Logger)),
			grpcauth.UnaryServerInterceptor(opts.Authenticator, exempt),
			rateLimitUnary(lims, exempt),
			authz.UnaryServerInterceptor(opts.Authorize, exempt),
			backfillUnary(opts.AllowBackfill),
			validationUnary(),
		),
		grpc.ChainStreamInterceptor(
			requestIDStream(),
			metrics.StreamServerInterceptor(),
			grpcerr.StreamServerInterceptor(opts.Logger),
			recovery.StreamServerInterceptor(recoveryHandler(opts.Logger)),
			grpcauth.StreamServerInterceptor(opts.Authenticator, exempt),
			rateLimitStream(lims, exempt),
			authz.StreamServerInterceptor(opts.Authorize, exempt),
			backfillStream(opts.AllowBackfill),
			validationStream(),
		),
	}
	gs := grpc.NewServer(append(serverOpts, opts.ServerOptions...)...)

	hs := health.NewServer()
	// Not serving until Serve: a load balancer must not route to a server still being wired.
	hs.SetServingStatus("", healthpb.HealthCheckResponse_NOT_SERVING)
	healthpb.RegisterHealthServer(gs, hs)
	reflection.Register(gs)

	return &Server{Server: gs, Health: hs, metrics: metrics}, nil
}

// Serve marks the server and every registered service SERVING, pre-creates their metric series
// (so dashboards show zeros instead of gaps) and serves lis until Shutdown. It returns nil after
// Shutdown.
func (s *Server) Serve(lis net.Listener) error {
	s.metrics.InitializeMetrics(s.Server)
	for name := range s.GetServiceInfo() {
		s.Health.SetServingStatus(name, healthpb.HealthCheckResponse_SERVING)
	}
	s.Health.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	return s.Server.Serve(lis)
}

// Shutdown flips health to NOT_SERVING, lets in-flight calls finish and refuses new ones until ctx
// is done, then closes whatever is left. Health watchers and long streams would otherwise hold a
// graceful stop open forever, hence the hard stop at the deadline.
func (s *Server) Shutdown(ctx context.Context) {
	s.Health.Shutdown()
	done := make(chan struct{})
	go func() {
		s.GracefulStop()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		s.Stop()
		<-done
	}
}
