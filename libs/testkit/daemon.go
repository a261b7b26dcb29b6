package testkit

import (
	"context"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	"github.com/evcrm/evcrm/libs/platform/grpcauth"
)

// Daemon is a service's main package as CheckDaemon runs it.
type Daemon struct {
	// Name is the program name (os.Args[0]).
	Name string
	// Run is the package's run function: it reads its flags from os.Args and serves until ctx
	// ends.
	Run func(ctx context.Context) error
	// Flags are the service's own flags, after the common ones CheckDaemon sets.
	Flags []string
	// Probe makes one call that succeeds once the service serves (ctx carries tenant "acme"
	// and user "u1" for development authentication); CheckDaemon retries it until it does.
	Probe func(ctx context.Context, conn *grpc.ClientConn) error
}

// Daemon timeouts: generous, a cold start creates streams and migrates read models.
const (
	daemonStartTimeout = 20 * time.Second
	daemonStopTimeout  = 30 * time.Second
)

// CheckDaemon tests a binary's wiring end to end, in process: it runs d.Run on a NATS server of
// its own with gRPC, metrics and the REST gateway on free loopback ports, development
// authentication and a data directory in t.TempDir(); waits until gRPC accepts connections and
// d.Probe succeeds; checks that /healthz on the metrics port and /healthz and /openapi.json on
// the HTTP port answer 200; then cancels the context and requires Run to return nil (a clean
// stop) in time.
//
// It sets os.Args for the duration of the call, so the test must not run in parallel.
func CheckDaemon(t *testing.T, d Daemon) {
	t.Helper()
	n := StartNATS(t)
	grpcAddr, metricsAddr, httpAddr := FreeAddr(t), FreeAddr(t), FreeAddr(t)
	oldArgs := os.Args
	t.Cleanup(func() { os.Args = oldArgs })
	os.Args = append(append([]string{d.Name}, daemonArgs(n.ClientURL(), grpcAddr, metricsAddr, t.TempDir())...), "-http-addr", httpAddr)
	os.Args = append(os.Args, d.Flags...)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()

	// Connect only once the server listens, so the client does not start in reconnect backoff.
	waitListening(t, grpcAddr, daemonStartTimeout, func() bool {
		select {
		case err := <-done:
			t.Fatalf("testkit: %s: run returned early: %v", d.Name, err)
		default:
		}
		return false
	})
	conn, err := grpc.NewClient("passthrough:///"+grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	defer conn.Close()
	call := metadata.AppendToOutgoingContext(ctx, grpcauth.MetadataTenant, "acme", grpcauth.MetadataUser, "u1")
	require.Eventually(t, func() bool {
		err := d.Probe(call, conn)
		if err != nil {
			t.Log(err)
		}
		return err == nil
	}, daemonStartTimeout, 100*time.Millisecond, "%s: the probe never succeeded", d.Name)

	for _, url := range []string{"http://" + metricsAddr + "/healthz", "http://" + httpAddr + "/healthz", "http://" + httpAddr + "/openapi.json"} {
		resp, err := http.Get(url)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode, url)
	}

	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(daemonStopTimeout):
		t.Fatalf("testkit: %s: run did not return after cancel", d.Name)
	}
}
