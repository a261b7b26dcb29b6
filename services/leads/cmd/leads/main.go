// Command leads runs the leads service: lead capture, lifecycle, scoring, assignment and dedupe
// over gRPC, with its read model built from the CRM_LEADS stream. Flags have EVCRM_* environment
// fallbacks; -h lists them.
package main

import (
	"context"

	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	"github.com/evcrm/evcrm/libs/platform/daemon"
	"github.com/evcrm/evcrm/libs/platform/grpcserver"
	"github.com/evcrm/evcrm/libs/platform/lifecycle"
	leadsgrpc "github.com/evcrm/evcrm/services/leads/internal/ports/grpc"
	"github.com/evcrm/evcrm/services/leads/internal/service"
)

var spec = daemon.Spec{
	Name: "leads", GRPCAddr: ":9101", MetricsAddr: ":9201", DataDir: ".data/leads",
	Build: func(ctx context.Context, env daemon.Env) (daemon.Built, error) {
		svc, err := service.New(ctx, env.NATS, service.Options{DataDir: env.Config.DataDir, Replicas: env.Config.Replicas,
			Logger: env.Logger, Metrics: env.Projection})
		if err != nil {
			return daemon.Built{}, err
		}
		return daemon.Built{
			Register: func(s *grpcserver.Server) { leadsv1.RegisterLeadsServiceServer(s, leadsgrpc.NewServer(svc.App)) },
			Workers:  []lifecycle.Worker{{Name: "lead-view-projector", Run: svc.Projector.Run}},
			Close:    svc.Close,
		}, nil
	},
}

func main() { daemon.Main(spec) }

func run(ctx context.Context) error { return daemon.Run(ctx, spec) }
