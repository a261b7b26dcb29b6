package testkit

import (
	"context"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/evcrm/evcrm/libs/platform/grpcauth"
	"github.com/evcrm/evcrm/libs/platform/grpcserver"
)

// GRPC is a service behind the platform's real gRPC stack (interceptors, error mapping,
// validation, development authentication) on a loopback port.
type GRPC struct {
	// Conn is a client connection to the server.
	Conn *grpc.ClientConn
	srv  *grpcserver.Server
}

// StartGRPC serves what register adds on 127.0.0.1 with development authentication (tenant and
// user from metadata; see As). Stop ends it; t.Cleanup stops it too.
func StartGRPC(t testing.TB, register func(*grpcserver.Server)) *GRPC {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, err := grpcserver.New(grpcserver.Options{Logger: logger, Registerer: prometheus.NewRegistry(), Authenticator: grpcauth.Dev{}})
	require.NoError(t, err)
	register(srv)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = srv.Serve(lis) }()
	conn, err := grpc.NewClient("passthrough:///"+lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	g := &GRPC{Conn: conn, srv: srv}
	t.Cleanup(g.Stop)
	return g
}

// Stop closes the client connection and stops the server; it may be called more than once.
func (g *GRPC) Stop() {
	_ = g.Conn.Close()
	g.srv.Stop()
}

// As returns a context (30 s, cancelled at the end of the test) whose calls run as user of
// tenant under development authentication.
func As(t testing.TB, tenant, user string) context.Context {
	return AsFor(t, 30*time.Second, tenant, user)
}

// AsFor is As with a timeout of d instead of 30 s, for benchmarks whose calls on one context
// run for minutes.
func AsFor(t testing.TB, d time.Duration, tenant, user string) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return metadata.AppendToOutgoingContext(ctx, grpcauth.MetadataTenant, tenant, grpcauth.MetadataUser, user)
}

// Violations requires err to be INVALID_ARGUMENT and returns the fields of its
// google.rpc.BadRequest field violations.
func Violations(t testing.TB, err error) map[string]bool {
	t.Helper()
	st, ok := status.FromError(err)
	require.True(t, ok, "%v", err)
	require.Equal(t, codes.InvalidArgument, st.Code(), "%v", err)
	out := map[string]bool{}
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, v := range br.GetFieldViolations() {
				out[v.GetField()] = true
			}
		}
	}
	return out
}
