// Command pipeline runs the pipeline service: pipelines and stages, opportunities, quotes,
// contracts and the weighted forecast over gRPC, with its read model built from the CRM_PIPELINE
// stream. Flags have EVCRM_* environment fallbacks; -h lists them.
package main

import (
	"context"

	pipelinev1 "github.com/evcrm/evcrm/libs/gen/crm/pipeline/v1"
	"github.com/evcrm/evcrm/libs/platform/daemon"
	"github.com/evcrm/evcrm/libs/platform/grpcserver"
	"github.com/evcrm/evcrm/libs/platform/lifecycle"
	pipelinegrpc "github.com/evcrm/evcrm/services/pipeline/internal/ports/grpc"
	"github.com/evcrm/evcrm/services/pipeline/internal/service"
)

var spec = daemon.Spec{
	Name: "pipeline", GRPCAddr: ":9102", MetricsAddr: ":9202", HTTPAddr: ":9302", DataDir: ".data/pipeline",
	Gateway: []daemon.GatewayRegistrar{pipelinev1.RegisterPipelineServiceHandler},
	Build: func(ctx context.Context, env daemon.Env) (daemon.Built, error) {
		svc, err := service.New(ctx, env.NATS, service.Options{DataDir: env.Config.DataDir, Replicas: env.Config.Replicas,
			Logger: env.Logger, Metrics: env.Projection})
		if err != nil {
			return daemon.Built{}, err
		}
		return daemon.Built{
			Register: func(s *grpcserver.Server) {
				pipelinev1.RegisterPipelineServiceServer(s, pipelinegrpc.NewServer(svc.App))
			},
			Workers: []lifecycle.Worker{{Name: "pipeline-view-projector", Run: svc.Projector.Run}},
			Close:   svc.Close,
		}, nil
	},
}

func main() { daemon.Main(spec) }

func run(ctx context.Context) error { return daemon.Run(ctx, spec) }
