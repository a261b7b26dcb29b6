package grpc

import (
	"github.com/shopspring/decimal"

	"github.com/evcrm/evcrm/libs/money"
	"github.com/evcrm/evcrm/services/pipeline/internal/adapters/protomap"
	"github.com/evcrm/evcrm/services/pipeline/internal/adapters/readmodel"
	"github.com/evcrm/evcrm/services/pipeline/internal/app"
)

// The request mappers (protomap) validate what the wire carries; the read model's filters are
// their plain counterparts.

var opportunitySorts = map[protomap.OpportunitySort]readmodel.OpportunitySort{
	protomap.OpportunitySortCreatedAt:         readmodel.SortCreated,
	protomap.OpportunitySortUpdatedAt:         readmodel.SortUpdated,
	protomap.OpportunitySortExpectedCloseDate: readmodel.SortCloseDate,
	protomap.OpportunitySortAmount:            readmodel.SortAmount,
}

func opportunityFilter(f protomap.OpportunityFilter) app.OpportunityFilter {
	out := app.OpportunityFilter{
		PipelineIDs: f.PipelineIDs, StageIDs: f.StageIDs, OwnerIDs: f.OwnerIDs, AccountIDs: f.AccountIDs,
		Categories: f.Categories, Statuses: f.Statuses, CloseFrom: f.CloseFrom, CloseTo: f.CloseTo,
		Tag: f.Tag, CampaignID: f.CampaignID, Sort: opportunitySorts[f.Sort], Desc: f.Desc,
		PageSize: f.PageSize, PageToken: f.PageToken,
	}
	amount := func(m *money.Money) *decimal.Decimal {
		if m == nil {
			return nil
		}
		out.Currency = m.Currency
		d := m.Amount
		return &d
	}
	out.AmountMin, out.AmountMax = amount(f.AmountMin), amount(f.AmountMax)
	return out
}

var contractSorts = map[protomap.ContractSort]readmodel.ContractSort{
	protomap.ContractSortCreatedAt:   readmodel.ContractSortCreated,
	protomap.ContractSortRenewalDate: readmodel.ContractSortRenewalDate,
	protomap.ContractSortEndDate:     readmodel.ContractSortEndDate,
}

func contractFilter(f protomap.ContractFilter) app.ContractFilter {
	return app.ContractFilter{Statuses: f.Statuses, AccountIDs: f.AccountIDs, OwnerIDs: f.OwnerIDs, OpportunityID: f.OpportunityID,
		RenewalFrom: f.RenewalFrom, RenewalTo: f.RenewalTo, Sort: contractSorts[f.Sort], Desc: f.Desc,
		PageSize: f.PageSize, PageToken: f.PageToken}
}

func forecastQuery(r protomap.ForecastRequest) app.ForecastQuery {
	return app.ForecastQuery{Period: r.Period, CloseFrom: r.CloseFrom, CloseTo: r.CloseTo, OwnerIDs: r.OwnerIDs,
		PipelineIDs: r.PipelineIDs, Categories: r.Categories, GroupByOwner: r.GroupByOwner,
		GroupByCategory: r.GroupByCategory, AsOf: r.AsOf}
}
