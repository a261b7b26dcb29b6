package protomap

import (
	"slices"
	"time"

	"github.com/evcrm/evcrm/libs/money"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/civil"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/contract"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/forecast"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/opportunity"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/pipelinedef"
)

// This file holds the validated queries of the read RPCs as plain Go values — no generated
// types — so the app and the read model can take them without knowing the proto. The
// *FilterFromProto and ForecastRequestFromProto functions (query_request.go) build them; Read
// and Write (options.go) are the options every query and command carries.

// Page sizes of the list RPCs.
const (
	// DefaultPageSize is the page size of ListOpportunities and ListContracts when the request
	// gives none.
	DefaultPageSize = 50
	// DefaultPipelinePageSize is the page size of ListPipelines when the request gives none.
	DefaultPipelinePageSize = 100
	// MaxPageSize bounds every page size.
	MaxPageSize = 1000
)

// OpportunitySort is the sort key of ListOpportunities; ties are broken by id.
type OpportunitySort int

// Sort keys. The zero value is the default, creation time.
const (
	OpportunitySortCreatedAt OpportunitySort = iota
	OpportunitySortUpdatedAt
	OpportunitySortExpectedCloseDate
	// OpportunitySortAmount sorts by currency, then amount within a currency.
	OpportunitySortAmount
)

// OpportunityFilter is a validated ListOpportunities request. Empty lists and zero values do not
// filter; given ones must all match (a list matches any of its values).
type OpportunityFilter struct {
	PipelineIDs []string
	StageIDs    []string
	OwnerIDs    []string
	AccountIDs  []string
	Categories  []pipelinedef.Category
	Statuses    []opportunity.Status
	// CloseFrom and CloseTo bound the expected close date, inclusive; CloseFrom ≤ CloseTo when
	// both are set.
	CloseFrom civil.Date
	CloseTo   civil.Date
	// AmountMin and AmountMax bound the amount, inclusive; only opportunities in their currency
	// match. Both have a valid currency, the same one when both are set, and AmountMin ≤
	// AmountMax.
	AmountMin *money.Money
	AmountMax *money.Money
	// Tag is in stored form (trimmed, lower case, inner space collapsed).
	Tag        string
	CampaignID string
	Sort       OpportunitySort
	// Desc puts the largest or latest first.
	Desc bool
	// PageSize is 1…MaxPageSize (DefaultPageSize when the request gave none).
	PageSize  int
	PageToken string
	Read      Read
}

// ContractSort is the sort key of ListContracts; ties are broken by id.
type ContractSort int

// Sort keys. The zero value is the default, creation time.
const (
	ContractSortCreatedAt ContractSort = iota
	ContractSortRenewalDate
	ContractSortEndDate
)

// ContractFilter is a validated ListContracts request. Empty lists and zero values do not
// filter.
type ContractFilter struct {
	Statuses   []contract.Status
	AccountIDs []string
	OwnerIDs   []string
	// RenewalFrom and RenewalTo bound the renewal date, inclusive; RenewalFrom ≤ RenewalTo when
	// both are set.
	RenewalFrom   civil.Date
	RenewalTo     civil.Date
	OpportunityID string
	Sort          ContractSort
	Desc          bool
	// PageSize is 1…MaxPageSize (DefaultPageSize when the request gave none).
	PageSize  int
	PageToken string
	Read      Read
}

// PipelineFilter is a validated ListPipelines request.
type PipelineFilter struct {
	IncludeArchived bool
	// PageSize is 1…MaxPageSize (DefaultPipelinePageSize when the request gave none).
	PageSize  int
	PageToken string
	Read      Read
}

// ForecastRequest is a validated GetForecast request.
type ForecastRequest struct {
	// Period is PeriodMonth or PeriodQuarter (an unspecified period is PeriodMonth).
	Period forecast.Period
	// CloseFrom and CloseTo bound the counted dates, inclusive; zero is unbounded; CloseFrom ≤
	// CloseTo when both are set.
	CloseFrom       civil.Date
	CloseTo         civil.Date
	OwnerIDs        []string
	PipelineIDs     []string
	Categories      []pipelinedef.Category
	GroupByOwner    bool
	GroupByCategory bool
	// AsOf is the instant of an as-of forecast (as the log knew it then); zero means now.
	AsOf time.Time
	Read Read
}

// Options returns the forecast.Compute options of r (with their own slices).
func (r ForecastRequest) Options() forecast.Options {
	return forecast.Options{Period: r.Period, From: r.CloseFrom, To: r.CloseTo, ByOwner: r.GroupByOwner,
		ByCategory: r.GroupByCategory, OwnerIDs: slices.Clone(r.OwnerIDs), PipelineIDs: slices.Clone(r.PipelineIDs),
		Categories: slices.Clone(r.Categories)}
}
