package grpc

import (
	"context"
	"strconv"

	"github.com/evcrm/evcrm/libs/apperr"
	leadsv1 "github.com/evcrm/evcrm/libs/gen/crm/leads/v1"
	"github.com/evcrm/evcrm/services/leads/internal/adapters/protomap"
	"github.com/evcrm/evcrm/services/leads/internal/adapters/readmodel"
	"github.com/evcrm/evcrm/services/leads/internal/app"
	"github.com/evcrm/evcrm/services/leads/internal/domain/lead"
)

var orderBy = map[leadsv1.LeadOrderBy]readmodel.SortField{
	leadsv1.LeadOrderBy_LEAD_ORDER_BY_UNSPECIFIED: readmodel.SortCreatedAt,
	leadsv1.LeadOrderBy_LEAD_ORDER_BY_CREATED_AT:  readmodel.SortCreatedAt,
	leadsv1.LeadOrderBy_LEAD_ORDER_BY_UPDATED_AT:  readmodel.SortUpdatedAt,
	leadsv1.LeadOrderBy_LEAD_ORDER_BY_TOTAL_SCORE: readmodel.SortTotalScore,
	leadsv1.LeadOrderBy_LEAD_ORDER_BY_LAST_NAME:   readmodel.SortLastName,
}

// listQuery maps a ListLeadsRequest; every bad field is one violation.
func listQuery(tenant string, req *leadsv1.ListLeadsRequest) (readmodel.ListQuery, error) {
	var v apperr.Violations
	q := readmodel.ListQuery{Tenant: tenant, Owners: req.GetOwnerIds(), Territories: req.GetTerritoryIds(),
		Tag: lead.NormalizeTag(req.GetTag()), CampaignID: req.GetCampaignId(), PageSize: int(req.GetPageSize()), PageToken: req.GetPageToken()}
	for i, st := range req.GetStatuses() {
		s, err := protomap.StatusFromProto(st, fieldIndex("statuses", i))
		addErr(&v, err)
		q.Statuses = append(q.Statuses, s.String())
	}
	for i, src := range req.GetSources() {
		ls, err := protomap.SourceFromProto(src, fieldIndex("sources", i))
		addErr(&v, err)
		if err == nil && !ls.Valid() {
			v.Add(fieldIndex("sources", i), "must not be LEAD_SOURCE_UNSPECIFIED")
		}
		q.Sources = append(q.Sources, ls.String())
	}
	for i, t := range req.GetTemperatures() {
		if t <= 0 || t > leadsv1.Temperature_TEMPERATURE_HOT {
			v.Add(fieldIndex("temperatures", i), "unknown temperature %d", t)
			continue
		}
		q.Temperatures = append(q.Temperatures, protomap.TemperatureFromProto(t).String())
	}
	if req.MinScore != nil {
		m := int(req.GetMinScore())
		q.MinTotalScore = &m
	}
	if req.MaxScore != nil {
		m := int(req.GetMaxScore())
		q.MaxTotalScore = &m
	}
	if q.MinTotalScore != nil && q.MaxTotalScore != nil && *q.MinTotalScore > *q.MaxTotalScore {
		v.Add("max_score", "must not be below min_score")
	}
	if t := req.GetCreatedAfter(); t != nil {
		q.CreatedFrom = t.AsTime()
	}
	if t := req.GetCreatedBefore(); t != nil {
		q.CreatedTo = t.AsTime()
	}
	if t := req.GetUpdatedAfter(); t != nil {
		q.UpdatedFrom = t.AsTime()
	}
	if t := req.GetUpdatedBefore(); t != nil {
		q.UpdatedTo = t.AsTime()
	}
	sort, ok := orderBy[req.GetOrderBy()]
	if !ok {
		v.Add("order_by", "unknown order %d", req.GetOrderBy())
	}
	q.Sort = sort
	q.Direction = readmodel.Ascending
	if req.GetDescending() {
		q.Direction = readmodel.Descending
	}
	if q.PageSize < 0 || q.PageSize > readmodel.MaxPageSize {
		v.Add("page_size", "must be between 1 and %d (0 for %d)", readmodel.MaxPageSize, readmodel.DefaultPageSize)
	}
	return q, v.Err("invalid list request")
}

func fieldIndex(field string, i int) string {
	return field + "[" + strconv.Itoa(i) + "]"
}

func (s *Server) ListLeads(ctx context.Context, req *leadsv1.ListLeadsRequest) (*leadsv1.ListLeadsResponse, error) {
	t, err := tenant(ctx)
	if err != nil {
		return nil, err
	}
	q, err := listQuery(t, req)
	if err != nil {
		return nil, err
	}
	leads, next, err := s.app.ListLeads(ctx, q, read(req.GetRead()))
	if err != nil {
		return nil, err
	}
	return &leadsv1.ListLeadsResponse{Leads: toProto(leads), NextPageToken: next}, nil
}

func (s *Server) SearchLeads(ctx context.Context, req *leadsv1.SearchLeadsRequest) (*leadsv1.SearchLeadsResponse, error) {
	t, err := tenant(ctx)
	if err != nil {
		return nil, err
	}
	var v apperr.Violations
	if req.GetQuery() == "" {
		v.Add("query", "must not be empty")
	}
	if ps := req.GetPageSize(); ps < 0 || int(ps) > readmodel.MaxPageSize {
		v.Add("page_size", "must be between 1 and %d (0 for %d)", readmodel.MaxPageSize, readmodel.DefaultPageSize)
	}
	if err := v.Err("invalid search"); err != nil {
		return nil, err
	}
	leads, next, err := s.app.SearchLeads(ctx, app.SearchQuery{Tenant: t, Query: req.GetQuery(), PageSize: int(req.GetPageSize()), PageToken: req.GetPageToken()}, read(req.GetRead()))
	if err != nil {
		return nil, err
	}
	return &leadsv1.SearchLeadsResponse{Leads: toProto(leads), NextPageToken: next}, nil
}

func toProto(leads []lead.Lead) []*leadsv1.Lead {
	out := make([]*leadsv1.Lead, len(leads))
	for i, l := range leads {
		out[i] = protomap.LeadToProto(l)
	}
	return out
}
