package app

import (
	"fmt"
	"regexp"
	"slices"
	"time"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/services/analytics/internal/adapters/chquery"
)

// Period is the granularity a metric is grouped by; the values are crm.analytics.v1.Period's.
type Period int

// Periods; the zero value means a month, as in the API.
const (
	PeriodUnspecified Period = iota
	PeriodDay
	PeriodWeek
	PeriodMonth
	PeriodQuarter
	PeriodYear
)

var periodNames = map[Period]string{PeriodUnspecified: "month", PeriodDay: "day", PeriodWeek: "week",
	PeriodMonth: "month", PeriodQuarter: "quarter", PeriodYear: "year"}

// Breakdown is the dimension a metric is split by; the values are crm.analytics.v1.Breakdown's.
type Breakdown int

// Breakdowns; the zero value is no split.
const (
	BreakdownNone Breakdown = iota
	BreakdownSource
	BreakdownCampaign
	BreakdownOwner
	BreakdownTerritory
	BreakdownPipeline
	BreakdownForecastCategory
)

// breakdownNames are the names the .sql files choose their column by.
var breakdownNames = map[Breakdown]string{BreakdownNone: "", BreakdownSource: "source",
	BreakdownCampaign: "campaign", BreakdownOwner: "owner", BreakdownTerritory: "territory",
	BreakdownPipeline: "pipeline", BreakdownForecastCategory: "forecast_category"}

// Range is [From, To).
type Range struct {
	From, To time.Time
}

// Filters narrow a metric; all given ones must match.
type Filters struct {
	Sources, CampaignIDs, OwnerIDs, TerritoryIDs, PipelineIDs []string
}

// Limits on what a request may ask for.
const (
	maxRange         = 10 // years
	maxFilterValues  = 100
	maxIDLen         = 256
	defaultPageSize  = 50
	maxPageSize      = 1000
	maxCampaignIDs   = 1000
	maxAccountIDLen  = 256
	timelineTokenKey = "timeline"
)

// metricRules say what one metric accepts: which breakdowns and which filters its tables have
// (opportunities carry no territory, leads no pipeline).
type metricRules struct {
	breakdowns   []Breakdown
	territory    bool
	pipeline     bool
	periodMatter bool
}

var (
	funnelRules   = metricRules{[]Breakdown{BreakdownNone, BreakdownSource, BreakdownCampaign, BreakdownOwner, BreakdownTerritory}, true, false, true}
	stageRules    = metricRules{[]Breakdown{BreakdownNone, BreakdownSource, BreakdownCampaign, BreakdownOwner, BreakdownPipeline}, false, true, false}
	velocityRules = metricRules{[]Breakdown{BreakdownNone, BreakdownSource, BreakdownCampaign, BreakdownOwner, BreakdownPipeline}, false, true, true}
	forecastRules = metricRules{[]Breakdown{BreakdownNone, BreakdownSource, BreakdownCampaign, BreakdownOwner, BreakdownPipeline, BreakdownForecastCategory}, false, true, true}
)

// checkRange adds violations for a range that is missing, empty or longer than ten years.
func checkRange(v *apperr.Violations, r Range) {
	switch {
	case r.From.IsZero():
		v.Add("range.from", "required")
	case r.To.IsZero():
		v.Add("range.to", "required")
	case !r.From.Before(r.To):
		v.Add("range.to", "must be after range.from")
	case r.To.After(r.From.AddDate(maxRange, 0, 0)):
		v.Add("range.to", "at most %d years after range.from", maxRange)
	case r.From.Unix() < 0 || r.To.Unix() > 1<<32-1:
		// DateTime holds 1970 to 2106.
		v.Add("range", "must lie between 1970 and 2106")
	}
}

func checkIDs(v *apperr.Violations, field string, ids []string, limit int) {
	if len(ids) > limit {
		v.Add(field, "at most %d values", limit)
		return
	}
	for i, id := range ids {
		if id == "" || len(id) > maxIDLen {
			v.Add(fmt.Sprintf("%s[%d]", field, i), "1 to %d bytes", maxIDLen)
		}
	}
}

// scope validates the common parameters of a grouped metric and returns the query's scope.
func scope(v *apperr.Violations, tenant string, r Range, p Period, b Breakdown, f Filters, rules metricRules) chquery.Scope {
	checkRange(v, r)
	period, ok := periodNames[p]
	if !ok {
		v.Add("period", "unknown period %d", int(p))
	}
	name, ok := breakdownNames[b]
	if !ok || !slices.Contains(rules.breakdowns, b) {
		v.Add("breakdown", "not available for this metric")
	}
	checkIDs(v, "filters.sources", f.Sources, maxFilterValues)
	checkIDs(v, "filters.campaign_ids", f.CampaignIDs, maxFilterValues)
	checkIDs(v, "filters.owner_ids", f.OwnerIDs, maxFilterValues)
	checkIDs(v, "filters.territory_ids", f.TerritoryIDs, maxFilterValues)
	checkIDs(v, "filters.pipeline_ids", f.PipelineIDs, maxFilterValues)
	if !rules.territory && len(f.TerritoryIDs) > 0 {
		v.Add("filters.territory_ids", "not available for this metric")
	}
	if !rules.pipeline && len(f.PipelineIDs) > 0 {
		v.Add("filters.pipeline_ids", "not available for this metric")
	}
	return chquery.Scope{Tenant: tenant, From: r.From, To: r.To, Period: period, Breakdown: name,
		Filters: chquery.Filters{Sources: f.Sources, CampaignIDs: f.CampaignIDs, OwnerIDs: f.OwnerIDs,
			TerritoryIDs: f.TerritoryIDs, PipelineIDs: f.PipelineIDs}}
}

var currencyRE = regexp.MustCompile(`^[A-Z]{3}$`)

func checkCurrency(v *apperr.Violations, c string) {
	if !currencyRE.MatchString(c) {
		v.Add("currency", "required: an ISO 4217 code such as EUR")
	}
}
