package chquery

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Periods and Breakdowns are the values the .sql files know; anything else would silently fall
// through to their default branch, so the functions below refuse it.
var (
	Periods    = []string{"day", "week", "month", "quarter", "year"}
	Breakdowns = []string{"", "source", "campaign", "owner", "territory", "pipeline", "forecast_category"}
)

// Filters narrow a metric; an empty list does not filter.
type Filters struct {
	Sources, CampaignIDs, OwnerIDs, TerritoryIDs, PipelineIDs []string
}

// Scope is what every grouped metric takes: the tenant (from the caller's credentials, never
// from the request), the range [From, To), the period and breakdown names, and the filters.
type Scope struct {
	Tenant    string
	From, To  time.Time
	Period    string
	Breakdown string
	Filters   Filters
}

// Params are the query parameters of the scope, as every metric .sql file names them (pgquery
// binds the same values in PostgreSQL). An unknown period or breakdown is an error.
func (s Scope) Params() (Params, error) {
	if s.Tenant == "" {
		return nil, fmt.Errorf("chquery: no tenant")
	}
	period := s.Period
	if period == "" {
		period = "month"
	}
	if !slices.Contains(Periods, period) {
		return nil, fmt.Errorf("chquery: unknown period %q", s.Period)
	}
	if !slices.Contains(Breakdowns, s.Breakdown) {
		return nil, fmt.Errorf("chquery: unknown breakdown %q", s.Breakdown)
	}
	list := func(v []string) []string {
		if v == nil {
			return []string{}
		}
		return v
	}
	return Params{
		"tenant":        s.Tenant,
		"from":          s.From.UTC(),
		"to":            s.To.UTC(),
		"from_date":     dayOnOrAfter(s.From),
		"to_date":       dayOnOrAfter(s.To),
		"period":        period,
		"breakdown":     s.Breakdown,
		"sources":       list(s.Filters.Sources),
		"campaign_ids":  list(s.Filters.CampaignIDs),
		"owner_ids":     list(s.Filters.OwnerIDs),
		"territory_ids": list(s.Filters.TerritoryIDs),
		"pipeline_ids":  list(s.Filters.PipelineIDs),
	}, nil
}

// dayOnOrAfter is the first UTC day whose midnight is at or after t: a date d is in [from, to)
// exactly when dayOnOrAfter(from) <= d < dayOnOrAfter(to).
func dayOnOrAfter(t time.Time) time.Time {
	t = t.UTC()
	d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	if d.Before(t) {
		d = d.AddDate(0, 0, 1)
	}
	return d
}

// Funnel steps after "created", in order; FunnelRow's arrays are indexed by them.
var FunnelSteps = [5]string{"mql", "sal", "sql", "converted", "won"}

// FunnelRow is one cohort of funnel.sql.
type FunnelRow struct {
	PeriodStart time.Time
	Key         string
	Created     uint64
	// Reached counts the leads that reached each of FunnelSteps.
	Reached [5]uint64
	// P50 and P90 are the seconds from the previous step to each of FunnelSteps.
	P50, P90 [5]int64
}

// ScanDest is where a funnel.sql row scans into, in its column order (period, key, created,
// reached per step, then p50 and p90 per step): the ClickHouse and the PostgreSQL version of
// the query return the same columns.
func (f *FunnelRow) ScanDest() []any {
	dest := []any{&f.PeriodStart, &f.Key, &f.Created}
	for i := range f.Reached {
		dest = append(dest, &f.Reached[i])
	}
	for i := range f.P50 {
		dest = append(dest, &f.P50[i], &f.P90[i])
	}
	return dest
}

// Funnel runs funnel.sql; window is the conversion window (0: none).
func Funnel(ctx context.Context, q Querier, s Scope, window time.Duration) ([]FunnelRow, error) {
	p, err := s.Params()
	if err != nil {
		return nil, err
	}
	p["window_s"] = int64(window / time.Second)
	if err := snapshotParams(ctx, q, "leads", "", p); err != nil {
		return nil, err
	}
	var out []FunnelRow
	err = run(ctx, q, "funnel.sql", p, func(r driver.Rows) error {
		var f FunnelRow
		if err := r.Scan(f.ScanDest()...); err != nil {
			return err
		}
		f.PeriodStart = f.PeriodStart.UTC()
		out = append(out, f)
		return nil
	})
	return out, err
}

// StageRow is one stage of stage_metrics.sql.
type StageRow struct {
	PipelineID, StageID, StageName, Key string
	Entered, Advanced, Lost             uint64
	// Seconds in the stage of the exits: average, p50, p90.
	AvgS float64
	P50S int64
	P90S int64
}

// StageMetrics runs stage_metrics.sql (Scope.Period is not used).
func StageMetrics(ctx context.Context, q Querier, s Scope) ([]StageRow, error) {
	p, err := s.Params()
	if err != nil {
		return nil, err
	}
	var out []StageRow
	err = run(ctx, q, "stage_metrics.sql", p, func(r driver.Rows) error {
		var x StageRow
		if err := r.Scan(&x.PipelineID, &x.StageID, &x.StageName, &x.Key, &x.Entered, &x.Advanced, &x.Lost,
			&x.AvgS, &x.P50S, &x.P90S); err != nil {
			return err
		}
		out = append(out, x)
		return nil
	})
	return out, err
}

// VelocityRow is one row of sales_velocity.sql; amounts are micros of the requested currency.
type VelocityRow struct {
	PeriodStart          time.Time
	Key                  string
	OpenOpportunities    uint64
	Won, Lost            uint64
	WinRate              float64
	AvgDealMicros        float64
	SalesCycleDays       float64
	VelocityMicrosPerDay float64
}

// SalesVelocity runs sales_velocity.sql.
func SalesVelocity(ctx context.Context, q Querier, s Scope, currency string) ([]VelocityRow, error) {
	p, err := s.Params()
	if err != nil {
		return nil, err
	}
	p["currency"] = currency
	if err := snapshotParams(ctx, q, "opportunities", "", p); err != nil {
		return nil, err
	}
	var out []VelocityRow
	err = run(ctx, q, "sales_velocity.sql", p, func(r driver.Rows) error {
		var x VelocityRow
		if err := r.Scan(&x.PeriodStart, &x.Key, &x.OpenOpportunities, &x.Won, &x.Lost, &x.WinRate,
			&x.AvgDealMicros, &x.SalesCycleDays, &x.VelocityMicrosPerDay); err != nil {
			return err
		}
		x.PeriodStart = x.PeriodStart.UTC()
		out = append(out, x)
		return nil
	})
	return out, err
}

// ForecastRow is one row of forecast.sql; amounts are micros of the requested currency.
type ForecastRow struct {
	PeriodStart       time.Time
	Key               string
	OpenOpportunities uint64
	OpenMicros        int64
	WeightedMicros    float64
	ClosedWonMicros   int64
}

// Forecast runs forecast.sql.
func Forecast(ctx context.Context, q Querier, s Scope, currency string) ([]ForecastRow, error) {
	p, err := s.Params()
	if err != nil {
		return nil, err
	}
	p["currency"] = currency
	if err := snapshotParams(ctx, q, "opportunities", "", p); err != nil {
		return nil, err
	}
	var out []ForecastRow
	err = run(ctx, q, "forecast.sql", p, func(r driver.Rows) error {
		var x ForecastRow
		if err := r.Scan(&x.PeriodStart, &x.Key, &x.OpenOpportunities, &x.OpenMicros, &x.WeightedMicros,
			&x.ClosedWonMicros); err != nil {
			return err
		}
		x.PeriodStart = x.PeriodStart.UTC()
		out = append(out, x)
		return nil
	})
	return out, err
}

// CampaignRow is one campaign of campaign_performance.sql; amounts are micros of the requested
// currency.
type CampaignRow struct {
	CampaignID, Name, Channel                            string
	Members, Sent, Opened, Clicked, Responded, Converted uint64
	OpenRate, ClickRate, ResponseRate, ConversionRate    float64
	CostMicros                                           int64
	Leads                                                uint64
	CostPerLeadMicros                                    float64
	Opportunities                                        uint64
	CostPerOpportunityMicros                             float64
	InfluencedPipelineMicros, InfluencedWonMicros        int64
	ROI                                                  float64
	FirstTouchWonMicros, LastTouchWonMicros              int64
}

// CampaignPerformance runs campaign_performance.sql for the campaigns in s.Filters.CampaignIDs
// (all when empty).
func CampaignPerformance(ctx context.Context, q Querier, s Scope, currency string) ([]CampaignRow, error) {
	p, err := s.Params()
	if err != nil {
		return nil, err
	}
	p["currency"] = currency
	if err := snapshotParams(ctx, q, "leads", "lead_", p); err != nil {
		return nil, err
	}
	if err := snapshotParams(ctx, q, "opportunities", "opportunity_", p); err != nil {
		return nil, err
	}
	var out []CampaignRow
	err = run(ctx, q, "campaign_performance.sql", p, func(r driver.Rows) error {
		var x CampaignRow
		if err := r.Scan(&x.CampaignID, &x.Name, &x.Channel, &x.Members, &x.Sent, &x.Opened, &x.Clicked,
			&x.Responded, &x.Converted, &x.OpenRate, &x.ClickRate, &x.ResponseRate, &x.ConversionRate,
			&x.CostMicros, &x.Leads, &x.CostPerLeadMicros, &x.Opportunities, &x.CostPerOpportunityMicros,
			&x.InfluencedPipelineMicros, &x.InfluencedWonMicros, &x.ROI, &x.FirstTouchWonMicros,
			&x.LastTouchWonMicros); err != nil {
			return err
		}
		out = append(out, x)
		return nil
	})
	return out, err
}

// Cursor is a timeline position: the (at, stream, seq) of the last event served.
type Cursor struct {
	At     time.Time
	Stream string
	Seq    uint64
}

// TimelineEvent is one row of timeline.sql.
type TimelineEvent struct {
	At                                             time.Time
	Stream                                         string
	Seq                                            uint64
	EventID, EventType, AggregateType, AggregateID string
	Actor, PayloadJSON                             string
}

// Timeline runs timeline.sql: up to limit events of the account, after the cursor when one is
// given.
func Timeline(ctx context.Context, q Querier, tenant, accountID string, after *Cursor, limit int) ([]TimelineEvent, error) {
	if tenant == "" {
		return nil, fmt.Errorf("chquery: no tenant")
	}
	p := Params{"tenant": tenant, "account_id": accountID, "limit": uint64(limit),
		"has_cursor": uint64(0), "cursor_at": time.Unix(0, 0).UTC(), "cursor_stream": "", "cursor_seq": uint64(0)}
	if after != nil {
		p["has_cursor"], p["cursor_at"], p["cursor_stream"], p["cursor_seq"] = uint64(1), after.At.UTC(), after.Stream, after.Seq
	}
	var out []TimelineEvent
	err := run(ctx, q, "timeline.sql", p, func(r driver.Rows) error {
		var e TimelineEvent
		if err := r.Scan(&e.At, &e.Stream, &e.Seq, &e.EventID, &e.EventType, &e.AggregateType, &e.AggregateID,
			&e.Actor, &e.PayloadJSON); err != nil {
			return err
		}
		e.At = e.At.UTC()
		out = append(out, e)
		return nil
	})
	return out, err
}
