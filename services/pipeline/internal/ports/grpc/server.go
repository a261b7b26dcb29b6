// Package grpc is the pipeline service's gRPC port: it maps crm.pipeline.v1 requests to
// application commands and queries (through protomap) and the results back. Errors are apperr
// values; the platform's error interceptor turns them into statuses.
package grpc

import (
	"context"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/eventstore"
	commonv1 "github.com/evcrm/evcrm/libs/gen/crm/common/v1"
	pipelinev1 "github.com/evcrm/evcrm/libs/gen/crm/pipeline/v1"
	"github.com/evcrm/evcrm/libs/reqctx"
	"github.com/evcrm/evcrm/services/pipeline/internal/adapters/protomap"
	"github.com/evcrm/evcrm/services/pipeline/internal/app"
)

// Server implements pipelinev1.PipelineServiceServer.
type Server struct {
	pipelinev1.UnimplementedPipelineServiceServer
	app *app.App
}

// NewServer returns the gRPC server of a.
func NewServer(a *app.App) *Server { return &Server{app: a} }

// caller is who a request runs as: the tenant and the acting user.
type caller struct {
	tenant, user string
}

func callerOf(ctx context.Context) (caller, error) {
	t, ok := reqctx.Tenant(ctx)
	if !ok {
		return caller{}, apperr.New(apperr.Unauthenticated, "no tenant")
	}
	a := reqctx.ActorFrom(ctx)
	user := a.ID
	if a.OnBehalfOf != "" {
		user = a.OnBehalfOf
	}
	return caller{tenant: t, user: user}, nil
}

func writeOf(o *commonv1.WriteOptions) (app.Write, error) {
	w, err := protomap.WriteFromProto(o)
	return app.Write(w), err
}

func readOf(o *commonv1.ReadOptions) app.Read { return app.Read(protomap.ReadFromProto(o)) }

func result(r eventstore.Result) *commonv1.WriteResult {
	return &commonv1.WriteResult{Version: r.Position.Version, Sequence: r.Position.Sequence, Replayed: r.Replayed}
}

// command is what every write needs: the caller and the write options, both checked.
func command(ctx context.Context, o *commonv1.WriteOptions) (caller, app.Write, error) {
	c, err := callerOf(ctx)
	if err != nil {
		return caller{}, app.Write{}, err
	}
	w, err := writeOf(o)
	return c, w, err
}

// opportunityReply maps an opportunity command's outcome.
func opportunityReply(out app.OpportunityOutcome, err error) (*pipelinev1.Opportunity, *commonv1.WriteResult, error) {
	if err != nil {
		return nil, nil, err
	}
	o, err := protomap.OpportunityToProto(out.State)
	if err != nil {
		return nil, nil, err
	}
	return o, result(out.Result), nil
}
