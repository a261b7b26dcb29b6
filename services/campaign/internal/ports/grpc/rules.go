package grpc

import (
	"context"

	campaignv1 "github.com/evcrm/evcrm/libs/gen/crm/campaign/v1"
	"github.com/evcrm/evcrm/services/campaign/internal/adapters/protomap"
	"github.com/evcrm/evcrm/services/campaign/internal/app"
	"github.com/evcrm/evcrm/services/campaign/internal/domain/rule"
)

// CreateRule creates an automation rule.
func (s *Server) CreateRule(ctx context.Context, req *campaignv1.CreateRuleRequest) (*campaignv1.CreateRuleResponse, error) {
	t, err := tenant(ctx)
	if err != nil {
		return nil, err
	}
	r, res, err := s.app.CreateRule(ctx, t, protomap.DefinitionFromProto(req.GetRule()), write(req.GetOptions()))
	if err != nil {
		return nil, protomap.RuleRequestError(err)
	}
	return &campaignv1.CreateRuleResponse{Rule: protomap.RuleToProto(r), Result: result(res)}, nil
}

// GetRule returns one rule.
func (s *Server) GetRule(ctx context.Context, req *campaignv1.GetRuleRequest) (*campaignv1.GetRuleResponse, error) {
	t, err := tenant(ctx)
	if err != nil {
		return nil, err
	}
	r, err := s.app.GetRule(ctx, t, req.GetRuleId(), read(req.GetRead()))
	if err != nil {
		return nil, err
	}
	return &campaignv1.GetRuleResponse{Rule: protomap.RuleToProto(r)}, nil
}

// UpdateRule replaces a rule's definition.
func (s *Server) UpdateRule(ctx context.Context, req *campaignv1.UpdateRuleRequest) (*campaignv1.UpdateRuleResponse, error) {
	t, err := tenant(ctx)
	if err != nil {
		return nil, err
	}
	r, res, err := s.app.UpdateRule(ctx, t, req.GetRuleId(), protomap.DefinitionFromProto(req.GetRule()), write(req.GetOptions()))
	if err != nil {
		if req.GetRuleId() == "" || !rule.ValidID(req.GetRuleId()) {
			return nil, err // the violation is on rule_id itself
		}
		return nil, protomap.RuleRequestError(err)
	}
	return &campaignv1.UpdateRuleResponse{Rule: protomap.RuleToProto(r), Result: result(res)}, nil
}

// SetRuleEnabled turns a rule on or off.
func (s *Server) SetRuleEnabled(ctx context.Context, req *campaignv1.SetRuleEnabledRequest) (*campaignv1.SetRuleEnabledResponse, error) {
	t, err := tenant(ctx)
	if err != nil {
		return nil, err
	}
	r, res, err := s.app.SetRuleEnabled(ctx, t, req.GetRuleId(), req.GetEnabled(), write(req.GetOptions()))
	if err != nil {
		return nil, err
	}
	return &campaignv1.SetRuleEnabledResponse{Rule: protomap.RuleToProto(r), Result: result(res)}, nil
}

// DeleteRule deletes a rule.
func (s *Server) DeleteRule(ctx context.Context, req *campaignv1.DeleteRuleRequest) (*campaignv1.DeleteRuleResponse, error) {
	t, err := tenant(ctx)
	if err != nil {
		return nil, err
	}
	res, err := s.app.DeleteRule(ctx, t, req.GetRuleId(), write(req.GetOptions()))
	if err != nil {
		return nil, err
	}
	return &campaignv1.DeleteRuleResponse{Result: result(res)}, nil
}

// ListRules lists the tenant's rules.
func (s *Server) ListRules(ctx context.Context, req *campaignv1.ListRulesRequest) (*campaignv1.ListRulesResponse, error) {
	t, err := tenant(ctx)
	if err != nil {
		return nil, err
	}
	rs, next, err := s.app.ListRules(ctx, t, req.GetEnabledOnly(), int(req.GetPageSize()), req.GetPageToken(), read(req.GetRead()))
	if err != nil {
		return nil, err
	}
	out := &campaignv1.ListRulesResponse{NextPageToken: next}
	for _, r := range rs {
		out.Rules = append(out.Rules, protomap.RuleToProto(r))
	}
	return out, nil
}

// DryRunRule shows which recent events a rule would have fired for.
func (s *Server) DryRunRule(ctx context.Context, req *campaignv1.DryRunRuleRequest) (*campaignv1.DryRunRuleResponse, error) {
	t, err := tenant(ctx)
	if err != nil {
		return nil, err
	}
	in := app.DryRun{RuleID: req.GetRuleId(), Lookback: req.GetLookback().AsDuration(), MaxEvents: int(req.GetMaxEvents())}
	if req.GetLookback() == nil {
		in.Lookback = 0
	}
	if req.GetRule() != nil {
		d := protomap.DefinitionFromProto(req.GetRule())
		in.Definition = &d
	}
	n, runs, err := s.app.DryRunRule(ctx, t, in)
	if err != nil {
		return nil, err
	}
	out := &campaignv1.DryRunRuleResponse{Examined: n}
	for _, r := range runs {
		out.Runs = append(out.Runs, protomap.RunToProto(r))
	}
	return out, nil
}

// ListRuleRuns is the run log.
func (s *Server) ListRuleRuns(ctx context.Context, req *campaignv1.ListRuleRunsRequest) (*campaignv1.ListRuleRunsResponse, error) {
	t, err := tenant(ctx)
	if err != nil {
		return nil, err
	}
	f := app.RunFilter{RuleID: req.GetRuleId(), PageSize: int(req.GetPageSize()), PageToken: req.GetPageToken()}
	for _, o := range req.GetOutcomes() {
		f.Outcomes = append(f.Outcomes, protomap.OutcomeFromProto(o))
	}
	runs, next, err := s.app.ListRuleRuns(ctx, t, f, read(req.GetRead()))
	if err != nil {
		return nil, err
	}
	out := &campaignv1.ListRuleRunsResponse{NextPageToken: next}
	for _, r := range runs {
		out.Runs = append(out.Runs, protomap.RunToProto(r))
	}
	return out, nil
}
