// Package daemon is the main of every evcrm service process: it loads the typed configuration
// (flags with EVCRM_* environment fallbacks), sets up logging, tracing, authentication, the NATS
// connection and metrics, lets the service build itself, serves gRPC and runs the service's
// workers until SIGINT/SIGTERM, then shuts down in order (health NOT_SERVING, gRPC drain,
// workers, telemetry, NATS drain). A service's main.go only describes itself in a Spec.
package daemon

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"

	"github.com/nats-io/nats.go"

	"github.com/evcrm/evcrm/libs/platform/config"
	"github.com/evcrm/evcrm/libs/platform/grpcauth"
	"github.com/evcrm/evcrm/libs/platform/grpcserver"
	"github.com/evcrm/evcrm/libs/platform/lifecycle"
	"github.com/evcrm/evcrm/libs/platform/logging"
	"github.com/evcrm/evcrm/libs/platform/metrics"
	"github.com/evcrm/evcrm/libs/platform/natsconn"
	"github.com/evcrm/evcrm/libs/platform/telemetry"
	"github.com/evcrm/evcrm/libs/projection"
)

// Config is the configuration of a service that owns streams and keeps a rebuildable read
// model on local disk.
type Config struct {
	config.Base
	DataDir  string `flag:"data-dir" usage:"directory of the read model (SQLite); rebuilt from the stream when empty"`
	Replicas int    `flag:"replicas" default:"1" usage:"replicas of the streams and buckets the service creates (1 single node, 3 clusters)"`
}

// Validate checks the service's settings (config.Load calls it).
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

// Env is what a service gets to build itself.
type Env struct {
	Config Config
	Logger *slog.Logger
	NATS   *nats.Conn
	// Projection receives the metrics of the service's projection runners.
	Projection *projection.Metrics
}

// Built is a service ready to run.
type Built struct {
	// Register adds the service's gRPC services to the server.
	Register func(*grpcserver.Server)
	// Workers run beside the server (projectors, consumers) until shutdown.
	Workers []lifecycle.Worker
	// Close releases what Build opened (read models); it runs after the workers stopped.
	Close func() error
}

// Spec describes a service.
type Spec struct {
	// Name is the service name (logs, traces, metrics) and the prefix of its errors.
	Name string
	// GRPCAddr, MetricsAddr and DataDir are the defaults of -grpc-addr, -metrics-addr and
	// -data-dir.
	GRPCAddr, MetricsAddr, DataDir string
	// Flags, when set, is a pointer to a struct of the service's own settings, tagged like
	// Config (flag, default, usage, env) and loaded with it; Build reads it after loading.
	Flags any
	// Build builds the service on its connections.
	Build func(ctx context.Context, env Env) (Built, error)
}

// Main runs spec as the process's service and exits non-zero when it fails.
func Main(spec Spec) {
	if err := Run(context.Background(), spec); err != nil {
		fmt.Fprintln(os.Stderr, spec.Name+":", err)
		os.Exit(1)
	}
}

// Run loads the configuration from os.Args and the environment and runs the service until ctx
// ends or a signal arrives. -h prints the flags and returns nil.
func Run(ctx context.Context, spec Spec) error {
	cfg := Config{Base: config.Base{Service: spec.Name, GRPCAddr: spec.GRPCAddr, MetricsAddr: spec.MetricsAddr}, DataDir: spec.DataDir}
	var more []any
	if spec.Flags != nil {
		more = append(more, spec.Flags)
	}
	if err := (config.Loader{Args: os.Args[1:]}).Load(&cfg, more...); err != nil {
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
	built, err := spec.Build(ctx, Env{Config: cfg, Logger: logger, NATS: nc, Projection: pm})
	if err != nil {
		return err
	}
	if built.Close != nil {
		defer func() { _ = built.Close() }()
	}
	srv, err := grpcserver.New(grpcserver.Options{Logger: logger, Registerer: reg, Authenticator: authn})
	if err != nil {
		return err
	}
	built.Register(srv)
	logger.Info(spec.Name+" service starting", "grpc", cfg.GRPCAddr, "metrics", cfg.MetricsAddr, "data_dir", cfg.DataDir)
	return lifecycle.Run(ctx, lifecycle.Config{
		Logger: logger, ShutdownTimeout: cfg.ShutdownTimeout,
		GRPC: srv, GRPCAddr: cfg.GRPCAddr, Metrics: metrics.NewServer(reg), MetricsAddr: cfg.MetricsAddr,
		Workers: built.Workers,
		Flush:   []func(context.Context) error{tel.Shutdown, func(context.Context) error { return nc.Drain() }},
	})
}
