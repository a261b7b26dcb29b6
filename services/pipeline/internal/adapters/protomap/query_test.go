package protomap_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/timestamppb"

	commonv1 "github.com/evcrm/evcrm/libs/gen/crm/common/v1"
	pipelinev1 "github.com/evcrm/evcrm/libs/gen/crm/pipeline/v1"
	"github.com/evcrm/evcrm/services/pipeline/internal/adapters/protomap"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/contract"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/forecast"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/opportunity"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/pipelinedef"
)

func eurProto(units int64) *commonv1.Money { return &commonv1.Money{CurrencyCode: "EUR", Units: units} }

func TestOpportunityFilterFromProto(t *testing.T) {
	t.Parallel()
	t.Run("every filter", func(t *testing.T) {
		t.Parallel()
		got, err := protomap.OpportunityFilterFromProto(&pipelinev1.ListOpportunitiesRequest{
			PipelineIds: []string{"default"}, StageIds: []string{"proposal"}, OwnerIds: []string{"olga"},
			AccountIds: []string{"acc-1"},
			ForecastCategories: []pipelinev1.ForecastCategory{pipelinev1.ForecastCategory_FORECAST_CATEGORY_COMMIT,
				pipelinev1.ForecastCategory_FORECAST_CATEGORY_BEST_CASE},
			Statuses:      []pipelinev1.OpportunityStatus{pipelinev1.OpportunityStatus_OPPORTUNITY_STATUS_OPEN},
			CloseDateFrom: "2025-04-01", CloseDateTo: "2025-04-01", MinAmount: eurProto(100), MaxAmount: eurProto(100),
			Tag: "  Big   Deal ", CampaignId: "camp-1", OrderBy: pipelinev1.OpportunityOrderBy_OPPORTUNITY_ORDER_BY_AMOUNT,
			Descending: true, PageSize: 1000, PageToken: "tok", Read: &commonv1.ReadOptions{MinSequence: 7},
		})
		require.NoError(t, err)
		assertSame(t, protomap.OpportunityFilter{PipelineIDs: []string{"default"}, StageIDs: []string{"proposal"},
			OwnerIDs: []string{"olga"}, AccountIDs: []string{"acc-1"},
			Categories: []pipelinedef.Category{pipelinedef.CategoryCommit, pipelinedef.CategoryBestCase},
			Statuses:   []opportunity.Status{opportunity.StatusOpen},
			CloseFrom:  date(2025, time.April, 1), CloseTo: date(2025, time.April, 1),
			AmountMin: ptr(eur("100")), AmountMax: ptr(eur("100")), Tag: "big deal", CampaignID: "camp-1",
			Sort: protomap.OpportunitySortAmount, Desc: true, PageSize: 1000, PageToken: "tok",
			Read: protomap.Read{MinSequence: 7}}, got)
	})
	t.Run("defaults", func(t *testing.T) {
		t.Parallel()
		got, err := protomap.OpportunityFilterFromProto(&pipelinev1.ListOpportunitiesRequest{})
		require.NoError(t, err)
		assert.Equal(t, protomap.OpportunityFilter{Sort: protomap.OpportunitySortCreatedAt, PageSize: protomap.DefaultPageSize}, got)
	})
}

func TestOpportunityFilterFromProtoViolations(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		req  *pipelinev1.ListOpportunitiesRequest
		want []string
	}{
		{"page size too large", &pipelinev1.ListOpportunitiesRequest{PageSize: 1001}, []string{"page_size"}},
		{"negative page size", &pipelinev1.ListOpportunitiesRequest{PageSize: -1}, []string{"page_size"}},
		{"reversed date range", &pipelinev1.ListOpportunitiesRequest{CloseDateFrom: "2025-05-01", CloseDateTo: "2025-04-30"},
			[]string{"close_date_to"}},
		{"malformed date", &pipelinev1.ListOpportunitiesRequest{CloseDateFrom: "May"}, []string{"close_date_from"}},
		{"reversed amount range", &pipelinev1.ListOpportunitiesRequest{MinAmount: eurProto(10), MaxAmount: eurProto(9)},
			[]string{"max_amount"}},
		{"amounts in two currencies", &pipelinev1.ListOpportunitiesRequest{MinAmount: eurProto(1),
			MaxAmount: &commonv1.Money{CurrencyCode: "USD", Units: 9}}, []string{"max_amount"}},
		{"amount without currency", &pipelinev1.ListOpportunitiesRequest{MinAmount: &commonv1.Money{Units: 1}},
			[]string{"min_amount"}},
		{"malformed amount", &pipelinev1.ListOpportunitiesRequest{MaxAmount: &commonv1.Money{CurrencyCode: "EUR", Units: 1, Nanos: -1}},
			[]string{"max_amount"}},
		{"unspecified in a list", &pipelinev1.ListOpportunitiesRequest{ForecastCategories: []pipelinev1.ForecastCategory{
			pipelinev1.ForecastCategory_FORECAST_CATEGORY_COMMIT, pipelinev1.ForecastCategory_FORECAST_CATEGORY_UNSPECIFIED}},
			[]string{"forecast_categories[1]"}},
		{"unknown enum value", &pipelinev1.ListOpportunitiesRequest{Statuses: []pipelinev1.OpportunityStatus{9},
			OrderBy: 99}, []string{"statuses[0]", "order_by"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := protomap.OpportunityFilterFromProto(tt.req)
			assert.Equal(t, tt.want, violations(t, err))
		})
	}
}

func TestContractFilterFromProto(t *testing.T) {
	t.Parallel()
	got, err := protomap.ContractFilterFromProto(&pipelinev1.ListContractsRequest{
		Statuses: []pipelinev1.ContractStatus{pipelinev1.ContractStatus_CONTRACT_STATUS_ACTIVE}, AccountIds: []string{"a"},
		OwnerIds: []string{"o"}, RenewalDateFrom: "2025-01-01", RenewalDateTo: "2025-03-31", OpportunityId: "opp-1",
		OrderBy: pipelinev1.ContractOrderBy_CONTRACT_ORDER_BY_RENEWAL_DATE, Descending: true, PageSize: 10, PageToken: "t",
		Read: &commonv1.ReadOptions{MinSequence: 3}})
	require.NoError(t, err)
	assert.Equal(t, protomap.ContractFilter{Statuses: []contract.Status{contract.StatusActive}, AccountIDs: []string{"a"},
		OwnerIDs: []string{"o"}, RenewalFrom: date(2025, time.January, 1), RenewalTo: date(2025, time.March, 31),
		OpportunityID: "opp-1", Sort: protomap.ContractSortRenewalDate, Desc: true, PageSize: 10, PageToken: "t",
		Read: protomap.Read{MinSequence: 3}}, got)

	got, err = protomap.ContractFilterFromProto(&pipelinev1.ListContractsRequest{})
	require.NoError(t, err)
	assert.Equal(t, protomap.ContractFilter{PageSize: protomap.DefaultPageSize}, got)

	_, err = protomap.ContractFilterFromProto(&pipelinev1.ListContractsRequest{
		Statuses:        []pipelinev1.ContractStatus{pipelinev1.ContractStatus_CONTRACT_STATUS_UNSPECIFIED, 7},
		RenewalDateFrom: "2025-03-01", RenewalDateTo: "2025-02-01", PageSize: 5000, OrderBy: 4})
	assert.Equal(t, []string{"statuses[0]", "statuses[1]", "page_size", "renewal_date_to", "order_by"}, violations(t, err))
}

func TestPipelineFilterFromProto(t *testing.T) {
	t.Parallel()
	got, err := protomap.PipelineFilterFromProto(&pipelinev1.ListPipelinesRequest{IncludeArchived: true})
	require.NoError(t, err)
	assert.Equal(t, protomap.PipelineFilter{IncludeArchived: true, PageSize: protomap.DefaultPipelinePageSize}, got)
	_, err = protomap.PipelineFilterFromProto(&pipelinev1.ListPipelinesRequest{PageSize: 1001})
	assert.Equal(t, []string{"page_size"}, violations(t, err))
}

func TestForecastRequestFromProto(t *testing.T) {
	t.Parallel()
	t.Run("every field", func(t *testing.T) {
		t.Parallel()
		got, err := protomap.ForecastRequestFromProto(&pipelinev1.GetForecastRequest{
			Period: pipelinev1.ForecastPeriod_FORECAST_PERIOD_QUARTER, CloseDateFrom: "2025-01-01", CloseDateTo: "2025-12-31",
			OwnerIds: []string{"olga"}, PipelineIds: []string{"default"},
			ForecastCategories: []pipelinev1.ForecastCategory{pipelinev1.ForecastCategory_FORECAST_CATEGORY_CLOSED},
			GroupByOwner:       true, GroupByForecastCategory: true, AsOf: timestamppb.New(t0),
			Read: &commonv1.ReadOptions{MinSequence: 1}})
		require.NoError(t, err)
		want := protomap.ForecastRequest{Period: forecast.PeriodQuarter, CloseFrom: date(2025, time.January, 1),
			CloseTo: date(2025, time.December, 31), OwnerIDs: []string{"olga"}, PipelineIDs: []string{"default"},
			Categories: []pipelinedef.Category{pipelinedef.CategoryClosed}, GroupByOwner: true, GroupByCategory: true,
			AsOf: t0, Read: protomap.Read{MinSequence: 1}}
		assert.Equal(t, want, got)
		assert.Equal(t, forecast.Options{Period: forecast.PeriodQuarter, From: want.CloseFrom, To: want.CloseTo,
			ByOwner: true, ByCategory: true, OwnerIDs: []string{"olga"}, PipelineIDs: []string{"default"},
			Categories: []pipelinedef.Category{pipelinedef.CategoryClosed}}, got.Options())
	})
	t.Run("defaults: months, unbounded, now", func(t *testing.T) {
		t.Parallel()
		got, err := protomap.ForecastRequestFromProto(&pipelinev1.GetForecastRequest{})
		require.NoError(t, err)
		assert.Equal(t, protomap.ForecastRequest{Period: forecast.PeriodMonth}, got)
	})
	t.Run("violations", func(t *testing.T) {
		t.Parallel()
		_, err := protomap.ForecastRequestFromProto(&pipelinev1.GetForecastRequest{Period: 3, CloseDateFrom: "2025-02-01",
			CloseDateTo: "2025-01-31", ForecastCategories: []pipelinev1.ForecastCategory{42},
			AsOf: &timestamppb.Timestamp{Seconds: 1, Nanos: 1_000_000_000}})
		assert.Equal(t, []string{"period", "forecast_categories[0]", "close_date_to", "as_of"}, violations(t, err))
	})
}
