// Package daemon is the main of every evcrm service process: it loads the typed configuration
// (flags with EVCRM_* environment fallbacks), sets up logging, tracing, authentication, the NATS
// connection and metrics, lets the service build itself, serves gRPC and runs the service's
// workers until SIGINT/SIGTERM, then shuts down in order (health NOT_SERVING, HTTP drain, gRPC
// drain, workers, telemetry, NATS drain). With -http-addr it also serves the REST/JSON gateway
// of the service's gRPC API (libs/platform/gateway), its OpenAPI document at /openapi.json and
// the service's own HTTP pages. A service's main.go only describes itself in a Spec.
package daemon

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"time"

	"github.com/nats-io/nats.go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/evcrm/evcrm/libs/eventstore"
	"github.com/evcrm/evcrm/libs/openapi"
	"github.com/evcrm/evcrm/libs/platform/config"
	"github.com/evcrm/evcrm/libs/platform/gateway"
	"github.com/evcrm/evcrm/libs/platform/grpcauth"
	"github.com/evcrm/evcrm/libs/platform/grpcclient"
	"github.com/evcrm/evcrm/libs/platform/grpcserver"
	"github.com/evcrm/evcrm/libs/platform/lifecycle"
	"github.com/evcrm/evcrm/libs/platform/logging"
	"github.com/evcrm/evcrm/libs/platform/metrics"
	"github.com/evcrm/evcrm/libs/platform/natsconn"
	"github.com/evcrm/evcrm/libs/platform/telemetry"
	"github.com/evcrm/evcrm/libs/projection"
	"github.com/evcrm/evcrm/libs/snapshotstore"
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
	// HTTP are handlers of the service's own served on the HTTP gateway's server beside the
	// REST API, by net/http pattern, e.g. "/dashboard/" (a path prefix) -> the dashboard. They
	// are not served when -http-addr is empty.
	HTTP map[string]http.Handler
}

// GatewayRegistrar registers one gRPC service's REST/JSON handlers; the generated
// Register<Service>Handler functions of libs/gen (*.pb.gw.go) are GatewayRegistrars.
type GatewayRegistrar = gateway.Registrar

// Spec describes a service.
type Spec struct {
	// Name is the service name (logs, traces, metrics) and the prefix of its errors.
	Name string
	// GRPCAddr, MetricsAddr, HTTPAddr and DataDir are the defaults of -grpc-addr,
	// -metrics-addr, -http-addr and -data-dir.
	GRPCAddr, MetricsAddr, HTTPAddr, DataDir string
	// Gateway registers the REST/JSON handlers of the service's gRPC services, served on
	// -http-addr. The gateway calls the service's own gRPC port over loopback, so REST calls
	// pass the same interceptors (auth, validation, errors) as gRPC ones.
	Gateway []GatewayRegistrar
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
	cfg := Config{Base: config.Base{Service: spec.Name, GRPCAddr: spec.GRPCAddr, MetricsAddr: spec.MetricsAddr, HTTPAddr: spec.HTTPAddr},
		DataDir: spec.DataDir}
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
	setMemoryLimit(logger, cgroupMemoryMax)
	tel, err := telemetry.Setup(ctx, telemetry.Config{Service: cfg.Service, OTLPEndpoint: cfg.OTLPEndpoint, Logger: logger})
	if err != nil {
		return err
	}
	authn, err := grpcauth.FromBase(cfg.Base)
	if err != nil {
		return err
	}
	if c, ok := authn.(interface{ Close() }); ok {
		defer c.Close()
	}
	if err := grpcclient.SetServiceTokenFile(cfg.ServiceTokenFile); err != nil {
		return err
	}
	tlsFiles := cfg.TLS()
	clientTLS, err := tlsFiles.Client()
	if err != nil {
		return err
	}
	grpcclient.SetTLS(clientTLS)
	serverTLS, err := tlsFiles.Server()
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
	if err := reg.Register(eventstore.Collector()); err != nil {
		return err
	}
	if err := reg.Register(snapshotstore.Collector()); err != nil {
		return err
	}
	built, err := spec.Build(ctx, Env{Config: cfg, Logger: logger, NATS: nc, Projection: pm})
	if err != nil {
		return err
	}
	if built.Close != nil {
		defer func() { _ = built.Close() }()
	}
	var serverOpts []grpc.ServerOption
	if serverTLS != nil {
		serverOpts = append(serverOpts, grpc.Creds(credentials.NewTLS(serverTLS)))
	}
	srv, err := grpcserver.New(grpcserver.Options{
		Logger: logger, Registerer: reg, Authenticator: authn, AllowBackfill: cfg.AllowBackfill,
		MaxRequestBytes: cfg.MaxRequestBytes,
		RateLimit:       grpcserver.RateLimit{Rate: cfg.RateLimit, Burst: cfg.RateBurst},
		ServerOptions:   serverOpts,
	})
	if err != nil {
		return err
	}
	built.Register(srv)
	// Listen here rather than in lifecycle: the gateway needs the gRPC port (a test's :0 too)
	// before serving starts, and an operator needs to know which flag moves a busy port.
	grpcLis, err := net.Listen("tcp", cfg.GRPCAddr)
	if err != nil {
		return fmt.Errorf("gRPC listen on %s (set -grpc-addr): %w", cfg.GRPCAddr, err)
	}
	defer grpcLis.Close()
	metricsServer := metrics.NewServer(reg)
	if cfg.Pprof {
		metricsServer.EnablePprof()
	}
	lc := lifecycle.Config{
		Logger: logger, ShutdownTimeout: cfg.ShutdownTimeout,
		GRPC: srv, GRPCListener: grpcLis, Metrics: metricsServer, MetricsAddr: cfg.MetricsAddr,
		Workers: built.Workers,
		Flush:   []func(context.Context) error{tel.Shutdown, func(context.Context) error { return nc.Drain() }},
	}
	if cfg.HTTPAddr != "" {
		loopTLS, err := tlsFiles.Loopback()
		if err != nil {
			return err
		}
		httpSrv, closeGateway, err := newGateway(ctx, spec, built, srv, grpcLis.Addr(), loopTLS, logger)
		if err != nil {
			return err
		}
		defer closeGateway()
		if lc.HTTPListener, err = net.Listen("tcp", cfg.HTTPAddr); err != nil {
			return fmt.Errorf("HTTP listen on %s (set -http-addr, or \"\" to turn the REST gateway off): %w", cfg.HTTPAddr, err)
		}
		if serverTLS != nil {
			// The REST gateway serves HTTPS with the same certificate and client rule as gRPC.
			lc.HTTPListener = tls.NewListener(lc.HTTPListener, serverTLS)
		}
		lc.HTTP = httpSrv
	}
	logger.Info(spec.Name+" service starting", "grpc", cfg.GRPCAddr, "http", cfg.HTTPAddr, "metrics", cfg.MetricsAddr, "data_dir", cfg.DataDir)
	return lifecycle.Run(ctx, lc)
}

// gatewayMaxRecv bounds one gRPC response the gateway relays (a list page of 1000 records, an
// export chunk); gRPC's client default of 4 MiB is tighter than what the server may send.
const gatewayMaxRecv = 32 << 20

// newGateway builds the HTTP server of the REST/JSON gateway over a loopback connection to the
// service's own gRPC listener at grpcAddr, and returns a func that closes the connection.
func newGateway(ctx context.Context, spec Spec, built Built, srv *grpcserver.Server, grpcAddr net.Addr, loopTLS *tls.Config, logger *slog.Logger) (*http.Server, func(), error) {
	creds := insecure.NewCredentials()
	if loopTLS != nil {
		creds = credentials.NewTLS(loopTLS)
	}
	conn, err := grpc.NewClient(loopback(grpcAddr), grpc.WithTransportCredentials(creds),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(gatewayMaxRecv)))
	if err != nil {
		return nil, nil, fmt.Errorf("gateway: dial %s: %w", grpcAddr, err)
	}
	names := make([]string, 0, len(srv.GetServiceInfo()))
	for name := range srv.GetServiceInfo() {
		names = append(names, name)
	}
	slices.Sort(names)
	doc, err := openapi.ForServices("evcrm "+spec.Name+" API", names...)
	if err != nil {
		_ = conn.Close()
		return nil, nil, err
	}
	h, err := gateway.New(ctx, gateway.Options{Conn: conn, Services: spec.Gateway, OpenAPI: doc, Handlers: built.HTTP})
	if err != nil {
		_ = conn.Close()
		return nil, nil, err
	}
	return &http.Server{
		Handler: h,
		// No write timeout: server streams (exports, rebuild progress) run for minutes.
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}, func() { _ = conn.Close() }, nil
}

// loopback is the address the gateway dials to reach a listener on addr: the listener's own IP,
// or 127.0.0.1 when it listens on every interface (":9101").
func loopback(addr net.Addr) string {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok || tcp.IP.IsUnspecified() {
		_, port, _ := net.SplitHostPort(addr.String())
		return net.JoinHostPort("127.0.0.1", port)
	}
	return tcp.String()
}
