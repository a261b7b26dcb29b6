package main

import (
	"net"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

func TestRunExitCodes(t *testing.T) {
	t.Parallel()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	hs := health.NewServer()
	healthpb.RegisterHealthServer(srv, hs)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	hs.SetServingStatus("crm.leads.v1.LeadsService", healthpb.HealthCheckResponse_NOT_SERVING)

	// A port nobody listens on: the closed listener's.
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := closed.Addr().String()
	_ = closed.Close()

	addr := lis.Addr().String()
	cases := []struct {
		name string
		args []string
		want int
		msg  string
	}{
		{"serving", []string{"-addr", addr}, 0, ""},
		{"not serving", []string{"-addr", addr, "-service", "crm.leads.v1.LeadsService"}, 1, "NOT_SERVING"},
		{"unknown service", []string{"-addr", addr, "-service", "nope"}, 1, "NotFound"},
		{"nobody listening", []string{"-addr", closedAddr, "-timeout", "1s"}, 1, closedAddr},
		{"bad flag", []string{"-nope"}, 2, "-nope"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var stderr strings.Builder
			if got := run(tc.args, &stderr); got != tc.want {
				t.Fatalf("exit %d, want %d (stderr %q)", got, tc.want, stderr.String())
			}
			if !strings.Contains(stderr.String(), tc.msg) {
				t.Fatalf("stderr %q does not mention %q", stderr.String(), tc.msg)
			}
		})
	}
	hs.Shutdown() // what a service does on SIGTERM
	if got := run([]string{"-addr", addr}, &strings.Builder{}); got != 1 {
		t.Fatalf("after Shutdown: exit %d, want 1", got)
	}
}
