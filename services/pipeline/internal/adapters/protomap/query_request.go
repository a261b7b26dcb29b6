package protomap

import (
	"fmt"

	"github.com/evcrm/evcrm/libs/apperr"
	commonv1 "github.com/evcrm/evcrm/libs/gen/crm/common/v1"
	pipelinev1 "github.com/evcrm/evcrm/libs/gen/crm/pipeline/v1"
	"github.com/evcrm/evcrm/libs/money"
	"github.com/evcrm/evcrm/libs/money/moneypb"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/civil"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/forecast"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/input"
)

// Queries have no domain decision behind them, so their mappers check everything a read model
// needs to trust: enum values (UNSPECIFIED does not filter anything and is refused in a list),
// dates, ranges, amounts and page sizes. Field paths are the request's ("close_date_to",
// "forecast_categories[1]", "min_amount").

// OpportunityFilterFromProto validates a ListOpportunities request: declared, specified
// forecast categories and statuses; dates as YYYY-MM-DD with close_date_from ≤ close_date_to;
// amount bounds with an ISO 4217 currency, the same one for both, min ≤ max; page_size 0
// (DefaultPageSize) or 1…MaxPageSize. The tag is normalised to its stored form.
func OpportunityFilterFromProto(req *pipelinev1.ListOpportunitiesRequest) (OpportunityFilter, error) {
	var v apperr.Violations
	f := OpportunityFilter{
		PipelineIDs: cloneOrNil(req.GetPipelineIds()),
		StageIDs:    cloneOrNil(req.GetStageIds()),
		OwnerIDs:    cloneOrNil(req.GetOwnerIds()),
		AccountIDs:  cloneOrNil(req.GetAccountIds()),
		Categories:  filterEnums(categories, req.GetForecastCategories(), "forecast_categories", &v),
		Statuses:    filterEnums(statuses, req.GetStatuses(), "statuses", &v),
		CloseFrom:   requestDate(req.GetCloseDateFrom(), "close_date_from", &v),
		CloseTo:     requestDate(req.GetCloseDateTo(), "close_date_to", &v),
		Tag:         input.NormalizeTag(req.GetTag()),
		CampaignID:  req.GetCampaignId(),
		Desc:        req.GetDescending(),
		PageSize:    pageSize(req.GetPageSize(), DefaultPageSize, &v),
		PageToken:   req.GetPageToken(),
		Read:        ReadFromProto(req.GetRead()),
	}
	checkDateRange(f.CloseFrom, f.CloseTo, "close_date_to", &v)
	f.AmountMin = amountBound(req.GetMinAmount(), "min_amount", &v)
	f.AmountMax = amountBound(req.GetMaxAmount(), "max_amount", &v)
	if f.AmountMin != nil && f.AmountMax != nil {
		switch c, err := f.AmountMin.Cmp(*f.AmountMax); {
		case err != nil:
			v.Add("max_amount", "must be in %s, the currency of min_amount", f.AmountMin.Currency)
		case c > 0:
			v.Add("max_amount", "must not be less than min_amount")
		}
	}
	sort, err := OpportunitySortFromProto(req.GetOrderBy(), "order_by")
	addErr(&v, err)
	f.Sort = sort
	if err := v.Err("invalid opportunity query"); err != nil {
		return OpportunityFilter{}, err
	}
	return f, nil
}

// ContractFilterFromProto validates a ListContracts request: declared, specified statuses;
// renewal dates as YYYY-MM-DD with renewal_date_from ≤ renewal_date_to; page_size 0
// (DefaultPageSize) or 1…MaxPageSize.
func ContractFilterFromProto(req *pipelinev1.ListContractsRequest) (ContractFilter, error) {
	var v apperr.Violations
	f := ContractFilter{
		Statuses:      filterEnums(contractStatuses, req.GetStatuses(), "statuses", &v),
		AccountIDs:    cloneOrNil(req.GetAccountIds()),
		OwnerIDs:      cloneOrNil(req.GetOwnerIds()),
		RenewalFrom:   requestDate(req.GetRenewalDateFrom(), "renewal_date_from", &v),
		RenewalTo:     requestDate(req.GetRenewalDateTo(), "renewal_date_to", &v),
		OpportunityID: req.GetOpportunityId(),
		Desc:          req.GetDescending(),
		PageSize:      pageSize(req.GetPageSize(), DefaultPageSize, &v),
		PageToken:     req.GetPageToken(),
		Read:          ReadFromProto(req.GetRead()),
	}
	checkDateRange(f.RenewalFrom, f.RenewalTo, "renewal_date_to", &v)
	sort, err := ContractSortFromProto(req.GetOrderBy(), "order_by")
	addErr(&v, err)
	f.Sort = sort
	if err := v.Err("invalid contract query"); err != nil {
		return ContractFilter{}, err
	}
	return f, nil
}

// PipelineFilterFromProto validates a ListPipelines request: page_size 0
// (DefaultPipelinePageSize) or 1…MaxPageSize.
func PipelineFilterFromProto(req *pipelinev1.ListPipelinesRequest) (PipelineFilter, error) {
	var v apperr.Violations
	f := PipelineFilter{IncludeArchived: req.GetIncludeArchived(),
		PageSize: pageSize(req.GetPageSize(), DefaultPipelinePageSize, &v), PageToken: req.GetPageToken(),
		Read: ReadFromProto(req.GetRead())}
	if err := v.Err("invalid pipeline query"); err != nil {
		return PipelineFilter{}, err
	}
	return f, nil
}

// ForecastRequestFromProto validates a GetForecast request: a declared period (UNSPECIFIED is
// MONTH); dates as YYYY-MM-DD with close_date_from ≤ close_date_to (either may be empty:
// unbounded); declared, specified forecast categories; a valid as_of timestamp.
func ForecastRequestFromProto(req *pipelinev1.GetForecastRequest) (ForecastRequest, error) {
	var v apperr.Violations
	r := ForecastRequest{
		Period:          periods.request(req.GetPeriod(), "period", &v),
		CloseFrom:       requestDate(req.GetCloseDateFrom(), "close_date_from", &v),
		CloseTo:         requestDate(req.GetCloseDateTo(), "close_date_to", &v),
		OwnerIDs:        cloneOrNil(req.GetOwnerIds()),
		PipelineIDs:     cloneOrNil(req.GetPipelineIds()),
		Categories:      filterEnums(categories, req.GetForecastCategories(), "forecast_categories", &v),
		GroupByOwner:    req.GetGroupByOwner(),
		GroupByCategory: req.GetGroupByForecastCategory(),
		Read:            ReadFromProto(req.GetRead()),
	}
	if r.Period == forecast.PeriodUnspecified {
		r.Period = forecast.PeriodMonth
	}
	checkDateRange(r.CloseFrom, r.CloseTo, "close_date_to", &v)
	if asOf := req.GetAsOf(); asOf != nil {
		if err := asOf.CheckValid(); err != nil {
			v.Add("as_of", "is not a valid timestamp")
		} else {
			r.AsOf = asOf.AsTime()
		}
	}
	if err := v.Err("invalid forecast request"); err != nil {
		return ForecastRequest{}, err
	}
	return r, nil
}

// filterEnums maps a list filter of enum values; UNSPECIFIED and undeclared values are
// violations ("<field>[i]"). An empty list is nil (no filter).
func filterEnums[D comparable, P protoEnum](t enumTable[D, P], ps []P, field string, v *apperr.Violations) []D {
	var out []D
	for i, p := range ps {
		at := fmt.Sprintf("%s[%d]", field, i)
		if p == 0 {
			v.Add(at, "must not be %s", p.Descriptor().Values().ByNumber(0).Name())
			continue
		}
		out = append(out, t.request(p, at, v))
	}
	return out
}

// pageSize maps a requested page size: 0 is def, 1…MaxPageSize is taken, anything else is a
// violation.
func pageSize(n int32, def int, v *apperr.Violations) int {
	switch {
	case n == 0:
		return def
	case n < 0 || n > MaxPageSize:
		v.Add("page_size", "must be between 1 and %d (0: %d)", MaxPageSize, def)
		return def
	}
	return int(n)
}

// checkDateRange adds a violation for toField when both dates are set and to is before from.
func checkDateRange(from, to civil.Date, toField string, v *apperr.Violations) {
	if !from.IsZero() && !to.IsZero() && to.Before(from) {
		v.Add(toField, "must not be before %s", from)
	}
}

// amountBound maps an amount filter: unset is nil; a set one needs a valid currency (an amount
// in no currency matches nothing).
func amountBound(p *commonv1.Money, field string, v *apperr.Violations) *money.Money {
	if p == nil {
		return nil
	}
	n := len(*v)
	m := moneypb.RequestAmount(p, field, v)
	if len(*v) > n {
		return nil
	}
	if !money.ValidCurrency(m.Currency) {
		v.Add(field, "needs an ISO 4217 currency such as EUR: only opportunities in it match")
		return nil
	}
	return &m
}

// addErr appends the field violations of an Invalid error to v.
func addErr(v *apperr.Violations, err error) {
	if e, ok := apperr.As(err); ok {
		*v = append(*v, e.Fields...)
	}
}
