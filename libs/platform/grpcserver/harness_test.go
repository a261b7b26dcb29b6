package grpcserver_test

import (
	"context"
	"log/slog"
	"net"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/evcrm/evcrm/libs/platform/grpcauth"
	"github.com/evcrm/evcrm/libs/platform/grpcserver"
	"github.com/evcrm/evcrm/libs/platform/internal/testsvc"
	"github.com/evcrm/evcrm/libs/platform/logging"
)

// env is one running server with a client connection to it.
type env struct {
	conn *grpc.ClientConn
	logs *testsvc.Recorder
	reg  *prometheus.Registry
	log  *slog.Logger
}

// start serves h on loopback with dev auth; mod may adjust the options.
func start(t *testing.T, h testsvc.Handlers, mod ...func(*grpcserver.Options)) *env {
	t.Helper()
	logs := &testsvc.Recorder{}
	e := &env{logs: logs, reg: prometheus.NewRegistry(), log: logging.New(logs, slog.LevelDebug)}
	opts := grpcserver.Options{Logger: e.log, Registerer: e.reg, Authenticator: grpcauth.Dev{}, Authorize: testsvc.Authorize}
	for _, m := range mod {
		m(&opts)
	}
	srv, err := grpcserver.New(opts)
	require.NoError(t, err)
	testsvc.Register(srv, h)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(lis) }()
	t.Cleanup(func() {
		srv.Stop()
		require.NoError(t, <-served)
	})
	e.conn = testsvc.Dial(t, lis.Addr().String())
	return e
}

// asUser returns ctx with development credentials for tenant acme.
func asUser(ctx context.Context, kv ...string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, append([]string{"x-tenant-id", "acme", "x-user-id", "u-1"}, kv...)...)
}
