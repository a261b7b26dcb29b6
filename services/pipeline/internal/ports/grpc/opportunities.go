package grpc

import (
	"context"
	"time"

	commonv1 "github.com/evcrm/evcrm/libs/gen/crm/common/v1"
	pipelinev1 "github.com/evcrm/evcrm/libs/gen/crm/pipeline/v1"
	"github.com/evcrm/evcrm/services/pipeline/internal/adapters/protomap"
	"github.com/evcrm/evcrm/services/pipeline/internal/app"
)

// opportunityCommand runs a command that yields an opportunity and maps its outcome.
func opportunityCommand(ctx context.Context, o *commonv1.WriteOptions, do func(caller, app.Write) (app.OpportunityOutcome, error)) (*pipelinev1.Opportunity, *commonv1.WriteResult, error) {
	c, w, err := command(ctx, o)
	if err != nil {
		return nil, nil, err
	}
	return opportunityReply(do(c, w))
}

func (s *Server) CreateOpportunity(ctx context.Context, req *pipelinev1.CreateOpportunityRequest) (*pipelinev1.CreateOpportunityResponse, error) {
	cmd, err := protomap.NewOpportunityFromProto(req)
	if err != nil {
		return nil, err
	}
	o, r, err := opportunityCommand(ctx, req.GetOptions(), func(c caller, w app.Write) (app.OpportunityOutcome, error) {
		if cmd.OwnerID == "" {
			cmd.OwnerID = c.user
		}
		out, err := s.app.CreateOpportunity(ctx, c.tenant, req.GetOpportunity().GetPipelineId(), cmd, w)
		return out, protomap.RequestError(req, err)
	})
	if err != nil {
		return nil, err
	}
	return &pipelinev1.CreateOpportunityResponse{Opportunity: o, Result: r}, nil
}

func (s *Server) GetOpportunity(ctx context.Context, req *pipelinev1.GetOpportunityRequest) (*pipelinev1.GetOpportunityResponse, error) {
	c, err := callerOf(ctx)
	if err != nil {
		return nil, err
	}
	got, err := s.app.GetOpportunity(ctx, c.tenant, req.GetOpportunityId(), readOf(req.GetRead()))
	if err != nil {
		return nil, err
	}
	o, err := protomap.OpportunityToProto(got)
	if err != nil {
		return nil, err
	}
	return &pipelinev1.GetOpportunityResponse{Opportunity: o, StageHistory: protomap.StageHistoryToProto(got.StageHistory, time.Now())}, nil
}

func (s *Server) UpdateOpportunity(ctx context.Context, req *pipelinev1.UpdateOpportunityRequest) (*pipelinev1.UpdateOpportunityResponse, error) {
	upd, err := protomap.OpportunityUpdateFromProto(req)
	if err != nil {
		return nil, err
	}
	o, r, err := opportunityCommand(ctx, req.GetOptions(), func(c caller, w app.Write) (app.OpportunityOutcome, error) {
		out, err := s.app.UpdateOpportunity(ctx, c.tenant, req.GetOpportunityId(), upd, w)
		return out, protomap.RequestError(req, err)
	})
	if err != nil {
		return nil, err
	}
	return &pipelinev1.UpdateOpportunityResponse{Opportunity: o, Result: r}, nil
}

func (s *Server) MoveOpportunityStage(ctx context.Context, req *pipelinev1.MoveOpportunityStageRequest) (*pipelinev1.MoveOpportunityStageResponse, error) {
	cmd := protomap.StageMoveFromProto(req)
	o, r, err := opportunityCommand(ctx, req.GetOptions(), func(c caller, w app.Write) (app.OpportunityOutcome, error) {
		cmd.MovedBy = c.user
		return s.app.MoveStage(ctx, c.tenant, req.GetOpportunityId(), cmd, w)
	})
	if err != nil {
		return nil, err
	}
	return &pipelinev1.MoveOpportunityStageResponse{Opportunity: o, Result: r}, nil
}

func (s *Server) UpdateOpportunityAmount(ctx context.Context, req *pipelinev1.UpdateOpportunityAmountRequest) (*pipelinev1.UpdateOpportunityAmountResponse, error) {
	amount, err := protomap.AmountFromProto(req)
	if err != nil {
		return nil, err
	}
	o, r, err := opportunityCommand(ctx, req.GetOptions(), func(c caller, w app.Write) (app.OpportunityOutcome, error) {
		return s.app.UpdateAmount(ctx, c.tenant, req.GetOpportunityId(), amount, w)
	})
	if err != nil {
		return nil, err
	}
	return &pipelinev1.UpdateOpportunityAmountResponse{Opportunity: o, Result: r}, nil
}

func (s *Server) UpdateOpportunityCloseDate(ctx context.Context, req *pipelinev1.UpdateOpportunityCloseDateRequest) (*pipelinev1.UpdateOpportunityCloseDateResponse, error) {
	d, err := protomap.CloseDateFromProto(req)
	if err != nil {
		return nil, err
	}
	o, r, err := opportunityCommand(ctx, req.GetOptions(), func(c caller, w app.Write) (app.OpportunityOutcome, error) {
		return s.app.UpdateCloseDate(ctx, c.tenant, req.GetOpportunityId(), d, w)
	})
	if err != nil {
		return nil, err
	}
	return &pipelinev1.UpdateOpportunityCloseDateResponse{Opportunity: o, Result: r}, nil
}

func (s *Server) UpdateOpportunityProbability(ctx context.Context, req *pipelinev1.UpdateOpportunityProbabilityRequest) (*pipelinev1.UpdateOpportunityProbabilityResponse, error) {
	p := protomap.ProbabilityFromProto(req)
	o, r, err := opportunityCommand(ctx, req.GetOptions(), func(c caller, w app.Write) (app.OpportunityOutcome, error) {
		return s.app.UpdateProbability(ctx, c.tenant, req.GetOpportunityId(), p, w)
	})
	if err != nil {
		return nil, err
	}
	return &pipelinev1.UpdateOpportunityProbabilityResponse{Opportunity: o, Result: r}, nil
}

func (s *Server) UpdateOpportunityForecastCategory(ctx context.Context, req *pipelinev1.UpdateOpportunityForecastCategoryRequest) (*pipelinev1.UpdateOpportunityForecastCategoryResponse, error) {
	cat, err := protomap.CategoryOverrideFromProto(req)
	if err != nil {
		return nil, err
	}
	o, r, err := opportunityCommand(ctx, req.GetOptions(), func(c caller, w app.Write) (app.OpportunityOutcome, error) {
		return s.app.UpdateForecastCategory(ctx, c.tenant, req.GetOpportunityId(), cat, w)
	})
	if err != nil {
		return nil, err
	}
	return &pipelinev1.UpdateOpportunityForecastCategoryResponse{Opportunity: o, Result: r}, nil
}

func (s *Server) AssignOpportunity(ctx context.Context, req *pipelinev1.AssignOpportunityRequest) (*pipelinev1.AssignOpportunityResponse, error) {
	cmd := protomap.AssignmentFromProto(req)
	o, r, err := opportunityCommand(ctx, req.GetOptions(), func(c caller, w app.Write) (app.OpportunityOutcome, error) {
		return s.app.Assign(ctx, c.tenant, req.GetOpportunityId(), cmd, w)
	})
	if err != nil {
		return nil, err
	}
	return &pipelinev1.AssignOpportunityResponse{Opportunity: o, Result: r}, nil
}

func (s *Server) SetOpportunityContactRoles(ctx context.Context, req *pipelinev1.SetOpportunityContactRolesRequest) (*pipelinev1.SetOpportunityContactRolesResponse, error) {
	roles, err := protomap.ContactRolesFromProto(req)
	if err != nil {
		return nil, err
	}
	o, r, err := opportunityCommand(ctx, req.GetOptions(), func(c caller, w app.Write) (app.OpportunityOutcome, error) {
		out, err := s.app.SetContactRoles(ctx, c.tenant, req.GetOpportunityId(), roles, w)
		return out, protomap.RequestError(req, err)
	})
	if err != nil {
		return nil, err
	}
	return &pipelinev1.SetOpportunityContactRolesResponse{Opportunity: o, Result: r}, nil
}

func (s *Server) MarkOpportunityWon(ctx context.Context, req *pipelinev1.MarkOpportunityWonRequest) (*pipelinev1.MarkOpportunityWonResponse, error) {
	cmd, err := protomap.WinFromProto(req)
	if err != nil {
		return nil, err
	}
	o, r, err := opportunityCommand(ctx, req.GetOptions(), func(c caller, w app.Write) (app.OpportunityOutcome, error) {
		cmd.MovedBy = c.user
		out, err := s.app.MarkWon(ctx, c.tenant, req.GetOpportunityId(), cmd, w)
		return out, protomap.RequestError(req, err)
	})
	if err != nil {
		return nil, err
	}
	return &pipelinev1.MarkOpportunityWonResponse{Opportunity: o, Result: r}, nil
}

func (s *Server) MarkOpportunityLost(ctx context.Context, req *pipelinev1.MarkOpportunityLostRequest) (*pipelinev1.MarkOpportunityLostResponse, error) {
	cmd, err := protomap.LossFromProto(req)
	if err != nil {
		return nil, err
	}
	o, r, err := opportunityCommand(ctx, req.GetOptions(), func(c caller, w app.Write) (app.OpportunityOutcome, error) {
		cmd.MovedBy = c.user
		out, err := s.app.MarkLost(ctx, c.tenant, req.GetOpportunityId(), cmd, w)
		return out, protomap.RequestError(req, err)
	})
	if err != nil {
		return nil, err
	}
	return &pipelinev1.MarkOpportunityLostResponse{Opportunity: o, Result: r}, nil
}

func (s *Server) ReopenOpportunity(ctx context.Context, req *pipelinev1.ReopenOpportunityRequest) (*pipelinev1.ReopenOpportunityResponse, error) {
	cmd := protomap.ReopeningFromProto(req)
	o, r, err := opportunityCommand(ctx, req.GetOptions(), func(c caller, w app.Write) (app.OpportunityOutcome, error) {
		cmd.MovedBy = c.user
		return s.app.Reopen(ctx, c.tenant, req.GetOpportunityId(), cmd, w)
	})
	if err != nil {
		return nil, err
	}
	return &pipelinev1.ReopenOpportunityResponse{Opportunity: o, Result: r}, nil
}

func (s *Server) ListOpportunities(ctx context.Context, req *pipelinev1.ListOpportunitiesRequest) (*pipelinev1.ListOpportunitiesResponse, error) {
	c, err := callerOf(ctx)
	if err != nil {
		return nil, err
	}
	f, err := protomap.OpportunityFilterFromProto(req)
	if err != nil {
		return nil, err
	}
	list, next, err := s.app.ListOpportunities(ctx, c.tenant, opportunityFilter(f), app.Read(f.Read))
	if err != nil {
		return nil, err
	}
	resp := &pipelinev1.ListOpportunitiesResponse{NextPageToken: next, Opportunities: make([]*pipelinev1.Opportunity, 0, len(list))}
	for _, o := range list {
		p, err := protomap.OpportunityToProto(o)
		if err != nil {
			return nil, err
		}
		resp.Opportunities = append(resp.Opportunities, p)
	}
	return resp, nil
}

func (s *Server) GetForecast(ctx context.Context, req *pipelinev1.GetForecastRequest) (*pipelinev1.GetForecastResponse, error) {
	c, err := callerOf(ctx)
	if err != nil {
		return nil, err
	}
	q, err := protomap.ForecastRequestFromProto(req)
	if err != nil {
		return nil, err
	}
	f, err := s.app.Forecast(ctx, c.tenant, forecastQuery(q), app.Read(q.Read))
	if err != nil {
		return nil, err
	}
	return protomap.ForecastToProto(f, q.Period, q.AsOf)
}
