package grpc

import (
	"context"
	"fmt"

	"github.com/evcrm/evcrm/libs/apperr"
	campaignv1 "github.com/evcrm/evcrm/libs/gen/crm/campaign/v1"
	"github.com/evcrm/evcrm/services/campaign/internal/adapters/protomap"
	"github.com/evcrm/evcrm/services/campaign/internal/app"
	"github.com/evcrm/evcrm/services/campaign/internal/domain/campaign"
)

// CreateCampaign implements campaignv1.CampaignServiceServer.
func (s *Server) CreateCampaign(ctx context.Context, req *campaignv1.CreateCampaignRequest) (*campaignv1.CreateCampaignResponse, error) {
	t, err := tenant(ctx)
	if err != nil {
		return nil, err
	}
	if req.GetCampaign() == nil {
		return nil, apperr.InvalidFields("invalid campaign", apperr.FieldViolation{Field: "campaign", Description: "required"})
	}
	d, err := protomap.DetailsFromProto(req.GetCampaign(), "campaign")
	if err != nil {
		return nil, err
	}
	c, res, err := s.app.CreateCampaign(ctx, t, d, write(req.GetOptions()))
	if err != nil {
		return nil, err
	}
	return &campaignv1.CreateCampaignResponse{Campaign: protomap.CampaignToProto(c), Result: result(res)}, nil
}

// GetCampaign implements campaignv1.CampaignServiceServer.
func (s *Server) GetCampaign(ctx context.Context, req *campaignv1.GetCampaignRequest) (*campaignv1.GetCampaignResponse, error) {
	t, err := tenant(ctx)
	if err != nil {
		return nil, err
	}
	v, err := s.app.GetCampaign(ctx, t, req.GetCampaignId(), read(req.GetRead()))
	if err != nil {
		return nil, err
	}
	out := &campaignv1.GetCampaignResponse{Campaign: protomap.CampaignToProto(v.Campaign), Members: v.Counts.Members,
		Responded: v.Counts.Responded, Unsubscribed: v.Counts.Unsubscribed}
	for _, st := range v.Campaign.MemberStatuses {
		out.ByStatus = append(out.ByStatus, &campaignv1.StatusCount{Status: st.Name, Members: v.Counts.ByStatus[st.Name]})
	}
	return out, nil
}

// UpdateCampaign implements campaignv1.CampaignServiceServer.
func (s *Server) UpdateCampaign(ctx context.Context, req *campaignv1.UpdateCampaignRequest) (*campaignv1.UpdateCampaignResponse, error) {
	t, err := tenant(ctx)
	if err != nil {
		return nil, err
	}
	d, err := protomap.DetailsFromProto(req.GetCampaign(), "campaign")
	if err != nil {
		return nil, err
	}
	c, res, err := s.app.UpdateCampaign(ctx, t, req.GetCampaignId(), campaign.Update{Paths: req.GetUpdateMask().GetPaths(), Details: d}, write(req.GetOptions()))
	if err != nil {
		return nil, err
	}
	return &campaignv1.UpdateCampaignResponse{Campaign: protomap.CampaignToProto(c), Result: result(res)}, nil
}

// ChangeCampaignStatus implements campaignv1.CampaignServiceServer.
func (s *Server) ChangeCampaignStatus(ctx context.Context, req *campaignv1.ChangeCampaignStatusRequest) (*campaignv1.ChangeCampaignStatusResponse, error) {
	t, err := tenant(ctx)
	if err != nil {
		return nil, err
	}
	to, err := protomap.StatusFromProto(req.GetStatus(), "status")
	if err != nil {
		return nil, err
	}
	c, res, err := s.app.ChangeCampaignStatus(ctx, t, req.GetCampaignId(), to, req.GetNote(), write(req.GetOptions()))
	if err != nil {
		return nil, err
	}
	return &campaignv1.ChangeCampaignStatusResponse{Campaign: protomap.CampaignToProto(c), Result: result(res)}, nil
}

// RecordCampaignCost implements campaignv1.CampaignServiceServer.
func (s *Server) RecordCampaignCost(ctx context.Context, req *campaignv1.RecordCampaignCostRequest) (*campaignv1.RecordCampaignCostResponse, error) {
	t, err := tenant(ctx)
	if err != nil {
		return nil, err
	}
	e, err := protomap.CostEntryFromProto(req.GetEntry())
	if err != nil {
		return nil, err
	}
	c, res, err := s.app.RecordCampaignCost(ctx, t, req.GetCampaignId(), e, write(req.GetOptions()))
	if err != nil {
		return nil, err
	}
	return &campaignv1.RecordCampaignCostResponse{Campaign: protomap.CampaignToProto(c), Result: result(res)}, nil
}

// ListCampaigns implements campaignv1.CampaignServiceServer.
func (s *Server) ListCampaigns(ctx context.Context, req *campaignv1.ListCampaignsRequest) (*campaignv1.ListCampaignsResponse, error) {
	t, err := tenant(ctx)
	if err != nil {
		return nil, err
	}
	f, err := campaignFilter(req)
	if err != nil {
		return nil, err
	}
	cs, next, err := s.app.ListCampaigns(ctx, t, f, read(req.GetRead()))
	if err != nil {
		return nil, err
	}
	out := &campaignv1.ListCampaignsResponse{NextPageToken: next}
	for _, c := range cs {
		out.Campaigns = append(out.Campaigns, protomap.CampaignToProto(c))
	}
	return out, nil
}

// campaignFilter maps ListCampaigns' filters; unknown enum numbers are violations.
func campaignFilter(req *campaignv1.ListCampaignsRequest) (app.CampaignFilter, error) {
	var v apperr.Violations
	f := app.CampaignFilter{OwnerIDs: req.GetOwnerIds(), ParentCampaignID: req.GetParentCampaignId(),
		ActiveFrom: req.GetActiveFrom(), ActiveTo: req.GetActiveTo(), PageSize: int(req.GetPageSize()), PageToken: req.GetPageToken()}
	for i, st := range req.GetStatuses() {
		if _, ok := campaignv1.CampaignStatus_name[int32(st)]; !ok || st == 0 {
			v.Add(fmt.Sprintf("statuses[%d]", i), "unknown status %d", st)
		}
		f.Statuses = append(f.Statuses, campaign.Status(st))
	}
	for i, c := range req.GetChannels() {
		if _, ok := campaignv1.CampaignChannel_name[int32(c)]; !ok || c == 0 {
			v.Add(fmt.Sprintf("channels[%d]", i), "unknown channel %d", c)
		}
		f.Channels = append(f.Channels, campaign.Channel(c))
	}
	return f, v.Err("invalid campaign query")
}
