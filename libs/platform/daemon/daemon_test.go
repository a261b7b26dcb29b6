package daemon_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evcrm/evcrm/libs/apperr"
	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	"github.com/evcrm/evcrm/libs/platform/daemon"
	"github.com/evcrm/evcrm/libs/platform/grpcserver"
	"github.com/evcrm/evcrm/libs/testkit"
)

// These tests set os.Args, so they do not run in parallel.

func spec(build func(context.Context, daemon.Env) (daemon.Built, error)) daemon.Spec {
	return daemon.Spec{Name: "demo", GRPCAddr: "127.0.0.1:0", MetricsAddr: "", DataDir: "", Build: build}
}

func TestRunChecksTheConfigurationBeforeConnecting(t *testing.T) {
	built := false
	build := func(context.Context, daemon.Env) (daemon.Built, error) { built = true; return daemon.Built{}, nil }

	os.Args = []string{"demo", "-h"}
	assert.NoError(t, daemon.Run(context.Background(), spec(build)), "-h is a clean exit")

	os.Args = []string{"demo", "-replicas", "2", "-data-dir", t.TempDir()}
	err := daemon.Run(context.Background(), spec(build))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "replicas")

	os.Args = []string{"demo"}
	err = daemon.Run(context.Background(), spec(build))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "data-dir")
	assert.False(t, built)
}

func TestRunReturnsTheBuildError(t *testing.T) {
	n := testkit.StartNATS(t)
	boom := errors.New("boom")
	var got daemon.Env
	os.Args = []string{"demo", "-nats-url", n.ClientURL(), "-data-dir", t.TempDir(), "-replicas", "3", "-log-level", "warn", "-dev-auth"}
	err := daemon.Run(context.Background(), spec(func(_ context.Context, env daemon.Env) (daemon.Built, error) {
		got = env
		return daemon.Built{}, boom
	}))
	require.ErrorIs(t, err, boom)
	assert.Equal(t, 3, got.Config.Replicas)
	assert.Equal(t, "demo", got.Config.Service)
	assert.NotNil(t, got.NATS)
	assert.NotNil(t, got.Projection)
}

// getLead is a LeadsService that knows no lead: enough to see a REST call cross the gateway,
// the interceptors and the service.
type getLead struct {
	leadsv1.UnimplementedLeadsServiceServer
}

func (getLead) GetLead(_ context.Context, req *leadsv1.GetLeadRequest) (*leadsv1.GetLeadResponse, error) {
	return nil, apperr.NotFoundf("lead", req.GetLeadId())
}

func TestRunServesTheRESTGatewayBesideGRPC(t *testing.T) {
	n := testkit.StartNATS(t)
	httpAddr := testkit.FreeAddr(t)
	s := spec(func(context.Context, daemon.Env) (daemon.Built, error) {
		return daemon.Built{
			Register: func(s *grpcserver.Server) { leadsv1.RegisterLeadsServiceServer(s, getLead{}) },
			HTTP: map[string]http.Handler{"/dashboard/": http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				_, _ = io.WriteString(w, "charts")
			})},
		}, nil
	})
	s.HTTPAddr = ":1" // the preset default; the flag below wins
	s.Gateway = []daemon.GatewayRegistrar{leadsv1.RegisterLeadsServiceHandler}
	os.Args = []string{"demo", "-nats-url", n.ClientURL(), "-data-dir", t.TempDir(), "-log-level", "warn", "-dev-auth",
		"-http-addr", httpAddr}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- daemon.Run(ctx, s) }()

	get := func(path string, header ...string) (int, string) {
		req, err := http.NewRequest(http.MethodGet, "http://"+httpAddr+path, nil)
		require.NoError(t, err)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	require.Eventually(t, func() bool { code, _ := get("/healthz"); return code == http.StatusOK }, 10*time.Second, 20*time.Millisecond)

	code, body := get("/v1/leads/l1", "X-Tenant-Id", "acme", "X-User-Id", "demo")
	assert.Equal(t, http.StatusNotFound, code, body)
	assert.Contains(t, body, `lead \"l1\" not found`)
	code, body = get("/v1/leads/l1", "X-User-Id", "demo")
	assert.Equal(t, http.StatusUnauthorized, code, "the gateway goes through the auth interceptor: %s", body)

	code, body = get("/openapi.json")
	require.Equal(t, http.StatusOK, code)
	var doc struct {
		Info  struct{ Title string }
		Paths map[string]any
	}
	require.NoError(t, json.Unmarshal([]byte(body), &doc))
	assert.Equal(t, "evcrm demo API", doc.Info.Title)
	assert.Contains(t, doc.Paths, "/v1/leads/{leadId}")
	assert.NotContains(t, doc.Paths, "/v1/contacts", "only the services this process registered")

	code, body = get("/dashboard/")
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "charts", body)

	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	code, _ = get("/healthz")
	assert.Zero(t, code, "the HTTP server is closed")
}

func TestRunNamesTheFlagOfABusyHTTPPort(t *testing.T) {
	n := testkit.StartNATS(t)
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer busy.Close()
	os.Args = []string{"demo", "-nats-url", n.ClientURL(), "-data-dir", t.TempDir(), "-log-level", "warn", "-dev-auth",
		"-http-addr", busy.Addr().String()}
	err = daemon.Run(context.Background(), spec(func(context.Context, daemon.Env) (daemon.Built, error) {
		return daemon.Built{Register: func(*grpcserver.Server) {}}, nil
	}))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "-http-addr")
	assert.Contains(t, err.Error(), busy.Addr().String())
}
