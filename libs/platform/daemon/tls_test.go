package daemon_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	"github.com/evcrm/evcrm/libs/platform/daemon"
	"github.com/evcrm/evcrm/libs/platform/grpcserver"
	"github.com/evcrm/evcrm/libs/testkit"
)

// With -tls-cert, -tls-key and -tls-client-ca the service's gRPC and REST listeners speak
// mutual TLS: a caller with a certificate of the CA reaches the handler (the REST gateway
// through its pinned loopback connection), a caller without one, with one of another CA, or in
// plaintext does not get past the handshake.
func TestRunServesMutualTLS(t *testing.T) {
	n := testkit.StartNATS(t)
	certs := testkit.NewTLSFiles(t)
	grpcAddr, httpAddr := testkit.FreeAddr(t), testkit.FreeAddr(t)
	s := spec(func(context.Context, daemon.Env) (daemon.Built, error) {
		return daemon.Built{Register: func(s *grpcserver.Server) { leadsv1.RegisterLeadsServiceServer(s, getLead{}) }}, nil
	})
	s.Gateway = []daemon.GatewayRegistrar{leadsv1.RegisterLeadsServiceHandler}
	os.Args = []string{"demo", "-nats-url", n.ClientURL(), "-data-dir", t.TempDir(), "-log-level", "warn", "-dev-auth",
		"-grpc-addr", grpcAddr, "-http-addr", httpAddr,
		"-tls-cert", certs.ServerCert, "-tls-key", certs.ServerKey, "-tls-client-ca", certs.CA, "-tls-ca", certs.CA}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- daemon.Run(ctx, s) }()

	caPEM, err := os.ReadFile(certs.CA)
	require.NoError(t, err)
	roots := x509.NewCertPool()
	require.True(t, roots.AppendCertsFromPEM(caPEM))
	clientTLS := func(cert, key string) *tls.Config {
		c := &tls.Config{RootCAs: roots, ServerName: "localhost", MinVersion: tls.VersionTLS12}
		if cert != "" {
			kp, err := tls.LoadX509KeyPair(cert, key)
			require.NoError(t, err)
			c.Certificates = []tls.Certificate{kp}
		}
		return c
	}
	callGRPC := func(creds credentials.TransportCredentials) error {
		conn, err := grpc.NewClient(grpcAddr, grpc.WithTransportCredentials(creds))
		require.NoError(t, err)
		defer conn.Close()
		cctx, ccancel := context.WithTimeout(metadata.AppendToOutgoingContext(context.Background(), "x-tenant-id", "acme", "x-user-id", "u"), 5*time.Second)
		defer ccancel()
		_, err = leadsv1.NewLeadsServiceClient(conn).GetLead(cctx, &leadsv1.GetLeadRequest{LeadId: "l1"})
		return err
	}
	require.Eventually(t, func() bool {
		return status.Code(callGRPC(credentials.NewTLS(clientTLS(certs.ClientCert, certs.ClientKey)))) == codes.NotFound
	}, 15*time.Second, 50*time.Millisecond, "a client with the CA's certificate reaches the handler")
	for name, creds := range map[string]credentials.TransportCredentials{
		"no client certificate": credentials.NewTLS(clientTLS("", "")),
		"another CA's client":   credentials.NewTLS(clientTLS(certs.ForeignCert, certs.ForeignKey)),
		"plaintext":             insecure.NewCredentials(),
	} {
		assert.Equal(t, codes.Unavailable, status.Code(callGRPC(creds)), name)
	}

	get := func(cert, key string) (int, string, error) {
		hc := &http.Client{Transport: &http.Transport{TLSClientConfig: clientTLS(cert, key)}, Timeout: 5 * time.Second}
		req, err := http.NewRequest(http.MethodGet, "https://"+httpAddr+"/v1/leads/l1", nil)
		require.NoError(t, err)
		req.Header.Set("X-Tenant-Id", "acme")
		req.Header.Set("X-User-Id", "u")
		resp, err := hc.Do(req)
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body), nil
	}
	code, body, err := get(certs.ClientCert, certs.ClientKey)
	require.NoError(t, err)
	assert.Equal(t, http.StatusNotFound, code, "the REST gateway reaches gRPC over its TLS loopback: %s", body)
	_, _, err = get("", "")
	assert.Error(t, err, "HTTPS without a client certificate")

	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}
