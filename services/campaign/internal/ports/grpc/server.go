// Package grpc is the campaign service's gRPC port: it maps crm.campaign.v1 requests to
// application commands and queries and the results back. Errors are apperr values; the
// platform's error interceptor turns them into statuses. Handlers live in one file per part:
// campaigns.go, members.go, segments.go, rules.go.
package grpc

import (
	"context"

	"google.golang.org/grpc"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/eventstore"
	campaignv1 "github.com/evcrm/evcrm/libs/gen/crm/campaign/v1"
	commonv1 "github.com/evcrm/evcrm/libs/gen/crm/common/v1"
	"github.com/evcrm/evcrm/libs/reqctx"
	"github.com/evcrm/evcrm/services/campaign/internal/app"
)

// Server implements campaignv1.CampaignServiceServer.
type Server struct {
	campaignv1.UnimplementedCampaignServiceServer
	app *app.App
}

// NewServer returns the gRPC server of a.
func NewServer(a *app.App) *Server { return &Server{app: a} }

// Register adds the campaign service to s.
func Register(s grpc.ServiceRegistrar, a *app.App) {
	campaignv1.RegisterCampaignServiceServer(s, NewServer(a))
}

func tenant(ctx context.Context) (string, error) {
	t, ok := reqctx.Tenant(ctx)
	if !ok {
		return "", apperr.New(apperr.Unauthenticated, "no tenant")
	}
	return t, nil
}

func write(o *commonv1.WriteOptions) app.Write {
	w := app.Write{IdempotencyKey: o.GetIdempotencyKey()}
	if o != nil && o.ExpectedVersion != nil {
		v := o.GetExpectedVersion()
		w.ExpectedVersion = &v
	}
	return w
}

func read(o *commonv1.ReadOptions) app.Read { return app.Read{MinSequence: o.GetMinSequence()} }

func result(r eventstore.Result) *commonv1.WriteResult {
	return &commonv1.WriteResult{Version: r.Position.Version, Sequence: r.Position.Sequence, Replayed: r.Replayed}
}
