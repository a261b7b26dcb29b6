package lifecycle_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/evcrm/evcrm/libs/platform/config"
	"github.com/evcrm/evcrm/libs/platform/grpcauth"
	"github.com/evcrm/evcrm/libs/platform/grpcserver"
	"github.com/evcrm/evcrm/libs/platform/lifecycle"
	"github.com/evcrm/evcrm/libs/platform/logging"
	"github.com/evcrm/evcrm/libs/platform/metrics"
	"github.com/evcrm/evcrm/libs/platform/telemetry"
)

// serviceConfig is what a service's cmd/<name>/main.go declares.
type serviceConfig struct {
	config.Base
	ClickHouseAddr string `flag:"clickhouse-addr" default:"127.0.0.1:9000" usage:"ClickHouse native protocol address"`
}

// run is the whole of a service's main package apart from main itself.
func run(ctx context.Context) error {
	cfg := serviceConfig{Base: config.Base{Service: "analytics", GRPCAddr: ":9104", MetricsAddr: ":9204"}}
	if err := config.Load(&cfg); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	logger := logging.New(os.Stderr, cfg.LogLevel)
	tel, err := telemetry.Setup(ctx, telemetry.Config{Service: cfg.Service, OTLPEndpoint: cfg.OTLPEndpoint, Logger: logger})
	if err != nil {
		return err
	}
	authn, err := grpcauth.FromBase(cfg.Base)
	if err != nil {
		return err
	}
	reg := metrics.NewRegistry()
	srv, err := grpcserver.New(grpcserver.Options{Logger: logger, Registerer: reg, Authenticator: authn})
	if err != nil {
		return err
	}
	// analyticsv1.RegisterAnalyticsServiceServer(srv, ports.NewGRPCServer(app))
	projector := func(ctx context.Context) error { <-ctx.Done(); return nil } // e.g. projection.Runner.Run
	return lifecycle.Run(ctx, lifecycle.Config{
		Logger: logger, ShutdownTimeout: cfg.ShutdownTimeout,
		GRPC: srv, GRPCAddr: cfg.GRPCAddr,
		Metrics: metrics.NewServer(reg), MetricsAddr: cfg.MetricsAddr,
		Workers: []lifecycle.Worker{{Name: "projector", Run: projector}},
		Flush:   []func(context.Context) error{tel.Shutdown},
	})
}

// The main pattern of every evcrm service: main only reports; run wires and calls Run, which
// returns after SIGINT/SIGTERM once everything has drained.
func ExampleRun() {
	main := func() {
		if err := run(context.Background()); err != nil {
			fmt.Fprintln(os.Stderr, "analytics:", err)
			os.Exit(1)
		}
	}
	_ = main // a real main runs until it is signalled, so the example does not call it
}
