package lifecycle_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/evcrm/evcrm/libs/platform/grpcauth"
	"github.com/evcrm/evcrm/libs/platform/grpcserver"
	"github.com/evcrm/evcrm/libs/platform/internal/testsvc"
	"github.com/evcrm/evcrm/libs/platform/lifecycle"
	"github.com/evcrm/evcrm/libs/platform/logging"
	"github.com/evcrm/evcrm/libs/platform/metrics"
)

// proc is one Run in the background.
type proc struct {
	srv         *grpcserver.Server
	grpcAddr    string
	metricsAddr string
	logs        *testsvc.Recorder
	cancel      context.CancelFunc
	done        chan struct{} // closed when Run returned, with its error in err
	err         error
	events      *eventLog
}

// eventLog records the order in which shutdown steps happened.
type eventLog struct {
	mu sync.Mutex
	ev []string
}

func (l *eventLog) add(e string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ev = append(l.ev, e)
}

func (l *eventLog) list() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.ev...)
}

func startRun(t *testing.T, h testsvc.Handlers, mod func(*lifecycle.Config)) *proc {
	t.Helper()
	logs := &testsvc.Recorder{}
	logger := logging.New(logs, slog.LevelDebug)
	reg := prometheus.NewRegistry()
	srv, err := grpcserver.New(grpcserver.Options{Logger: logger, Registerer: reg, Authenticator: grpcauth.Dev{}, Authorize: testsvc.Authorize})
	require.NoError(t, err)
	testsvc.Register(srv, h)
	gl, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ml, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)

	p := &proc{srv: srv, grpcAddr: gl.Addr().String(), metricsAddr: ml.Addr().String(), logs: logs,
		done: make(chan struct{}), events: &eventLog{}}
	cfg := lifecycle.Config{
		Logger: logger, GRPC: srv, GRPCListener: gl,
		Metrics: metrics.NewServer(reg), MetricsListener: ml,
		ShutdownTimeout: 5 * time.Second,
		Flush:           []func(context.Context) error{func(context.Context) error { p.events.add("flush"); return nil }},
	}
	if mod != nil {
		mod(&cfg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	p.cancel = cancel
	go func() {
		p.err = lifecycle.Run(ctx, cfg)
		close(p.done)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			t.Error("Run did not return")
		}
	})
	waitServing(t, p.grpcAddr)
	return p
}

func waitServing(t *testing.T, addr string) {
	t.Helper()
	hc := healthpb.NewHealthClient(testsvc.Dial(t, addr))
	require.Eventually(t, func() bool {
		resp, err := hc.Check(t.Context(), &healthpb.HealthCheckRequest{})
		return err == nil && resp.GetStatus() == healthpb.HealthCheckResponse_SERVING
	}, 5*time.Second, 10*time.Millisecond)
}

func (p *proc) wait(t *testing.T) error {
	t.Helper()
	select {
	case <-p.done:
		return p.err
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return")
		return nil
	}
}

func asUser(ctx context.Context) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "x-tenant-id", "acme", "x-user-id", "u-1")
}

func healthz(t *testing.T, addr string) int {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://"+addr+"/healthz", nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	_ = resp.Body.Close()
	return resp.StatusCode
}

func TestGracefulShutdown(t *testing.T) {
	t.Parallel()
	started, release := make(chan struct{}), make(chan struct{})
	var p *proc
	p = startRun(t, testsvc.Handlers{Unary: func(context.Context, *testsvc.Request) (string, error) {
		close(started)
		<-release
		p.events.add("rpc finished")
		return "done", nil
	}}, func(c *lifecycle.Config) {
		c.Workers = []lifecycle.Worker{{Name: "projector", Run: func(ctx context.Context) error {
			<-ctx.Done()
			p.events.add("worker stopped")
			return ctx.Err()
		}}}
	})
	assert.Equal(t, http.StatusOK, healthz(t, p.metricsAddr))

	conn := testsvc.Dial(t, p.grpcAddr)
	type result struct {
		v   string
		err error
	}
	res := make(chan result, 1)
	go func() {
		v, _, err := testsvc.Call(asUser(context.Background()), conn, "x")
		res <- result{v, err}
	}()
	<-started
	p.cancel()

	require.Eventually(t, func() bool {
		r, err := p.srv.Health.Check(context.Background(), &healthpb.HealthCheckRequest{Service: testsvc.ServiceName})
		return err == nil && r.GetStatus() == healthpb.HealthCheckResponse_NOT_SERVING
	}, 5*time.Second, 5*time.Millisecond, "health must flip to NOT_SERVING while the call is in flight")
	r, err := p.srv.Health.Check(context.Background(), &healthpb.HealthCheckRequest{})
	require.NoError(t, err)
	assert.Equal(t, healthpb.HealthCheckResponse_NOT_SERVING, r.GetStatus())
	assert.Equal(t, http.StatusServiceUnavailable, healthz(t, p.metricsAddr), "/healthz reports draining")
	assert.Empty(t, p.events.list(), "workers keep running while gRPC drains")

	close(release)
	got := <-res
	require.NoError(t, got.err, "the in-flight call completes")
	assert.Equal(t, "done", got.v)
	require.NoError(t, p.wait(t))
	assert.Equal(t, []string{"rpc finished", "worker stopped", "flush"}, p.events.list())
	assert.Contains(t, p.logs.String(), "shutting down")
}

func TestHardStopAfterTimeout(t *testing.T) {
	t.Parallel()
	started := make(chan struct{})
	p := startRun(t, testsvc.Handlers{Unary: func(ctx context.Context, _ *testsvc.Request) (string, error) {
		close(started)
		<-ctx.Done() // a call that would hold a graceful stop open forever
		return "", ctx.Err()
	}}, func(c *lifecycle.Config) { c.ShutdownTimeout = 200 * time.Millisecond })

	conn := testsvc.Dial(t, p.grpcAddr)
	res := make(chan error, 1)
	go func() {
		_, _, err := testsvc.Call(asUser(context.Background()), conn, "x")
		res <- err
	}()
	<-started
	begin := time.Now()
	p.cancel()
	require.NoError(t, p.wait(t))
	assert.Less(t, time.Since(begin), 3*time.Second)
	err := <-res
	assert.Contains(t, []codes.Code{codes.Unavailable, codes.Canceled}, status.Code(err), "%v", err)
	assert.Contains(t, p.logs.String(), "cut off")
}

func TestWorkerFailureStopsTheProcess(t *testing.T) {
	t.Parallel()
	fail := make(chan struct{})
	p := startRun(t, testsvc.Handlers{}, func(c *lifecycle.Config) {
		c.Workers = []lifecycle.Worker{
			{Name: "projector", Run: func(context.Context) error { <-fail; return errors.New("consumer deleted") }},
			{Name: "reactor", Run: func(ctx context.Context) error { <-ctx.Done(); return nil }},
		}
	})
	close(fail)
	err := p.wait(t)
	require.Error(t, err)
	assert.ErrorContains(t, err, "worker projector: consumer deleted")
	assert.Equal(t, []string{"flush"}, p.events.list(), "telemetry is flushed on failure too")
}

func TestStuckWorkerDoesNotBlockForever(t *testing.T) {
	t.Parallel()
	unblock := make(chan struct{})
	t.Cleanup(func() { close(unblock) })
	p := startRun(t, testsvc.Handlers{}, func(c *lifecycle.Config) {
		c.ShutdownTimeout = 100 * time.Millisecond
		c.Workers = []lifecycle.Worker{{Name: "stuck", Run: func(context.Context) error { <-unblock; return nil }}}
	})
	p.cancel()
	err := p.wait(t)
	assert.ErrorContains(t, err, "worker stuck did not stop")
}

func TestWorkersOnly(t *testing.T) {
	t.Parallel()
	logger := logging.New(&testsvc.Recorder{}, slog.LevelInfo)
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- lifecycle.Run(ctx, lifecycle.Config{Logger: logger, Workers: []lifecycle.Worker{{Name: "w", Run: func(ctx context.Context) error {
			close(ran)
			<-ctx.Done()
			return ctx.Err()
		}}}})
	}()
	<-ran
	cancel()
	select {
	case err := <-done:
		require.NoError(t, err, "a worker returning ctx.Err() after cancellation is a clean stop")
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return")
	}
}

func TestListenFailure(t *testing.T) {
	t.Parallel()
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer taken.Close()
	logger := logging.New(&testsvc.Recorder{}, slog.LevelInfo)
	srv, err := grpcserver.New(grpcserver.Options{Logger: logger, Registerer: prometheus.NewRegistry(), Authenticator: grpcauth.Dev{}, Authorize: testsvc.Authorize})
	require.NoError(t, err)
	err = lifecycle.Run(context.Background(), lifecycle.Config{Logger: logger, GRPC: srv, GRPCAddr: taken.Addr().String()})
	assert.ErrorContains(t, err, "grpc listen")
}

// Not parallel: the signal goes to the whole test process, so no other Run may be active.
func TestSIGTERM(t *testing.T) {
	p := startRun(t, testsvc.Handlers{}, nil)
	require.NoError(t, syscall.Kill(syscall.Getpid(), syscall.SIGTERM))
	require.NoError(t, p.wait(t))
	assert.Contains(t, p.logs.String(), "shutting down")
	assert.Equal(t, []string{"flush"}, p.events.list())
}

func TestHTTPDrainsBeforeGRPC(t *testing.T) {
	t.Parallel()
	started, release := make(chan struct{}), make(chan struct{})
	hl, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var conn *grpc.ClientConn
	// Like the REST gateway: an HTTP request that becomes a gRPC call on the same process.
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-release
		v, _, err := testsvc.Call(asUser(r.Context()), conn, "via http")
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		_, _ = w.Write([]byte(v))
	})
	p := startRun(t, testsvc.Handlers{}, func(c *lifecycle.Config) {
		c.HTTP, c.HTTPListener = &http.Server{Handler: handler, ReadHeaderTimeout: time.Second}, hl
	})
	conn = testsvc.Dial(t, p.grpcAddr)

	type result struct {
		code int
		body string
		err  error
	}
	res := make(chan result, 1)
	go func() {
		resp, err := http.Get("http://" + hl.Addr().String() + "/")
		if err != nil {
			res <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		res <- result{code: resp.StatusCode, body: string(b)}
	}()
	<-started
	p.cancel()
	require.Eventually(t, func() bool {
		r, err := p.srv.Health.Check(context.Background(), &healthpb.HealthCheckRequest{})
		return err == nil && r.GetStatus() == healthpb.HealthCheckResponse_NOT_SERVING
	}, 5*time.Second, 5*time.Millisecond)

	close(release)
	got := <-res
	require.NoError(t, got.err)
	assert.Equal(t, http.StatusOK, got.code, "gRPC still serves the request the HTTP server drains: %s", got.body)
	assert.Equal(t, "via http", got.body)
	require.NoError(t, p.wait(t))
	_, err = http.Get("http://" + hl.Addr().String() + "/")
	assert.Error(t, err, "the HTTP server is closed")
	assert.Contains(t, p.logs.String(), "HTTP gateway listening")
}
