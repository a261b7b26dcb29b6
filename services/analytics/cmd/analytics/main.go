// Command analytics runs the analytics service: the projector that turns the CRM_LEADS,
// CRM_PIPELINE and CRM_CAMPAIGN streams into ClickHouse tables, and the gRPC metric queries
// over them. Flags have EVCRM_* environment fallbacks; -h lists them.
package main

import (
	"context"
	"errors"
	"net/http"
	"time"

	analyticsv1 "github.com/evcrm/evcrm/libs/gen/crm/analytics/v1"
	"github.com/evcrm/evcrm/libs/platform/config"
	"github.com/evcrm/evcrm/libs/platform/daemon"
	"github.com/evcrm/evcrm/libs/platform/grpcserver"
	"github.com/evcrm/evcrm/services/analytics/internal/adapters/chschema"
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
	ClickHouseCluster  string        `flag:"clickhouse-cluster" usage:"ClickHouse cluster (remote_servers name) to create the tables on: ON CLUSTER DDL, Replicated*MergeTree <table>_local tables and Distributed tables sharded by tenant and aggregate id (docs/deploy.md); empty for a single node"`
	BatchSize          int           `flag:"batch-size" default:"5000" usage:"events per ClickHouse insert batch"`
	BatchWait          time.Duration `flag:"batch-wait" default:"500ms" usage:"longest wait before a partial batch is inserted"`
	Role               string        `flag:"analytics-role" default:"all" usage:"what this instance runs: all, projector (consumes the streams; gRPC answers health only) or query (serves the metric API and the dashboard; consumes nothing)"`
}

// Validate checks the role and the cluster name (config.Load calls it).
func (f *flags) Validate() error {
	var err error
	if _, rerr := service.ParseRole(f.Role); rerr != nil {
		err = config.Invalid("analytics-role", "must be all, projector or query, got %q", f.Role)
	}
	if cerr := (chschema.Options{Cluster: f.ClickHouseCluster}).Validate(); cerr != nil {
		err = errors.Join(err, config.Invalid("clickhouse-cluster", "%v", cerr))
	}
	return err
}

func newSpec() daemon.Spec {
	f := &flags{}
	return daemon.Spec{
		Name: "analytics", GRPCAddr: ":9104", MetricsAddr: ":9204", HTTPAddr: ":9304", DataDir: ".data/analytics", Flags: f,
		Gateway: []daemon.GatewayRegistrar{analyticsv1.RegisterAnalyticsServiceHandler},
		Build: func(ctx context.Context, env daemon.Env) (daemon.Built, error) {
			role, err := service.ParseRole(f.Role)
			if err != nil {
				return daemon.Built{}, err
			}
			svc, err := service.New(ctx, env.NATS, service.Options{
				ClickHouse: service.ClickHouseOptions{Addr: f.ClickHouseAddr, Database: f.ClickHouseDatabase,
					User: f.ClickHouseUser, Password: f.ClickHousePassword, Cluster: f.ClickHouseCluster},
				BatchSize: f.BatchSize, BatchWait: f.BatchWait, Replicas: env.Config.Replicas, Role: role,
				Logger: env.Logger, Metrics: env.Projection})
			if err != nil {
				return daemon.Built{}, err
			}
			built := daemon.Built{Workers: svc.Workers(), Close: svc.Close,
				// A projector-only instance registers no service: the daemon's health service
				// answers, and an AnalyticsService call (or its REST route) gets Unimplemented.
				Register: func(*grpcserver.Server) {}}
			if role.Queries() {
				built.Register = func(s *grpcserver.Server) { analyticsgrpc.Register(s, svc.App) }
				// The executive dashboard, on -http-addr beside the REST API it calls.
				built.HTTP = map[string]http.Handler{"/dashboard/": dashboard.Handler("/dashboard/")}
			}
			return built, nil
		},
	}
}

func main() { daemon.Main(newSpec()) }

func run(ctx context.Context) error { return daemon.Run(ctx, newSpec()) }
