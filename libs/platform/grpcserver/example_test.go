package grpcserver_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/evcrm/evcrm/libs/platform/grpcauth"
	"github.com/evcrm/evcrm/libs/platform/grpcserver"
	"github.com/evcrm/evcrm/libs/platform/logging"
)

// A server is built once per process; services register on it like on any grpc.Server.
func ExampleNew() {
	srv, err := grpcserver.New(grpcserver.Options{
		Logger:        logging.New(io.Discard, slog.LevelInfo),
		Registerer:    prometheus.NewRegistry(),
		Authenticator: grpcauth.Dev{},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	// leadsv1.RegisterLeadsServiceServer(srv, ports.NewGRPCServer(app))

	lis, _ := net.Listen("tcp", "127.0.0.1:0")
	go func() { _ = srv.Serve(lis) }()
	defer srv.Shutdown(context.Background())

	conn, _ := grpc.NewClient("passthrough:///"+lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	defer conn.Close()
	// Health needs no credentials, so probes and grpcurl work against any evcrm service.
	resp, err := healthpb.NewHealthClient(conn).Check(context.Background(), &healthpb.HealthCheckRequest{}, grpc.WaitForReady(true))
	fmt.Println(resp.GetStatus(), err)
	// Output: SERVING <nil>
}
