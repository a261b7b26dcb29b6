package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// dial opens a client connection to a local service (plain text: everything is on loopback).
func dial(addr string) (*grpc.ClientConn, error) {
	return grpc.NewClient(dialAddr(addr), grpc.WithTransportCredentials(insecure.NewCredentials()))
}

// waitHealthy waits until every service answers SERVING on grpc.health.v1, or fails on the
// first service that dies, the timeout, or ctx.
func (sys *system) waitHealthy(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, sys.s.ReadyTimeout)
	defer cancel()
	go func() {
		select {
		case <-sys.failed:
			cancel()
		case <-ctx.Done():
		}
	}()
	start := time.Now()
	var wg sync.WaitGroup
	errs := make([]error, len(services))
	for i, svc := range services {
		wg.Go(func() { errs[i] = waitServing(ctx, sys.s.Services[svc].GRPC) })
	}
	wg.Wait()
	select {
	case <-sys.failed:
		return sys.failErr()
	default:
	}
	for i, err := range errs {
		if err != nil {
			return fmt.Errorf("%s is not healthy on %s after %s: %w", services[i], sys.s.Services[services[i]].GRPC,
				time.Since(start).Round(time.Second), err)
		}
	}
	sys.out.Printf("all services are healthy (%s)", time.Since(start).Round(100*time.Millisecond))
	return nil
}

// waitServing polls a service's gRPC health until it is SERVING.
func waitServing(ctx context.Context, addr string) error {
	conn, err := dial(addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	client := healthpb.NewHealthClient(conn)
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		callCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
		resp, err := client.Check(callCtx, &healthpb.HealthCheckRequest{})
		cancel()
		switch {
		case err != nil:
			last = err
		case resp.GetStatus() == healthpb.HealthCheckResponse_SERVING:
			return nil
		default:
			last = fmt.Errorf("health is %s", resp.GetStatus())
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last check: %v)", ctx.Err(), last)
		case <-tick.C:
		}
	}
}
