package metrics_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evcrm/evcrm/libs/platform/metrics"
)

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(body)
}

func TestServer(t *testing.T) {
	t.Parallel()
	reg := metrics.NewRegistry()
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "evcrm_test_events_total", Help: "test"})
	reg.MustRegister(c)
	c.Add(3)

	srv := metrics.NewServer(reg)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(lis) }()
	base := "http://" + lis.Addr().String()

	code, body := get(t, base+"/metrics")
	assert.Equal(t, http.StatusOK, code)
	assert.Contains(t, body, "evcrm_test_events_total 3")
	assert.Contains(t, body, "go_goroutines")
	assert.Contains(t, body, "process_", "process collector is registered")

	code, body = get(t, base+"/healthz")
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "ok\n", body)

	srv.Drain()
	code, _ = get(t, base+"/healthz")
	assert.Equal(t, http.StatusServiceUnavailable, code)
	code, _ = get(t, base+"/metrics")
	assert.Equal(t, http.StatusOK, code, "metrics stay scrapeable while draining")

	require.NoError(t, srv.Shutdown(context.Background()))
	require.NoError(t, <-served, "Serve returns nil after Shutdown")
}

func TestPprofOnlyWhenEnabled(t *testing.T) {
	t.Parallel()
	for _, enabled := range []bool{false, true} {
		srv := metrics.NewServer(metrics.NewRegistry())
		if enabled {
			srv.EnablePprof()
		}
		lis, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		served := make(chan error, 1)
		go func() { served <- srv.Serve(lis) }()
		base := "http://" + lis.Addr().String()

		code, body := get(t, base+"/debug/pprof/heap?debug=1")
		if enabled {
			assert.Equal(t, http.StatusOK, code)
			assert.Contains(t, body, "heap profile")
			code, body = get(t, base+"/debug/pprof/goroutine?debug=1")
			assert.Equal(t, http.StatusOK, code)
			assert.Contains(t, body, "goroutine profile")
		} else {
			assert.Equal(t, http.StatusNotFound, code, "profiles are served only with -pprof")
		}
		require.NoError(t, srv.Shutdown(context.Background()))
		require.NoError(t, <-served)
	}
}
