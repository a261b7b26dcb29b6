package main

import (
	"context"
	"fmt"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	analyticsv1 "github.com/evcrm/evcrm/libs/gen/crm/analytics/v1"
	"github.com/evcrm/evcrm/libs/testkit"
)

// A projector-only binary (-analytics-role projector) serves gRPC health and nothing of the
// analytics API: a metric call gets Unimplemented. A query-only one serves the API.
func TestRoleFlag(t *testing.T) {
	ch := testkit.SharedClickHouse(t)
	t.Run("projector", func(t *testing.T) {
		testkit.CheckDaemon(t, testkit.Daemon{Name: "analytics", Run: run,
			Flags: []string{"-clickhouse-addr", ch.Addr(), "-clickhouse-database", ch.NewDatabase(t), "-analytics-role", "projector"},
			Probe: func(ctx context.Context, conn *grpc.ClientConn) error {
				h, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
				if err != nil || h.GetStatus() != healthpb.HealthCheckResponse_SERVING {
					return fmt.Errorf("health: %v, %v", h.GetStatus(), err)
				}
				c := analyticsv1.NewAnalyticsServiceClient(conn)
				if _, err := c.GetProjectionStatus(ctx, &analyticsv1.GetProjectionStatusRequest{}); status.Code(err) != codes.Unimplemented {
					return fmt.Errorf("GetProjectionStatus on a projector-only instance: %v, want Unimplemented", err)
				}
				if _, err := c.GetFunnel(ctx, &analyticsv1.GetFunnelRequest{}); status.Code(err) != codes.Unimplemented {
					return fmt.Errorf("GetFunnel on a projector-only instance: %v, want Unimplemented", err)
				}
				return nil
			}})
	})
	t.Run("query", func(t *testing.T) {
		testkit.CheckDaemon(t, testkit.Daemon{Name: "analytics", Run: run,
			Flags: []string{"-clickhouse-addr", ch.Addr(), "-clickhouse-database", ch.NewDatabase(t), "-analytics-role", "query"},
			Probe: func(ctx context.Context, conn *grpc.ClientConn) error {
				_, err := analyticsv1.NewAnalyticsServiceClient(conn).GetProjectionStatus(ctx, &analyticsv1.GetProjectionStatusRequest{})
				return err
			}})
	})
}

func TestFlagsValidate(t *testing.T) {
	for _, f := range []flags{{Role: "both"}, {Role: "all", ClickHouseCluster: "my cluster"}} {
		if err := f.Validate(); err == nil {
			t.Errorf("Validate(%+v) accepted it", f)
		}
	}
	if err := (&flags{Role: "query", ClickHouseCluster: "evcrm"}).Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
}
