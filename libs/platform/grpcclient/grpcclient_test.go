package grpcclient_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/metadata"

	"github.com/evcrm/evcrm/libs/platform/grpcauth"
	"github.com/evcrm/evcrm/libs/platform/grpcclient"
	"github.com/evcrm/evcrm/libs/platform/grpcserver"
	"github.com/evcrm/evcrm/libs/platform/internal/testsvc"
	"github.com/evcrm/evcrm/libs/reqctx"
)

// A service handling a request calls another service: the callee sees the caller's tenant,
// actor, roles and correlation id, over real gRPC on loopback through the full server stack.
func TestIdentityCrossesServiceCalls(t *testing.T) {
	t.Parallel()
	srv, err := grpcserver.New(grpcserver.Options{
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Registerer: prometheus.NewRegistry(),
		Authenticator: grpcauth.Dev{},
	})
	require.NoError(t, err)
	testsvc.Register(srv, testsvc.Handlers{Unary: func(ctx context.Context, _ *testsvc.Request) (string, error) {
		tenant, _ := reqctx.Tenant(ctx)
		a := reqctx.ActorFrom(ctx)
		return strings.Join([]string{tenant, a.ID, strings.Join(a.Roles, "+"), reqctx.CorrelationID(ctx)}, "|"), nil
	}})
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)

	conn, err := grpcclient.New("passthrough:///" + lis.Addr().String())
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })

	ctx := reqctx.WithTenant(context.Background(), "acme")
	ctx = reqctx.WithActor(ctx, reqctx.Actor{Type: reqctx.ActorUser, ID: "u-42", Roles: []string{"sales_rep", "marketing"}})
	ctx = reqctx.WithRequestID(ctx, "req-origin")
	got, _, err := testsvc.Call(ctx, conn, "x")
	require.NoError(t, err)
	assert.Equal(t, "acme|u-42|sales_rep+marketing|req-origin", got, "the caller's request id becomes the correlation id")

	ctx = reqctx.WithCorrelationID(ctx, "corr-1")
	got, _, err = testsvc.Call(ctx, conn, "x")
	require.NoError(t, err)
	assert.Equal(t, "acme|u-42|sales_rep+marketing|corr-1", got)

	// Metadata set explicitly by the caller wins.
	got, _, err = testsvc.Call(metadata.AppendToOutgoingContext(ctx, grpcauth.MetadataTenant, "globex"), conn, "x")
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(got, "globex|"), got)

	// Without a tenant in the context the callee refuses the call.
	_, _, err = testsvc.Call(context.Background(), conn, "x")
	assert.Error(t, err)
}
