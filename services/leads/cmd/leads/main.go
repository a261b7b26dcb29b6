// Command leads runs the leads service: lead capture, lifecycle, scoring, assignment and dedupe
// over gRPC, with its read model built from the CRM_LEADS stream. Flags have EVCRM_* environment
// fallbacks; -h lists them.
package main

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
	"github.com/evcrm/evcrm/libs/platform/natsconn"
	"github.com/evcrm/evcrm/libs/platform/telemetry"
	"github.com/evcrm/evcrm/libs/projection"

	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	leadsgrpc "github.com/evcrm/evcrm/services/leads/internal/ports/grpc"
	"github.com/evcrm/evcrm/services/leads/internal/service"
)

// Config is the leads service's configuration.
type Config struct {
	config.Base
	DataDir  string `flag:"data-dir" default:".data/leads" usage:"directory of the read model (SQLite); rebuilt from the stream when empty"`
	Replicas int    `flag:"replicas" default:"1" usage:"replicas of the streams and buckets the service creates (1 single node, 3 clusters)"`
}

// Validate checks the service's own settings (config.Load calls it).
func (c Config) Validate() error {
	err := c.Base.Validate()
	if c.Replicas != 1 && c.Replicas != 3 && c.Replicas != 5 {
		err = errors.Join(err, config.Invalid("replicas", "must be 1, 3 or 5, got %d", c.Replicas))
	}
	if c.DataDir == "" {
		err = errors.Join(err, config.Invalid("data-dir", "must not be empty"))
	}
	return err
}

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "leads:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	cfg := Config{Base: config.Base{Service: "leads", GRPCAddr: ":9101", MetricsAddr: ":9201"}}
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
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	nc, err := natsconn.Connect(cfg.Base, logger)
	if err != nil {
		return err
	}
	defer nc.Close()

	reg := metrics.NewRegistry()
	pm := projection.NewMetrics()
	if err := reg.Register(pm); err != nil {
		return err
	}
	svc, err := service.New(ctx, nc, service.Options{DataDir: cfg.DataDir, Replicas: cfg.Replicas, Logger: logger, Metrics: pm})
	if err != nil {
		return err
	}
	defer func() { _ = svc.Close() }()

	srv, err := grpcserver.New(grpcserver.Options{Logger: logger, Registerer: reg, Authenticator: authn})
	if err != nil {
		return err
	}
	leadsv1.RegisterLeadsServiceServer(srv, leadsgrpc.NewServer(svc.App))
	logger.Info("leads service starting", "grpc", cfg.GRPCAddr, "metrics", cfg.MetricsAddr, "data_dir", cfg.DataDir)
	return lifecycle.Run(ctx, lifecycle.Config{
		Logger: logger, ShutdownTimeout: cfg.ShutdownTimeout,
		GRPC: srv, GRPCAddr: cfg.GRPCAddr, Metrics: metrics.NewServer(reg), MetricsAddr: cfg.MetricsAddr,
		Workers: []lifecycle.Worker{{Name: "lead-view-projector", Run: svc.Projector.Run}},
		Flush:   []func(context.Context) error{tel.Shutdown, func(context.Context) error { return nc.Drain() }},
	})
}
