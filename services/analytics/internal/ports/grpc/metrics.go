package grpc

import (
	"context"

	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/evcrm/evcrm/libs/apperr"
	analyticsv1 "github.com/evcrm/evcrm/libs/gen/crm/analytics/v1"
	commonv1 "github.com/evcrm/evcrm/libs/gen/crm/common/v1"
	"github.com/evcrm/evcrm/libs/protoconv"
	"github.com/evcrm/evcrm/libs/reqctx"
	"github.com/evcrm/evcrm/services/analytics/internal/app"
)

// tenantOf is the caller's tenant from its credentials (the auth interceptor puts it in the
// context); requests carry none, so no caller can read another tenant's figures.
func tenantOf(ctx context.Context) (string, error) {
	t, ok := reqctx.Tenant(ctx)
	if !ok {
		return "", apperr.New(apperr.Unauthenticated, "no tenant")
	}
	return t, nil
}

func rangeOf(r *analyticsv1.TimeRange) app.Range {
	return app.Range{From: protoconv.Time(r.GetFrom()), To: protoconv.Time(r.GetTo())}
}

func filtersOf(f *analyticsv1.Filters) app.Filters {
	return app.Filters{Sources: f.GetSources(), CampaignIDs: f.GetCampaignIds(), OwnerIDs: f.GetOwnerIds(),
		TerritoryIDs: f.GetTerritoryIds(), PipelineIDs: f.GetPipelineIds()}
}

// moneyOf splits micros into units and nanos; Go's / and % truncate toward zero, so both parts
// carry the amount's sign as Money requires.
func moneyOf(m app.Money) *commonv1.Money {
	return &commonv1.Money{CurrencyCode: m.Currency, Units: m.Micros / 1_000_000, Nanos: int32(m.Micros%1_000_000) * 1000}
}

// GetFunnel implements analyticsv1.AnalyticsServiceServer.
func (s *Server) GetFunnel(ctx context.Context, req *analyticsv1.GetFunnelRequest) (*analyticsv1.GetFunnelResponse, error) {
	tenant, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	if w := req.GetConversionWindow(); w != nil {
		if err := w.CheckValid(); err != nil {
			return nil, apperr.InvalidFields("invalid funnel query",
				apperr.FieldViolation{Field: "conversion_window", Description: "not a valid duration"})
		}
	}
	cohorts, err := s.app.Funnel(ctx, tenant, app.FunnelQuery{Range: rangeOf(req.GetRange()), Period: app.Period(req.GetPeriod()),
		Breakdown: app.Breakdown(req.GetBreakdown()), Filters: filtersOf(req.GetFilters()),
		ConversionWindow: req.GetConversionWindow().AsDuration()})
	if err != nil {
		return nil, err
	}
	out := &analyticsv1.GetFunnelResponse{Cohorts: make([]*analyticsv1.FunnelCohort, 0, len(cohorts))}
	for _, c := range cohorts {
		pc := &analyticsv1.FunnelCohort{PeriodStart: protoconv.Timestamp(c.PeriodStart), Key: c.Key}
		for _, st := range c.Steps {
			pc.Steps = append(pc.Steps, &analyticsv1.FunnelStep{Step: st.Step, Count: st.Count,
				StepConversion: st.StepConversion, OverallConversion: st.OverallConversion,
				MedianTime: durationpb.New(st.Median), P90Time: durationpb.New(st.P90)})
		}
		out.Cohorts = append(out.Cohorts, pc)
	}
	return out, nil
}

// GetStageMetrics implements analyticsv1.AnalyticsServiceServer.
func (s *Server) GetStageMetrics(ctx context.Context, req *analyticsv1.GetStageMetricsRequest) (*analyticsv1.GetStageMetricsResponse, error) {
	tenant, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	stages, err := s.app.StageMetrics(ctx, tenant, app.StageQuery{Range: rangeOf(req.GetRange()),
		Filters: filtersOf(req.GetFilters()), Breakdown: app.Breakdown(req.GetBreakdown())})
	if err != nil {
		return nil, err
	}
	out := &analyticsv1.GetStageMetricsResponse{Stages: make([]*analyticsv1.StageMetrics, 0, len(stages))}
	for _, m := range stages {
		out.Stages = append(out.Stages, &analyticsv1.StageMetrics{PipelineId: m.PipelineID, StageId: m.StageID,
			StageName: m.StageName, Key: m.Key, Entered: m.Entered, Advanced: m.Advanced, Lost: m.Lost,
			Conversion: m.Conversion, AvgTime: durationpb.New(m.AvgTime), P50Time: durationpb.New(m.P50Time),
			P90Time: durationpb.New(m.P90Time), VelocityPerDay: m.VelocityPerDay})
	}
	return out, nil
}

// GetSalesVelocity implements analyticsv1.AnalyticsServiceServer.
func (s *Server) GetSalesVelocity(ctx context.Context, req *analyticsv1.GetSalesVelocityRequest) (*analyticsv1.GetSalesVelocityResponse, error) {
	tenant, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := s.app.SalesVelocity(ctx, tenant, app.MoneyQuery{Range: rangeOf(req.GetRange()), Period: app.Period(req.GetPeriod()),
		Breakdown: app.Breakdown(req.GetBreakdown()), Filters: filtersOf(req.GetFilters()), Currency: req.GetCurrency()})
	if err != nil {
		return nil, err
	}
	out := &analyticsv1.GetSalesVelocityResponse{Rows: make([]*analyticsv1.VelocityRow, 0, len(rows))}
	for _, r := range rows {
		out.Rows = append(out.Rows, &analyticsv1.VelocityRow{PeriodStart: protoconv.Timestamp(r.PeriodStart), Key: r.Key,
			OpenOpportunities: r.OpenOpportunities, Won: r.Won, Lost: r.Lost, WinRate: r.WinRate,
			AverageDealSize: moneyOf(r.AverageDealSize), SalesCycleDays: r.SalesCycleDays,
			VelocityPerDay: moneyOf(r.VelocityPerDay)})
	}
	return out, nil
}

// GetForecast implements analyticsv1.AnalyticsServiceServer.
func (s *Server) GetForecast(ctx context.Context, req *analyticsv1.GetForecastRequest) (*analyticsv1.GetForecastResponse, error) {
	tenant, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := s.app.Forecast(ctx, tenant, app.MoneyQuery{Range: rangeOf(req.GetRange()), Period: app.Period(req.GetPeriod()),
		Breakdown: app.Breakdown(req.GetBreakdown()), Filters: filtersOf(req.GetFilters()), Currency: req.GetCurrency()})
	if err != nil {
		return nil, err
	}
	out := &analyticsv1.GetForecastResponse{Rows: make([]*analyticsv1.ForecastRow, 0, len(rows))}
	for _, r := range rows {
		out.Rows = append(out.Rows, &analyticsv1.ForecastRow{PeriodStart: protoconv.Timestamp(r.PeriodStart), Key: r.Key,
			OpenOpportunities: r.OpenOpportunities, OpenAmount: moneyOf(r.OpenAmount),
			WeightedAmount: moneyOf(r.WeightedAmount), ClosedWon: moneyOf(r.ClosedWon)})
	}
	return out, nil
}

// GetCampaignPerformance implements analyticsv1.AnalyticsServiceServer.
func (s *Server) GetCampaignPerformance(ctx context.Context, req *analyticsv1.GetCampaignPerformanceRequest) (*analyticsv1.GetCampaignPerformanceResponse, error) {
	tenant, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := s.app.CampaignPerformance(ctx, tenant, app.CampaignQuery{Range: rangeOf(req.GetRange()),
		CampaignIDs: req.GetCampaignIds(), Currency: req.GetCurrency()})
	if err != nil {
		return nil, err
	}
	out := &analyticsv1.GetCampaignPerformanceResponse{Campaigns: make([]*analyticsv1.CampaignPerformance, 0, len(rows))}
	for _, r := range rows {
		out.Campaigns = append(out.Campaigns, &analyticsv1.CampaignPerformance{CampaignId: r.CampaignID, Name: r.Name,
			Channel: r.Channel, Members: r.Members, Sent: r.Sent, Opened: r.Opened, Clicked: r.Clicked,
			Responded: r.Responded, Converted: r.Converted, OpenRate: r.OpenRate, ClickRate: r.ClickRate,
			ResponseRate: r.ResponseRate, ConversionRate: r.ConversionRate, Cost: moneyOf(r.Cost), Leads: r.Leads,
			CostPerLead: moneyOf(r.CostPerLead), Opportunities: r.Opportunities,
			CostPerOpportunity: moneyOf(r.CostPerOpportunity), InfluencedPipeline: moneyOf(r.InfluencedPipeline),
			InfluencedWon: moneyOf(r.InfluencedWon), Roi: r.ROI, FirstTouchWon: moneyOf(r.FirstTouchWon),
			LastTouchWon: moneyOf(r.LastTouchWon)})
	}
	return out, nil
}

// GetTimeline implements analyticsv1.AnalyticsServiceServer.
func (s *Server) GetTimeline(ctx context.Context, req *analyticsv1.GetTimelineRequest) (*analyticsv1.GetTimelineResponse, error) {
	tenant, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	page, err := s.app.Timeline(ctx, tenant, app.TimelineQuery{AccountID: req.GetAccountId(), PageSize: req.GetPageSize(),
		PageToken: req.GetPageToken()})
	if err != nil {
		return nil, err
	}
	out := &analyticsv1.GetTimelineResponse{NextPageToken: page.NextPageToken,
		Events: make([]*analyticsv1.TimelineEvent, 0, len(page.Events))}
	for _, e := range page.Events {
		out.Events = append(out.Events, &analyticsv1.TimelineEvent{At: protoconv.Timestamp(e.At), Stream: e.Stream,
			Sequence: e.Sequence, EventId: e.EventID, EventType: e.EventType, AggregateType: e.AggregateType,
			AggregateId: e.AggregateID, Actor: e.Actor, PayloadJson: e.PayloadJSON})
	}
	return out, nil
}
