// Package lifecycle runs a service process: its gRPC server, its metrics endpoint and its
// background workers (event consumers, projectors), until SIGINT/SIGTERM or a failure, and then
// shuts them down in the order that loses no work (STYLE.md §2).
//
// Every service's main follows the same shape. main only turns an error into an exit status;
// run wires the service and hands the pieces to [Run]:
//
//	func main() {
//		if err := run(context.Background()); err != nil {
//			fmt.Fprintln(os.Stderr, "leads:", err)
//			os.Exit(1)
//		}
//	}
//
//	func run(ctx context.Context) error {
//		cfg := Config{Base: config.Base{Service: "leads", GRPCAddr: ":9101", MetricsAddr: ":9201"}}
//		if err := config.Load(&cfg); err != nil {
//			if errors.Is(err, flag.ErrHelp) {
//				return nil
//			}
//			return err
//		}
//		logger := logging.New(os.Stderr, cfg.LogLevel)
//		tel, err := telemetry.Setup(ctx, telemetry.Config{Service: cfg.Service, OTLPEndpoint: cfg.OTLPEndpoint, Logger: logger})
//		if err != nil {
//			return err
//		}
//		authn, err := grpcauth.FromBase(cfg.Base)
//		if err != nil {
//			return err
//		}
//		reg := metrics.NewRegistry()
//		srv, err := grpcserver.New(grpcserver.Options{Logger: logger, Registerer: reg, Authenticator: authn})
//		if err != nil {
//			return err
//		}
//		app, projector, err := service.NewApplication(ctx, cfg) // adapters, handlers, consumers
//		if err != nil {
//			return err
//		}
//		leadsv1.RegisterLeadsServiceServer(srv, ports.NewGRPCServer(app))
//		return lifecycle.Run(ctx, lifecycle.Config{
//			Logger: logger, ShutdownTimeout: cfg.ShutdownTimeout,
//			GRPC: srv, GRPCAddr: cfg.GRPCAddr,
//			Metrics: metrics.NewServer(reg), MetricsAddr: cfg.MetricsAddr,
//			Workers: []lifecycle.Worker{{Name: "lead-projection", Run: projector.Run}},
//			Flush:   []func(context.Context) error{tel.Shutdown},
//		})
//	}
//
// Keeping the work in run, not main, lets deferred cleanups run before os.Exit and makes the
// whole service startable from a test.
package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc"

	"github.com/evcrm/evcrm/libs/platform/grpcserver"
	"github.com/evcrm/evcrm/libs/platform/metrics"
)

// Worker is a background task that runs for the life of the process.
type Worker struct {
	// Name identifies the worker in logs and errors.
	Name string
	// Run blocks until ctx is cancelled, then finishes the message in hand (ack or nack it),
	// stops fetching and returns. Returning nil or ctx's error after cancellation is a clean stop.
	// Returning before cancellation ends the worker; with an error it also shuts the whole
	// process down, because a service whose consumer died would serve stale reads forever.
	Run func(ctx context.Context) error
}

// Config lists what Run runs. Every component is optional, so the same Run serves a pure consumer
// process as well as an API server.
type Config struct {
	// Logger receives lifecycle events (listening, shutting down, stragglers). Required.
	Logger *slog.Logger
	// GRPC is the API server.
	GRPC *grpcserver.Server
	// GRPCAddr is where GRPC listens, unless GRPCListener is set.
	GRPCAddr string
	// GRPCListener, if set, is used instead of listening on GRPCAddr (tests pass 127.0.0.1:0).
	GRPCListener net.Listener
	// Metrics is the /metrics and /healthz server.
	Metrics *metrics.Server
	// MetricsAddr is where Metrics listens, unless MetricsListener is set; "" with no listener
	// leaves Metrics off.
	MetricsAddr string
	// MetricsListener, if set, is used instead of listening on MetricsAddr.
	MetricsListener net.Listener
	// HTTP is the REST/JSON gateway server (libs/platform/gateway), which calls GRPC over
	// loopback; it is drained before GRPC so that its in-flight calls can still complete.
	HTTP *http.Server
	// HTTPAddr is where HTTP listens, unless HTTPListener is set; "" with no listener leaves
	// HTTP off.
	HTTPAddr string
	// HTTPListener, if set, is used instead of listening on HTTPAddr.
	HTTPListener net.Listener
	// Workers run alongside the servers and are stopped after the gRPC server drained, so
	// in-flight calls that wait for a read model to catch up can still complete.
	Workers []Worker
	// DrainDelay is how long the process keeps serving after it reported NOT_SERVING, so load
	// balancers that poll health stop routing to it before it refuses calls. Zero means no delay
	// (a Kubernetes preStop hook usually covers this).
	DrainDelay time.Duration
	// ShutdownTimeout bounds the gRPC drain, the worker drain and the flush, each. Zero means 15s.
	ShutdownTimeout time.Duration
	// Flush runs last, in order, after everything else stopped (telemetry Shutdown), so spans
	// and logs of the shutdown itself are not lost.
	Flush []func(context.Context) error
}

const defaultShutdownTimeout = 15 * time.Second

// Run runs the configured components until ctx is cancelled, SIGINT or SIGTERM arrives, or a
// component fails, then shuts down:
//
//  1. /healthz and gRPC health report NOT_SERVING, so load balancers stop sending traffic, and
//     the process keeps serving for DrainDelay;
//  2. the HTTP gateway stops accepting requests and waits for in-flight ones (closed hard after
//     ShutdownTimeout), then the gRPC server stops accepting calls and waits for in-flight ones
//     (GracefulStop), and is stopped hard after ShutdownTimeout;
//  3. workers are cancelled and given ShutdownTimeout to drain;
//  4. the metrics server stops;
//  5. Flush functions run.
//
// Once shutdown begins, a second SIGINT/SIGTERM kills the process immediately (default signal
// behaviour is restored), for an operator who does not want to wait.
//
// Run returns nil after a shutdown caused by a signal or ctx, and otherwise the first failure
// (a server that could not listen, a worker that failed) joined with any shutdown errors.
func Run(ctx context.Context, cfg Config) error {
	if cfg.Logger == nil {
		return errors.New("lifecycle: Config.Logger is required")
	}
	timeout := cfg.ShutdownTimeout
	if timeout <= 0 {
		timeout = defaultShutdownTimeout
	}
	log := cfg.Logger

	grpcLis, metricsLis, err := listen(cfg)
	if err != nil {
		return err
	}
	httpLis, err := listenHTTP(cfg)
	if err != nil {
		for _, l := range []net.Listener{grpcLis, metricsLis} {
			if l != nil {
				_ = l.Close()
			}
		}
		return err
	}

	sigCtx, stopSignals := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stopSignals()
	g, gctx := errgroup.WithContext(sigCtx)

	if grpcLis != nil {
		log.Info("gRPC listening", slog.String("addr", grpcLis.Addr().String()))
		g.Go(func() error {
			// ErrServerStopped means shutdown won the race against Serve starting: not a failure.
			if err := cfg.GRPC.Serve(grpcLis); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
				return fmt.Errorf("lifecycle: grpc server: %w", err)
			}
			return nil
		})
	}
	if httpLis != nil {
		log.Info("HTTP gateway listening", slog.String("addr", httpLis.Addr().String()))
		g.Go(func() error {
			if err := cfg.HTTP.Serve(httpLis); err != nil && !errors.Is(err, http.ErrServerClosed) {
				return fmt.Errorf("lifecycle: http server: %w", err)
			}
			return nil
		})
	}
	if metricsLis != nil {
		log.Info("metrics listening", slog.String("addr", metricsLis.Addr().String()))
		g.Go(func() error {
			if err := cfg.Metrics.Serve(metricsLis); err != nil {
				return fmt.Errorf("lifecycle: metrics server: %w", err)
			}
			return nil
		})
	}

	// Workers get their own context: they must keep running while the gRPC server drains, and
	// are cancelled only afterwards.
	workerCtx, cancelWorkers := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWorkers()
	running := make([]*runningWorker, 0, len(cfg.Workers))
	for _, w := range cfg.Workers {
		rw := &runningWorker{Worker: w, done: make(chan struct{})}
		running = append(running, rw)
		go func() {
			defer close(rw.done)
			rw.err = rw.Run(workerCtx)
		}()
		// Watch the worker from inside the group so its failure cancels gctx; the worker itself
		// runs outside the group so a worker that ignores cancellation cannot block Run forever.
		g.Go(func() error {
			select {
			case <-rw.done:
				if rw.err != nil && workerCtx.Err() == nil {
					return fmt.Errorf("lifecycle: worker %s: %w", rw.Name, rw.err)
				}
				if workerCtx.Err() == nil {
					log.Info("worker finished", slog.String("worker", rw.Name))
				}
				return nil
			case <-gctx.Done():
				return nil
			}
		})
	}

	var shutdownErrs []error
	g.Go(func() error {
		<-gctx.Done()
		// From here on a second signal should kill the process rather than be swallowed.
		stopSignals()
		log.Info("shutting down", slog.String("cause", shutdownCause(ctx, gctx)))

		if cfg.Metrics != nil {
			cfg.Metrics.Drain()
		}
		if cfg.GRPC != nil {
			cfg.GRPC.Health.Shutdown()
		}
		if cfg.DrainDelay > 0 {
			time.Sleep(cfg.DrainDelay)
		}
		if httpLis != nil {
			// Before gRPC: a REST request in flight is a gRPC call the gateway has yet to make.
			sctx, cancel := context.WithTimeout(context.Background(), timeout)
			if err := cfg.HTTP.Shutdown(sctx); err != nil {
				log.Warn("HTTP requests still running at shutdown timeout were cut off", slog.Duration("timeout", timeout))
				_ = cfg.HTTP.Close()
			}
			cancel()
		}
		if cfg.GRPC != nil {
			sctx, cancel := context.WithTimeout(context.Background(), timeout)
			cfg.GRPC.Shutdown(sctx)
			if sctx.Err() != nil {
				log.Warn("gRPC calls still running at shutdown timeout were cut off", slog.Duration("timeout", timeout))
			}
			cancel()
		}

		cancelWorkers()
		shutdownErrs = append(shutdownErrs, drainWorkers(log, running, timeout)...)

		if cfg.Metrics != nil {
			sctx, cancel := context.WithTimeout(context.Background(), timeout)
			if err := cfg.Metrics.Shutdown(sctx); err != nil {
				shutdownErrs = append(shutdownErrs, fmt.Errorf("lifecycle: metrics shutdown: %w", err))
			}
			cancel()
		}
		return nil
	})

	runErr := g.Wait()

	fctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for _, flush := range cfg.Flush {
		if err := flush(fctx); err != nil {
			shutdownErrs = append(shutdownErrs, fmt.Errorf("lifecycle: flush: %w", err))
		}
	}
	err = errors.Join(append([]error{runErr}, shutdownErrs...)...)
	if err != nil {
		log.Error("stopped with error", slog.String("error", err.Error()))
		return err
	}
	log.Info("stopped")
	return nil
}

type runningWorker struct {
	Worker
	done chan struct{}
	err  error
}

func drainWorkers(log *slog.Logger, ws []*runningWorker, timeout time.Duration) []error {
	var errs []error
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for _, w := range ws {
		select {
		case <-w.done:
			if w.err != nil && !errors.Is(w.err, context.Canceled) {
				errs = append(errs, fmt.Errorf("lifecycle: worker %s: %w", w.Name, w.err))
			}
		case <-deadline.C:
			// The deadline fired once; every worker not done by now is a straggler.
			for _, s := range ws {
				select {
				case <-s.done:
				default:
					log.Error("worker did not stop within the shutdown timeout", slog.String("worker", s.Name))
					errs = append(errs, fmt.Errorf("lifecycle: worker %s did not stop within %s", s.Name, timeout))
				}
			}
			return errs
		}
	}
	return errs
}

func shutdownCause(parent, gctx context.Context) string {
	if parent.Err() != nil {
		return "context cancelled"
	}
	// The group's cause is the first failure, or the signal context's cause.
	if cause := context.Cause(gctx); cause != nil {
		return cause.Error()
	}
	return "unknown"
}

func listen(cfg Config) (grpcLis, metricsLis net.Listener, err error) {
	if cfg.GRPC != nil {
		grpcLis = cfg.GRPCListener
		if grpcLis == nil {
			if grpcLis, err = net.Listen("tcp", cfg.GRPCAddr); err != nil {
				return nil, nil, fmt.Errorf("lifecycle: grpc listen %s: %w", cfg.GRPCAddr, err)
			}
		}
	}
	if cfg.Metrics != nil && (cfg.MetricsListener != nil || cfg.MetricsAddr != "") {
		metricsLis = cfg.MetricsListener
		if metricsLis == nil {
			if metricsLis, err = net.Listen("tcp", cfg.MetricsAddr); err != nil {
				if grpcLis != nil {
					_ = grpcLis.Close()
				}
				return nil, nil, fmt.Errorf("lifecycle: metrics listen %s: %w", cfg.MetricsAddr, err)
			}
		}
	}
	return grpcLis, metricsLis, nil
}

func listenHTTP(cfg Config) (net.Listener, error) {
	if cfg.HTTP == nil || (cfg.HTTPListener == nil && cfg.HTTPAddr == "") {
		return nil, nil
	}
	if cfg.HTTPListener != nil {
		return cfg.HTTPListener, nil
	}
	lis, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return nil, fmt.Errorf("lifecycle: http listen %s: %w", cfg.HTTPAddr, err)
	}
	return lis, nil
}
