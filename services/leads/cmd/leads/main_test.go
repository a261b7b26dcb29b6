package main

import (
	"context"
	"testing"

	"google.golang.org/grpc"

	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	"github.com/evcrm/evcrm/libs/testkit"
)

// The binary's wiring: flags, NATS, streams, read model, gRPC, metrics, and a clean stop.
func TestRunServesAndStopsCleanly(t *testing.T) {
	testkit.CheckDaemon(t, testkit.Daemon{Name: "leads", Run: run,
		Probe: func(ctx context.Context, conn *grpc.ClientConn) error {
			_, err := leadsv1.NewLeadsServiceClient(conn).CreateLead(ctx, &leadsv1.CreateLeadRequest{Lead: &leadsv1.Lead{
				FirstName: "A", LastName: "B", Email: "ab@example.com", Source: leadsv1.LeadSource_LEAD_SOURCE_WEB_FORM}})
			return err
		}})
}
