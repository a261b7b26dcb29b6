package main

import (
	"context"
	"testing"

	"google.golang.org/grpc"

	analyticsv1 "github.com/evcrm/evcrm/libs/gen/crm/analytics/v1"
	"github.com/evcrm/evcrm/libs/testkit"
)

// The binary's wiring: flags (the -clickhouse-* ones among them), NATS, streams, ClickHouse
// and its migrations, the projector, gRPC, metrics, and a clean stop.
func TestRunServesAndStopsCleanly(t *testing.T) {
	ch := testkit.SharedClickHouse(t)
	// The service creates its database when missing: name one that does not exist yet, and
	// let NewDatabase's cleanup drop it afterwards.
	db := ch.NewDatabase(t)
	conn := ch.Conn(t)
	if err := conn.Exec(t.Context(), "DROP DATABASE "+db); err != nil {
		t.Fatal(err)
	}
	testkit.CheckDaemon(t, testkit.Daemon{Name: "analytics", Run: run,
		Flags: []string{"-clickhouse-addr", ch.Addr(), "-clickhouse-database", db, "-batch-wait", "50ms"},
		Probe: func(ctx context.Context, conn *grpc.ClientConn) error {
			_, err := analyticsv1.NewAnalyticsServiceClient(conn).GetProjectionStatus(ctx, &analyticsv1.GetProjectionStatusRequest{})
			return err
		}})
}
