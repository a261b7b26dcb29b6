package grpc

import (
	"context"

	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	"github.com/evcrm/evcrm/services/leads/internal/adapters/protomap"
	"github.com/evcrm/evcrm/services/leads/internal/domain/tenantcfg"
)

// config returns the caller's tenant's lead configuration.
func (s *Server) config(ctx context.Context) (tenantcfg.Config, error) {
	t, err := tenant(ctx)
	if err != nil {
		return tenantcfg.Config{}, err
	}
	return s.app.Config(ctx, t)
}

func (s *Server) GetScoringModel(ctx context.Context, _ *leadsv1.GetScoringModelRequest) (*leadsv1.GetScoringModelResponse, error) {
	c, err := s.config(ctx)
	if err != nil {
		return nil, err
	}
	return &leadsv1.GetScoringModelResponse{Model: protomap.ScoringModelToProto(c.Model)}, nil
}

func (s *Server) UpdateScoringModel(ctx context.Context, req *leadsv1.UpdateScoringModelRequest) (*leadsv1.UpdateScoringModelResponse, error) {
	t, err := tenant(ctx)
	if err != nil {
		return nil, err
	}
	m, err := protomap.ScoringModelFromProto(req.GetModel())
	if err != nil {
		return nil, err
	}
	res, err := s.app.UpdateScoringModel(ctx, t, m, write(req.GetOptions()))
	if err != nil {
		return nil, err
	}
	return &leadsv1.UpdateScoringModelResponse{Model: protomap.ScoringModelToProto(res.Config.Model), Result: result(res.Result)}, nil
}

func (s *Server) ListTerritories(ctx context.Context, _ *leadsv1.ListTerritoriesRequest) (*leadsv1.ListTerritoriesResponse, error) {
	c, err := s.config(ctx)
	if err != nil {
		return nil, err
	}
	out := &leadsv1.ListTerritoriesResponse{}
	for _, tr := range c.Territories {
		out.Territories = append(out.Territories, protomap.TerritoryToProto(tr))
	}
	return out, nil
}

func (s *Server) UpsertTerritory(ctx context.Context, req *leadsv1.UpsertTerritoryRequest) (*leadsv1.UpsertTerritoryResponse, error) {
	t, err := tenant(ctx)
	if err != nil {
		return nil, err
	}
	tr, err := protomap.TerritoryFromProto(req.GetTerritory())
	if err != nil {
		return nil, err
	}
	res, err := s.app.UpsertTerritory(ctx, t, tr, write(req.GetOptions()))
	if err != nil {
		return nil, err
	}
	out := &leadsv1.UpsertTerritoryResponse{Result: result(res.Result)}
	for _, x := range res.Config.Territories {
		if x.ID == tr.ID {
			out.Territory = protomap.TerritoryToProto(x)
		}
	}
	return out, nil
}

func (s *Server) DeleteTerritory(ctx context.Context, req *leadsv1.DeleteTerritoryRequest) (*leadsv1.DeleteTerritoryResponse, error) {
	t, err := tenant(ctx)
	if err != nil {
		return nil, err
	}
	res, err := s.app.DeleteTerritory(ctx, t, req.GetTerritoryId(), write(req.GetOptions()))
	if err != nil {
		return nil, err
	}
	return &leadsv1.DeleteTerritoryResponse{Result: result(res.Result)}, nil
}

func (s *Server) ListCustomFields(ctx context.Context, req *leadsv1.ListCustomFieldsRequest) (*leadsv1.ListCustomFieldsResponse, error) {
	obj, err := protomap.CustomFieldObjectFromProto(req.GetObject(), "object")
	if err != nil {
		return nil, err
	}
	c, err := s.config(ctx)
	if err != nil {
		return nil, err
	}
	out := &leadsv1.ListCustomFieldsResponse{}
	for _, d := range c.SortedCustomFields(obj) {
		out.Fields = append(out.Fields, protomap.CustomFieldToProto(obj, d))
	}
	return out, nil
}

func (s *Server) DefineCustomField(ctx context.Context, req *leadsv1.DefineCustomFieldRequest) (*leadsv1.DefineCustomFieldResponse, error) {
	t, err := tenant(ctx)
	if err != nil {
		return nil, err
	}
	obj, def, err := protomap.CustomFieldFromProto(req.GetField())
	if err != nil {
		return nil, err
	}
	res, err := s.app.DefineCustomField(ctx, t, obj, def, write(req.GetOptions()))
	if err != nil {
		return nil, err
	}
	return &leadsv1.DefineCustomFieldResponse{Field: protomap.CustomFieldToProto(obj, res.Config.Fields(obj)[def.Name]), Result: result(res.Result)}, nil
}

func (s *Server) DeleteCustomField(ctx context.Context, req *leadsv1.DeleteCustomFieldRequest) (*leadsv1.DeleteCustomFieldResponse, error) {
	t, err := tenant(ctx)
	if err != nil {
		return nil, err
	}
	obj, err := protomap.CustomFieldObjectFromProto(req.GetObject(), "object")
	if err != nil {
		return nil, err
	}
	res, err := s.app.DeleteCustomField(ctx, t, obj, req.GetName(), write(req.GetOptions()))
	if err != nil {
		return nil, err
	}
	return &leadsv1.DeleteCustomFieldResponse{Result: result(res.Result)}, nil
}

func (s *Server) GetLeadSettings(ctx context.Context, _ *leadsv1.GetLeadSettingsRequest) (*leadsv1.GetLeadSettingsResponse, error) {
	c, err := s.config(ctx)
	if err != nil {
		return nil, err
	}
	return &leadsv1.GetLeadSettingsResponse{Settings: protomap.SettingsToProto(c.Settings)}, nil
}

func (s *Server) UpdateLeadSettings(ctx context.Context, req *leadsv1.UpdateLeadSettingsRequest) (*leadsv1.UpdateLeadSettingsResponse, error) {
	t, err := tenant(ctx)
	if err != nil {
		return nil, err
	}
	st, err := protomap.SettingsFromProto(req.GetSettings())
	if err != nil {
		return nil, err
	}
	res, err := s.app.UpdateSettings(ctx, t, st, write(req.GetOptions()))
	if err != nil {
		return nil, err
	}
	return &leadsv1.UpdateLeadSettingsResponse{Settings: protomap.SettingsToProto(res.Config.Settings), Result: result(res.Result)}, nil
}
