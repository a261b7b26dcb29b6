// Package metrics serves a service's Prometheus metrics (/metrics) and its liveness/readiness
// probe (/healthz) on a separate HTTP port, so scrapes and probes never compete with API traffic
// and the API port can require credentials.
package metrics

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/pprof"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// NewRegistry returns a registry with the Go runtime and process collectors. Services use their
// own registry rather than the global default so tests can build many servers in one process.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// Server is the HTTP server for /metrics and /healthz.
type Server struct {
	srv      *http.Server
	mux      *http.ServeMux
	draining atomic.Bool
}

// NewServer returns a server exposing g at /metrics. /healthz answers 200 "ok" until
// [Server.Drain] is called and 503 "draining" after, so an HTTP readiness probe takes the
// instance out of rotation as soon as shutdown starts.
func NewServer(g prometheus.Gatherer) *Server {
	mux := http.NewServeMux()
	s := &Server{mux: mux}
	mux.Handle("GET /metrics", promhttp.HandlerFor(g, promhttp.HandlerOpts{EnableOpenMetrics: true}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if s.draining.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("draining\n"))
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	s.srv = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	return s
}

// EnablePprof serves Go's runtime profiles (net/http/pprof) under /debug/pprof/ on this server:
// the operator's way to see where a slow or growing service spends its CPU and memory. Off
// unless asked for (-pprof), since profiles reveal code paths and cost CPU; the metrics port is
// not exposed outside the cluster. Keep CPU profiles under the server's 30 s write timeout
// (?seconds=20).
func (s *Server) EnablePprof() {
	s.mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	s.mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
	s.mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	s.mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	s.mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
}

// Handler returns the HTTP handler, for tests or for mounting elsewhere.
func (s *Server) Handler() http.Handler { return s.srv.Handler }

// Serve serves on lis until Shutdown; it returns nil after Shutdown.
func (s *Server) Serve(lis net.Listener) error {
	if err := s.srv.Serve(lis); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Drain makes /healthz report 503 while metrics stay available.
func (s *Server) Drain() { s.draining.Store(true) }

// Shutdown stops the server, waiting for in-flight scrapes until ctx is done.
func (s *Server) Shutdown(ctx context.Context) error {
	s.Drain()
	return s.srv.Shutdown(ctx)
}
