// Command grpchealth asks a gRPC server's grpc.health.v1 service whether it is SERVING and exits
// 0 if so, 1 otherwise. It is the container health check of the service images: they are
// distroless (no shell, no curl), and Docker's HEALTHCHECK and docker compose's healthcheck can
// only run a binary inside the container. Kubernetes needs none of this: its grpc probes speak
// the same protocol (deploy/k8s).
//
//	grpchealth -addr 127.0.0.1:9101 [-service crm.leads.v1.LeadsService] [-timeout 3s]
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
}

// run is main without the exit, so the test can call it: it returns the exit code.
func run(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("grpchealth", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:9090", "gRPC address of the server to check (host:port)")
	service := fs.String("service", "", "service name to check (empty: the server as a whole)")
	timeout := fs.Duration("timeout", 3*time.Second, "how long the check may take")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	status, err := check(ctx, *addr, *service)
	if err != nil {
		fmt.Fprintf(stderr, "grpchealth: %s: %v\n", *addr, err)
		return 1
	}
	if status != healthpb.HealthCheckResponse_SERVING {
		fmt.Fprintf(stderr, "grpchealth: %s: %s\n", *addr, status)
		return 1
	}
	return 0
}

// check returns the health status the server at addr reports for service.
func check(ctx context.Context, addr, service string) (healthpb.HealthCheckResponse_ServingStatus, error) {
	// Plaintext: the check runs inside the service's own container, against its loopback.
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return healthpb.HealthCheckResponse_UNKNOWN, err
	}
	defer conn.Close()
	resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: service})
	if err != nil {
		return healthpb.HealthCheckResponse_UNKNOWN, err
	}
	return resp.GetStatus(), nil
}
