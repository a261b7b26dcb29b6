package metrics_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/evcrm/evcrm/libs/platform/metrics"
)

// One registry per process: the gRPC server registers its RPC metrics in it, adapters add their
// own, and the metrics server exposes it next to /healthz.
func ExampleNewServer() {
	reg := metrics.NewRegistry()
	srv := metrics.NewServer(reg)

	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	fmt.Print(rec.Code, " ", rec.Body.String())
	srv.Drain()
	rec = httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	fmt.Print(rec.Code, " ", rec.Body.String())
	// Output:
	// 200 ok
	// 503 draining
}
