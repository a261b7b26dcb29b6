// Command analytics runs the analytics service: the projector that turns the CRM_LEADS,
// CRM_PIPELINE and CRM_CAMPAIGN streams into ClickHouse tables, and the gRPC metric queries
// over them. Flags have EVCRM_* environment fallbacks; -h lists them.
package main

import (
	"context"
	"net/http"
	"time"

	analyticsv1 "github.com/evcrm/evcrm/libs/gen/crm/analytics/v1"
	"github.com/evcrm/evcrm/libs/platform/daemon"
	"github.com/evcrm/evcrm/libs/platform/grpcserver"
	"github.com/evcrm/evcrm/services/analytics/internal/ports/dashboard"
	analyticsgrpc "github.com/evcrm/evcrm/services/analytics/internal/ports/grpc"
	"github.com/evcrm/evcrm/services/analytics/internal/service"
)

// flags are the analytics service's own settings.
type flags struct {
	ClickHouseAddr     string        `flag:"clickhouse-addr" default:"127.0.0.1:9000" usage:"ClickHouse native protocol address(es), comma-separated"`
	ClickHouseDatabase string        `flag:"clickhouse-database" default:"evcrm" usage:"ClickHouse database of the analytics tables (created when missing)"`
	ClickHouseUser     string        `flag:"clickhouse-user" default:"default" usage:"ClickHouse user the projector writes as"`
	ClickHousePassword string        `flag:"clickhouse-password" usage:"password of -clickhouse-user"`
	BatchSize          int           `flag:"batch-size" default:"5000" usage:"events per ClickHouse insert batch"`
	BatchWait          time.Duration `flag:"batch-wait" default:"500ms" usage:"longest wait before a partial batch is inserted"`
}

func newSpec() daemon.Spec {
	f := &flags{}
	return daemon.Spec{
		Name: "analytics", GRPCAddr: ":9104", MetricsAddr: ":9204", HTTPAddr: ":9304", DataDir: ".data/analytics", Flags: f,
		Gateway: []daemon.GatewayRegistrar{analyticsv1.RegisterAnalyticsServiceHandler},
		Build: func(ctx context.Context, env daemon.Env) (daemon.Built, error) {
			svc, err := service.New(ctx, env.NATS, service.Options{
				ClickHouse: service.ClickHouseOptions{Addr: f.ClickHouseAddr, Database: f.ClickHouseDatabase,
					User: f.ClickHouseUser, Password: f.ClickHousePassword},
				BatchSize: f.BatchSize, BatchWait: f.BatchWait, Replicas: env.Config.Replicas,
				Logger: env.Logger, Metrics: env.Projection})
			if err != nil {
				return daemon.Built{}, err
			}
			return daemon.Built{
				Register: func(s *grpcserver.Server) { analyticsgrpc.Register(s, svc.App) },
				Workers:  svc.Workers(),
				Close:    svc.Close,
				// The executive dashboard, on -http-addr beside the REST API it calls.
				HTTP: map[string]http.Handler{"/dashboard/": dashboard.Handler("/dashboard/")},
			}, nil
		},
	}
}

func main() { daemon.Main(newSpec()) }

func run(ctx context.Context) error { return daemon.Run(ctx, newSpec()) }
