package grpcclient_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

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
		Authenticator: grpcauth.Dev{}, Authorize: testsvc.Authorize,
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

// Inside a request the caller's bearer token travels on; outside any request the service
// credential does; a token the caller set explicitly is left alone.
func TestOutgoingCredentials(t *testing.T) {
	// Not parallel: the service credential is process-wide.
	tokFile := filepath.Join(t.TempDir(), "svc.jwt")
	require.NoError(t, os.WriteFile(tokFile, []byte("svc-token\n"), 0o600))
	require.NoError(t, grpcclient.SetServiceTokenFile(tokFile))
	t.Cleanup(func() { _ = grpcclient.SetServiceTokenFile("") })

	auth := func(ctx context.Context) []string {
		md, _ := metadata.FromOutgoingContext(grpcclient.Outgoing(ctx))
		return md.Get("authorization")
	}
	inRequest := metadata.NewIncomingContext(context.Background(), metadata.Pairs("authorization", "Bearer user-token"))
	assert.Equal(t, []string{"Bearer user-token"}, auth(inRequest))
	viaGateway := metadata.NewIncomingContext(context.Background(), metadata.Pairs("authorization", "Bearer user-token", "authorization", "Bearer user-token"))
	assert.Equal(t, []string{"Bearer user-token"}, auth(viaGateway), "a REST call's token is forwarded once")
	assert.Equal(t, []string{"Bearer svc-token"}, auth(context.Background()))
	explicit := metadata.AppendToOutgoingContext(inRequest, "authorization", "Bearer other")
	assert.Equal(t, []string{"Bearer other"}, auth(explicit))

	assert.Error(t, grpcclient.SetServiceTokenFile(filepath.Join(t.TempDir(), "missing")), "a missing credential fails the start")
	require.NoError(t, grpcclient.SetServiceTokenFile(""))
	assert.Empty(t, auth(context.Background()))
}

// Under JWT authentication, over real gRPC: a call made inside a user's request reaches the
// callee as that user (the token travels on); a call made outside any request (a rule engine)
// reaches it as the service, in the tenant and with the actor the caller names, with the
// service role only.
func TestCredentialsCrossServiceCallsUnderJWT(t *testing.T) {
	// Not parallel: the service credential is process-wide.
	dir := t.TempDir()
	iss, err := grpcauth.LoadOrCreateDevIssuer(dir, "https://idp.test", "evcrm")
	require.NoError(t, err)
	authn, err := grpcauth.NewJWT(context.Background(), grpcauth.JWTConfig{JWKS: filepath.Join(dir, grpcauth.DevJWKSFile),
		Issuer: "https://idp.test", Audience: "evcrm"})
	require.NoError(t, err)
	srv, err := grpcserver.New(grpcserver.Options{
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Registerer: prometheus.NewRegistry(),
		Authenticator: authn, Authorize: testsvc.Authorize,
	})
	require.NoError(t, err)
	testsvc.Register(srv, testsvc.Handlers{Unary: func(ctx context.Context, _ *testsvc.Request) (string, error) {
		tenant, _ := reqctx.Tenant(ctx)
		a := reqctx.ActorFrom(ctx)
		return strings.Join([]string{tenant, a.ID, strings.Join(a.Roles, "+")}, "|"), nil
	}})
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	conn, err := grpcclient.New("passthrough:///" + lis.Addr().String())
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })

	svcTok, err := iss.Mint(grpcauth.TokenClaims{Subject: "svc-campaign", Roles: []string{"service"}, TTL: time.Hour})
	require.NoError(t, err)
	tokFile := filepath.Join(dir, "service.token")
	require.NoError(t, os.WriteFile(tokFile, []byte(svcTok), 0o600))
	require.NoError(t, grpcclient.SetServiceTokenFile(tokFile))
	t.Cleanup(func() { _ = grpcclient.SetServiceTokenFile("") })

	// Outside a request: the rule engine's context.
	engine := reqctx.WithActor(reqctx.WithTenant(context.Background(), "globex"), reqctx.Actor{Type: reqctx.ActorService, ID: "campaign-rules"})
	got, _, err := testsvc.Call(engine, conn, "x")
	require.NoError(t, err)
	assert.Equal(t, "globex|campaign-rules|service", got)

	// Inside a request: the handler's context holds the user's incoming token (and the reqctx
	// the interceptor derived from it, whatever roles that claims).
	userTok, err := iss.Mint(grpcauth.TokenClaims{Subject: "u-7", Tenant: "acme", Roles: []string{"sales_rep"}, TTL: time.Hour})
	require.NoError(t, err)
	inRequest := metadata.NewIncomingContext(context.Background(), metadata.Pairs("authorization", "Bearer "+userTok))
	inRequest = reqctx.WithActor(reqctx.WithTenant(inRequest, "acme"), reqctx.Actor{ID: "u-7", Roles: []string{"sales_rep"}})
	got, _, err = testsvc.Call(inRequest, conn, "x")
	require.NoError(t, err)
	assert.Equal(t, "acme|u-7|sales_rep", got)

	// Without the service credential a call outside a request is refused.
	require.NoError(t, grpcclient.SetServiceTokenFile(""))
	_, _, err = testsvc.Call(engine, conn, "x")
	assert.Equal(t, codes.Unauthenticated, status.Code(err))
}
