package app

import (
	"context"
	"math"
	"time"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/services/analytics/internal/adapters/chquery"
)

// Money is an amount in micros (10^-6) of a currency.
type Money struct {
	Currency string
	Micros   int64
}

// money rounds a computed amount half away from zero to whole micros.
func money(currency string, micros float64) Money {
	if math.IsNaN(micros) || math.IsInf(micros, 0) {
		micros = 0
	}
	return Money{Currency: currency, Micros: int64(math.Round(micros))}
}

// FunnelQuery asks for the funnel of the leads created in Range.
type FunnelQuery struct {
	Range     Range
	Period    Period
	Breakdown Breakdown
	Filters   Filters
	// ConversionWindow: a step counts only when reached this soon after creation; 0: no limit.
	ConversionWindow time.Duration
}

// FunnelStep is one step of a cohort's funnel.
type FunnelStep struct {
	// Step is "created", "mql", "sal", "sql", "converted" or "won".
	Step  string
	Count int64
	// StepConversion is Count over the previous step's (1 for created, 0 after an empty step);
	// OverallConversion is Count over created.
	StepConversion, OverallConversion float64
	// Median and P90 of the time from the previous step (0 for created).
	Median, P90 time.Duration
}

// FunnelCohort is the funnel of the leads created in one period (and breakdown value).
type FunnelCohort struct {
	PeriodStart time.Time
	Key         string
	Steps       []FunnelStep
}

// Funnel returns the lead funnel by cohort.
func (a *App) Funnel(ctx context.Context, tenant string, q FunnelQuery) ([]FunnelCohort, error) {
	var v apperr.Violations
	s := scope(&v, tenant, q.Range, q.Period, q.Breakdown, q.Filters, funnelRules)
	if q.ConversionWindow < 0 || q.ConversionWindow%time.Second != 0 || q.ConversionWindow > 10*366*24*time.Hour {
		v.Add("conversion_window", "whole seconds, at most 10 years")
	}
	if err := v.Err("invalid funnel query"); err != nil {
		return nil, err
	}
	rows, err := chquery.Funnel(ctx, a.d.ClickHouse, s, q.ConversionWindow)
	if err != nil {
		return nil, err
	}
	out := make([]FunnelCohort, 0, len(rows))
	for _, r := range rows {
		c := FunnelCohort{PeriodStart: r.PeriodStart, Key: r.Key}
		created := int64(r.Created)
		c.Steps = append(c.Steps, FunnelStep{Step: "created", Count: created, StepConversion: 1, OverallConversion: ratio(created, created)})
		prev := created
		for i, name := range chquery.FunnelSteps {
			n := int64(r.Reached[i])
			c.Steps = append(c.Steps, FunnelStep{Step: name, Count: n, StepConversion: ratio(n, prev),
				OverallConversion: ratio(n, created),
				Median:            time.Duration(r.P50[i]) * time.Second, P90: time.Duration(r.P90[i]) * time.Second})
			prev = n
		}
		out = append(out, c)
	}
	return out, nil
}

func ratio(n, d int64) float64 {
	if d == 0 {
		return 0
	}
	return float64(n) / float64(d)
}

// StageQuery asks for stage metrics of the stage entries in Range.
type StageQuery struct {
	Range     Range
	Filters   Filters
	Breakdown Breakdown
}

// StageMetrics are one stage's figures (stage_metrics.sql has the definitions).
type StageMetrics struct {
	PipelineID, StageID, StageName, Key string
	Entered, Advanced, Lost             int64
	Conversion                          float64
	AvgTime, P50Time, P90Time           time.Duration
	// VelocityPerDay is Advanced per day of the query's range (stage velocity).
	VelocityPerDay float64
}

// StageMetrics returns entries, exits and time in stage per stage.
func (a *App) StageMetrics(ctx context.Context, tenant string, q StageQuery) ([]StageMetrics, error) {
	var v apperr.Violations
	s := scope(&v, tenant, q.Range, PeriodUnspecified, q.Breakdown, q.Filters, stageRules)
	if err := v.Err("invalid stage metrics query"); err != nil {
		return nil, err
	}
	rows, err := chquery.StageMetrics(ctx, a.d.ClickHouse, s)
	if err != nil {
		return nil, err
	}
	out := make([]StageMetrics, 0, len(rows))
	days := s.To.Sub(s.From).Hours() / 24
	for _, r := range rows {
		out = append(out, StageMetrics{PipelineID: r.PipelineID, StageID: r.StageID, StageName: r.StageName, Key: r.Key,
			Entered: int64(r.Entered), Advanced: int64(r.Advanced), Lost: int64(r.Lost),
			Conversion: ratio(int64(r.Advanced), int64(r.Entered)), VelocityPerDay: float64(r.Advanced) / days,
			AvgTime: time.Duration(math.Round(r.AvgS)) * time.Second,
			P50Time: time.Duration(r.P50S) * time.Second, P90Time: time.Duration(r.P90S) * time.Second})
	}
	return out, nil
}

// MoneyQuery asks for a grouped money metric (sales velocity, forecast) in one currency.
type MoneyQuery struct {
	Range     Range
	Period    Period
	Breakdown Breakdown
	Filters   Filters
	Currency  string
}

// VelocityRow is one period's (and breakdown value's) sales velocity.
type VelocityRow struct {
	PeriodStart       time.Time
	Key               string
	OpenOpportunities int64
	Won, Lost         int64
	WinRate           float64
	AverageDealSize   Money
	SalesCycleDays    float64
	VelocityPerDay    Money
}

// SalesVelocity returns win rate, deal size, sales cycle and velocity by close period.
func (a *App) SalesVelocity(ctx context.Context, tenant string, q MoneyQuery) ([]VelocityRow, error) {
	var v apperr.Violations
	s := scope(&v, tenant, q.Range, q.Period, q.Breakdown, q.Filters, velocityRules)
	checkCurrency(&v, q.Currency)
	if err := v.Err("invalid sales velocity query"); err != nil {
		return nil, err
	}
	rows, err := chquery.SalesVelocity(ctx, a.d.ClickHouse, s, q.Currency)
	if err != nil {
		return nil, err
	}
	out := make([]VelocityRow, 0, len(rows))
	for _, r := range rows {
		out = append(out, VelocityRow{PeriodStart: r.PeriodStart, Key: r.Key, OpenOpportunities: int64(r.OpenOpportunities),
			Won: int64(r.Won), Lost: int64(r.Lost), WinRate: r.WinRate,
			AverageDealSize: money(q.Currency, r.AvgDealMicros), SalesCycleDays: r.SalesCycleDays,
			VelocityPerDay: money(q.Currency, r.VelocityMicrosPerDay)})
	}
	return out, nil
}

// ForecastRow is one close period's (and breakdown value's) forecast.
type ForecastRow struct {
	PeriodStart       time.Time
	Key               string
	OpenOpportunities int64
	OpenAmount        Money
	WeightedAmount    Money
	ClosedWon         Money
}

// Forecast returns the weighted open pipeline and closed-won by close period.
func (a *App) Forecast(ctx context.Context, tenant string, q MoneyQuery) ([]ForecastRow, error) {
	var v apperr.Violations
	s := scope(&v, tenant, q.Range, q.Period, q.Breakdown, q.Filters, forecastRules)
	checkCurrency(&v, q.Currency)
	if err := v.Err("invalid forecast query"); err != nil {
		return nil, err
	}
	rows, err := chquery.Forecast(ctx, a.d.ClickHouse, s, q.Currency)
	if err != nil {
		return nil, err
	}
	out := make([]ForecastRow, 0, len(rows))
	for _, r := range rows {
		out = append(out, ForecastRow{PeriodStart: r.PeriodStart, Key: r.Key, OpenOpportunities: int64(r.OpenOpportunities),
			OpenAmount: Money{q.Currency, r.OpenMicros}, WeightedAmount: money(q.Currency, r.WeightedMicros),
			ClosedWon: Money{q.Currency, r.ClosedWonMicros}})
	}
	return out, nil
}

// CampaignQuery asks for campaign performance over Range.
type CampaignQuery struct {
	Range Range
	// CampaignIDs: empty for every campaign.
	CampaignIDs []string
	Currency    string
}

// CampaignPerformance are one campaign's figures (campaign_performance.sql has the
// definitions).
type CampaignPerformance struct {
	CampaignID, Name, Channel                            string
	Members, Sent, Opened, Clicked, Responded, Converted int64
	OpenRate, ClickRate, ResponseRate, ConversionRate    float64
	Cost                                                 Money
	Leads                                                int64
	CostPerLead                                          Money
	Opportunities                                        int64
	CostPerOpportunity                                   Money
	InfluencedPipeline, InfluencedWon                    Money
	ROI                                                  float64
	FirstTouchWon, LastTouchWon                          Money
}

// CampaignPerformance returns members, responses, cost, influence, ROI and attribution per
// campaign.
func (a *App) CampaignPerformance(ctx context.Context, tenant string, q CampaignQuery) ([]CampaignPerformance, error) {
	var v apperr.Violations
	checkRange(&v, q.Range)
	checkIDs(&v, "campaign_ids", q.CampaignIDs, maxCampaignIDs)
	checkCurrency(&v, q.Currency)
	if err := v.Err("invalid campaign performance query"); err != nil {
		return nil, err
	}
	s := chquery.Scope{Tenant: tenant, From: q.Range.From, To: q.Range.To, Filters: chquery.Filters{CampaignIDs: q.CampaignIDs}}
	rows, err := chquery.CampaignPerformance(ctx, a.d.ClickHouse, s, q.Currency)
	if err != nil {
		return nil, err
	}
	c := q.Currency
	out := make([]CampaignPerformance, 0, len(rows))
	for _, r := range rows {
		out = append(out, CampaignPerformance{CampaignID: r.CampaignID, Name: r.Name, Channel: r.Channel,
			Members: int64(r.Members), Sent: int64(r.Sent), Opened: int64(r.Opened), Clicked: int64(r.Clicked),
			Responded: int64(r.Responded), Converted: int64(r.Converted),
			OpenRate: r.OpenRate, ClickRate: r.ClickRate, ResponseRate: r.ResponseRate, ConversionRate: r.ConversionRate,
			Cost: Money{c, r.CostMicros}, Leads: int64(r.Leads), CostPerLead: money(c, r.CostPerLeadMicros),
			Opportunities: int64(r.Opportunities), CostPerOpportunity: money(c, r.CostPerOpportunityMicros),
			InfluencedPipeline: Money{c, r.InfluencedPipelineMicros}, InfluencedWon: Money{c, r.InfluencedWonMicros},
			ROI: r.ROI, FirstTouchWon: Money{c, r.FirstTouchWonMicros}, LastTouchWon: Money{c, r.LastTouchWonMicros}})
	}
	return out, nil
}
