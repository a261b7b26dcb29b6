package main

import (
	"context"
	"testing"

	"google.golang.org/grpc"

	campaignv1 "github.com/evcrm/evcrm/libs/gen/crm/campaign/v1"
	"github.com/evcrm/evcrm/libs/testkit"
)

// The binary's wiring: flags (-leads-addr among them), NATS, streams, read models, the rule
// engine, gRPC, metrics, and a clean stop.
func TestRunServesAndStopsCleanly(t *testing.T) {
	testkit.CheckDaemon(t, testkit.Daemon{Name: "campaign", Run: run, Flags: []string{"-leads-addr", "127.0.0.1:1"},
		Probe: func(ctx context.Context, conn *grpc.ClientConn) error {
			_, err := campaignv1.NewCampaignServiceClient(conn).CreateCampaign(ctx, &campaignv1.CreateCampaignRequest{
				Campaign: &campaignv1.Campaign{Name: "Launch", Channel: campaignv1.CampaignChannel_CAMPAIGN_CHANNEL_EMAIL}})
			return err
		}})
}
