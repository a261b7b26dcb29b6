package main

import (
	"context"
	"net"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	campaignv1 "github.com/evcrm/evcrm/libs/gen/crm/campaign/v1"
	"github.com/evcrm/evcrm/libs/testkit"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().String()
}

// The binary's wiring: flags (-leads-addr among them), NATS, streams, read models, the rule
// engine, gRPC, metrics, and a clean stop.
func TestRunServesAndStopsCleanly(t *testing.T) {
	n := testkit.StartNATS(t)
	grpcAddr, metricsAddr := freeAddr(t), freeAddr(t)
	os.Args = []string{"campaign", "-nats-url", n.ClientURL(), "-grpc-addr", grpcAddr, "-metrics-addr", metricsAddr,
		"-dev-auth", "-leads-addr", "127.0.0.1:1", "-data-dir", t.TempDir(), "-log-level", "warn"}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx) }()

	// Connect only once the server listens, so the client does not start in reconnect backoff.
	require.Eventually(t, func() bool {
		select {
		case err := <-done:
			t.Fatalf("run returned early: %v", err)
		default:
		}
		c, err := net.Dial("tcp", grpcAddr)
		if err == nil {
			c.Close()
		}
		return err == nil
	}, 20*time.Second, 50*time.Millisecond)
	conn, err := grpc.NewClient("passthrough:///"+grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	defer conn.Close()
	client := campaignv1.NewCampaignServiceClient(conn)
	call := metadata.AppendToOutgoingContext(context.Background(), "x-tenant-id", "acme", "x-user-id", "u1")
	require.Eventually(t, func() bool {
		_, err := client.CreateCampaign(call, &campaignv1.CreateCampaignRequest{Campaign: &campaignv1.Campaign{Name: "Launch", Channel: campaignv1.CampaignChannel_CAMPAIGN_CHANNEL_EMAIL}})
		if err != nil {
			t.Log(err)
		}
		return err == nil
	}, 20*time.Second, 100*time.Millisecond)

	resp, err := http.Get("http://" + metricsAddr + "/healthz")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(30 * time.Second):
		t.Fatal("run did not return after cancel")
	}
}
