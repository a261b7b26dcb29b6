// Command campaign runs the campaign service: campaigns, members and responses, segments and
// automation rules over gRPC, with read models built from the CRM_CAMPAIGN stream and the rule
// engine consuming every CRM stream. Flags have EVCRM_* environment fallbacks; -h lists them.
package main

import (
	"context"

	campaignv1 "github.com/evcrm/evcrm/libs/gen/crm/campaign/v1"
	"github.com/evcrm/evcrm/libs/platform/daemon"
	"github.com/evcrm/evcrm/libs/platform/grpcserver"
	campaigngrpc "github.com/evcrm/evcrm/services/campaign/internal/ports/grpc"
	"github.com/evcrm/evcrm/services/campaign/internal/service"
)

// flags are the campaign service's own settings.
type flags struct {
	LeadsAddr string `flag:"leads-addr" default:"127.0.0.1:9101" usage:"gRPC address of the leads service (segments, suppression checks, rule actions)"`
}

func newSpec() daemon.Spec {
	f := &flags{}
	return daemon.Spec{
		Name: "campaign", GRPCAddr: ":9103", MetricsAddr: ":9203", HTTPAddr: ":9303", DataDir: ".data/campaign", Flags: f,
		// REST/JSON on -http-addr; RecordResponses (a client stream) is gRPC only.
		Gateway: []daemon.GatewayRegistrar{campaignv1.RegisterCampaignServiceHandler},
		Build: func(ctx context.Context, env daemon.Env) (daemon.Built, error) {
			svc, err := service.New(ctx, env.NATS, service.Options{DataDir: env.Config.DataDir, Replicas: env.Config.Replicas,
				LeadsAddr: f.LeadsAddr, Logger: env.Logger, Metrics: env.Projection})
			if err != nil {
				return daemon.Built{}, err
			}
			return daemon.Built{
				Register: func(s *grpcserver.Server) { campaigngrpc.Register(s, svc.App) },
				Workers:  svc.Workers(),
				Close:    svc.Close,
			}, nil
		},
	}
}

func main() { daemon.Main(newSpec()) }

func run(ctx context.Context) error { return daemon.Run(ctx, newSpec()) }
