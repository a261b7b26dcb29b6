// Command leads runs the leads service: leads (capture, lifecycle, scoring, assignment, dedupe,
// conversion), accounts, contacts, activities, tasks and import/export over gRPC, with read
// models built from the CRM_LEADS stream. Flags have EVCRM_* environment fallbacks; -h lists
// them.
package main

import (
	"context"
	"fmt"
	"os"

	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	"github.com/evcrm/evcrm/libs/platform/daemon"
	"github.com/evcrm/evcrm/libs/platform/grpcserver"
	leadsgrpc "github.com/evcrm/evcrm/services/leads/internal/ports/grpc"
	"github.com/evcrm/evcrm/services/leads/internal/service"
)

// flags are the leads service's own settings.
type flags struct {
	PipelineAddr string `flag:"pipeline-addr" default:"127.0.0.1:9102" usage:"gRPC address of the pipeline service, where lead conversion opens opportunities (empty: conversions that ask for an opportunity fail UNAVAILABLE)"`
	// ReadModelCacheMiB trades memory for rebuild speed (docs/operations.md#memory).
	ReadModelCacheMiB int `flag:"read-model-cache-mib" default:"16" usage:"SQLite page cache of the leads read model's writer, in MiB (costs about twice that in RSS once full; 64 rebuilds a million leads about 15-20% faster)"`
}

func newSpec() daemon.Spec {
	f := &flags{}
	return daemon.Spec{
		Name: "leads", GRPCAddr: ":9101", MetricsAddr: ":9201", HTTPAddr: ":9301", DataDir: ".data/leads", Flags: f,
		// REST/JSON on -http-addr; ImportRecords (a bidirectional stream) is gRPC only.
		Gateway: []daemon.GatewayRegistrar{leadsv1.RegisterLeadsServiceHandler, leadsv1.RegisterAccountsServiceHandler,
			leadsv1.RegisterContactsServiceHandler, leadsv1.RegisterActivitiesServiceHandler,
			leadsv1.RegisterDataTransferServiceHandler},
		Build: func(ctx context.Context, env daemon.Env) (daemon.Built, error) {
			svc, err := service.New(ctx, env.NATS, service.Options{DataDir: env.Config.DataDir, Replicas: env.Config.Replicas,
				Logger: env.Logger, Metrics: env.Projection, PipelineAddr: f.PipelineAddr,
				AllowBackfill: env.Config.AllowBackfill, ReadModelCacheKiB: f.ReadModelCacheMiB << 10})
			if err != nil {
				return daemon.Built{}, err
			}
			return daemon.Built{
				Register: func(s *grpcserver.Server) { leadsgrpc.Register(s, svc.App) },
				Workers:  svc.Workers(),
				Close:    svc.Close,
			}, nil
		},
	}
}

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "leads:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error { return daemon.Run(ctx, newSpec()) }
