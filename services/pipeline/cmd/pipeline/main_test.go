package main

import (
	"context"
	"testing"
	"time"

	"google.golang.org/grpc"

	pipelinev1 "github.com/evcrm/evcrm/libs/gen/crm/pipeline/v1"
	"github.com/evcrm/evcrm/libs/testkit"
)

// The binary's wiring: flags, NATS, streams, read model, gRPC, metrics, and a clean stop.
func TestRunServesAndStopsCleanly(t *testing.T) {
	testkit.CheckDaemon(t, testkit.Daemon{Name: "pipeline", Run: run,
		Probe: func(ctx context.Context, conn *grpc.ClientConn) error {
			_, err := pipelinev1.NewPipelineServiceClient(conn).CreateOpportunity(ctx, &pipelinev1.CreateOpportunityRequest{
				Opportunity: &pipelinev1.Opportunity{Name: "Deal",
					ExpectedCloseDate: time.Now().UTC().AddDate(0, 1, 0).Format(time.DateOnly)}})
			return err
		}})
}
