package protomap_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	commonv1 "github.com/evcrm/evcrm/libs/gen/crm/common/v1"
	pipelinev1 "github.com/evcrm/evcrm/libs/gen/crm/pipeline/v1"
	"github.com/evcrm/evcrm/libs/money"
	"github.com/evcrm/evcrm/services/pipeline/internal/adapters/protomap"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/civil"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/contract"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/forecast"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/opportunity"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/pipelinecfg"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/pipelinedef"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/quote"
)

// wire sends m through its binary form, as a consumer or a read model would see it.
func wire[M proto.Message](t *testing.T, m M) M {
	t.Helper()
	b, err := proto.Marshal(m)
	require.NoError(t, err)
	out := m.ProtoReflect().New().Interface().(M)
	require.NoError(t, proto.Unmarshal(b, out))
	return out
}

func TestOpportunityRoundTrip(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		o    opportunity.Opportunity
	}{
		{"fully populated", fullOpportunity()},
		{"zero", opportunity.Opportunity{}},
		{"minimal", opportunity.Opportunity{ID: "x", Version: 1, Details: opportunity.Details{Name: "A"},
			Amount: money.Zero("JPY"), Status: opportunity.StatusOpen}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := protomap.OpportunityToProto(tt.o)
			require.NoError(t, err)
			got, err := protomap.OpportunityFromProto(wire(t, p))
			require.NoError(t, err)
			assertSame(t, tt.o, got)
		})
	}
}

func TestOpportunityToProtoSetsEveryField(t *testing.T) {
	t.Parallel()
	p, err := protomap.OpportunityToProto(fullOpportunity())
	require.NoError(t, err)
	assert.Empty(t, unsetFields(p))
	assert.Empty(t, unsetFields(p.GetClose()))
	assert.Equal(t, &commonv1.Money{CurrencyCode: "EUR", Units: 125000, Nanos: 500_000_000}, p.GetAmount())
	assert.Equal(t, "2025-06-30", p.GetExpectedCloseDate())
	h := p.GetStageHistory()
	require.Len(t, h, 3)
	assert.Empty(t, unsetFields(h[1]), "a finished stay has every field")
	assert.Equal(t, 4*day, h[1].GetDuration().AsDuration())
	assert.Nil(t, h[2].GetDuration(), "a record has no now: the current stay has no duration")
}

func TestStageHistoryToProtoRunsTheCurrentStayUpToNow(t *testing.T) {
	t.Parallel()
	h := protomap.StageHistoryToProto(fullOpportunity().StageHistory, at(9*day))
	require.Len(t, h, 3)
	assert.Equal(t, 2*day, h[0].GetDuration().AsDuration())
	assert.Equal(t, 3*day, h[2].GetDuration().AsDuration())
	assert.Nil(t, protomap.StageHistoryToProto(nil, t0))
}

func TestQuoteRoundTrip(t *testing.T) {
	t.Parallel()
	for name, q := range map[string]quote.Quote{"fully populated": fullQuote(), "zero": {}} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p, err := protomap.QuoteToProto("opp-1", q)
			require.NoError(t, err)
			assert.Equal(t, "opp-1", p.GetOpportunityId())
			got, err := protomap.QuoteFromProto(wire(t, p))
			require.NoError(t, err)
			assertSame(t, q, got)
		})
	}
}

func TestQuoteToProtoSetsEveryField(t *testing.T) {
	t.Parallel()
	p, err := protomap.QuoteToProto("opp-1", fullQuote())
	require.NoError(t, err)
	assert.Empty(t, unsetFields(p))
	assert.Empty(t, unsetFields(p.GetLineItems()[0]))
	assert.Empty(t, unsetFields(p.GetLineItems()[1], "sku"), "the other discount kind")
	assert.Equal(t, "12.5", p.GetLineItems()[0].GetDiscountPercent().GetValue())
	assert.Equal(t, &commonv1.Money{CurrencyCode: "EUR", Units: 12, Nanos: 345_678_901}, p.GetLineItems()[0].GetUnitPrice())
	assert.Equal(t, "8.875", p.GetTaxRatePercent().GetValue())

	qs, err := protomap.QuotesToProto("opp-1", []quote.Quote{fullQuote(), fullQuote()})
	require.NoError(t, err)
	assert.Len(t, qs, 2)
}

func TestQuoteToProtoRefusesAnAmountWithoutWireForm(t *testing.T) {
	t.Parallel()
	q := fullQuote()
	q.Total = eur("0.0000000001")
	_, err := protomap.QuoteToProto("", q)
	assert.Error(t, err)
}

func TestContractRoundTrip(t *testing.T) {
	t.Parallel()
	for name, c := range map[string]contract.Contract{"fully populated": fullContract(), "zero": {}} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p, err := protomap.ContractToProto(c)
			require.NoError(t, err)
			got, err := protomap.ContractFromProto(wire(t, p))
			require.NoError(t, err)
			assertSame(t, c, got)
		})
	}
	p, err := protomap.ContractToProto(fullContract())
	require.NoError(t, err)
	assert.Empty(t, unsetFields(p))
	assert.Equal(t, "2025-10-01", p.GetTermStart())
}

func TestPipelineStateToProto(t *testing.T) {
	t.Parallel()
	t.Run("recorded", func(t *testing.T) {
		t.Parallel()
		s := pipelinedef.State{ID: "renewals", Version: 5, Pipeline: fullPipeline(), RetiredStageIDs: []string{"a", "b"}}
		p := protomap.PipelineStateToProto(s)
		assert.Empty(t, unsetFields(p, "created_at", "updated_at"), "the domain has no timestamps")
		assert.Empty(t, unsetFields(p.GetStages()[0]))
		assertSame(t, s, protomap.PipelineStateFromProto(wire(t, p)))
	})
	t.Run("built-in default", func(t *testing.T) {
		t.Parallel()
		p := protomap.PipelineStateToProto(pipelinedef.New(pipelinedef.DefaultID))
		require.NotNil(t, p)
		assert.Zero(t, p.GetVersion())
		assert.Equal(t, pipelinedef.Default(), protomap.PipelineFromProto(p))
		require.Len(t, p.GetStages(), 9)
		assert.Equal(t, &pipelinev1.Stage{Id: "negotiation", Name: "Negotiation/Review", DefaultProbability: 90,
			ForecastCategory: pipelinev1.ForecastCategory_FORECAST_CATEGORY_COMMIT, Kind: pipelinev1.StageKind_STAGE_KIND_OPEN},
			p.GetStages()[6])
		assert.Equal(t, pipelinedef.New(pipelinedef.DefaultID), protomap.PipelineStateFromProto(p))
	})
	t.Run("missing", func(t *testing.T) {
		t.Parallel()
		assert.Nil(t, protomap.PipelineStateToProto(pipelinedef.New("nope")))
	})
}

// Revising the built-in default records PipelineDefined and PipelineRevised; the state folded
// from their decoded form equals the state folded in memory.
func TestPipelineFoldedFromTheLogEqualsTheFoldInMemory(t *testing.T) {
	t.Parallel()
	p := pipelinedef.Default()
	p.Stages = append(p.Stages[:2], p.Stages[3:]...)
	p.Stages[0].Name = "Prospects"
	evs, err := pipelinedef.Revise(pipelinedef.New(pipelinedef.DefaultID), p, t0)
	require.NoError(t, err)
	require.Len(t, evs, 2)
	var codec protomap.PipelineCodec
	mem, fromLog := pipelinedef.New(pipelinedef.DefaultID), pipelinedef.New(pipelinedef.DefaultID)
	for _, e := range evs {
		msg, err := codec.Encode(e)
		require.NoError(t, err)
		got, err := codec.Decode(record(t, msg, codec.OccurredAt(e)))
		require.NoError(t, err)
		mem, fromLog = pipelinedef.Apply(mem, e), pipelinedef.Apply(fromLog, got)
	}
	assert.Equal(t, mem, fromLog)
	assert.Equal(t, []string{"needs_analysis"}, fromLog.RetiredStageIDs)
	assert.Equal(t, mem, protomap.PipelineStateFromProto(wire(t, protomap.PipelineStateToProto(mem))))
}

func TestConfigRoundTrip(t *testing.T) {
	t.Parallel()
	for name, s := range map[string]pipelinecfg.State{"updated": {Version: 3, Config: fullConfig()}, "defaults": pipelinecfg.New()} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, s, protomap.ConfigFromProto(wire(t, protomap.ConfigToProto(s))))
		})
	}
	p := protomap.ConfigToProto(pipelinecfg.State{Version: 3, Config: fullConfig()})
	assert.Empty(t, unsetFields(p))
	assert.Empty(t, unsetFields(p.GetCustomFields()["plan"]))
}

func TestForecastToProto(t *testing.T) {
	t.Parallel()
	snaps := []forecast.Snapshot{
		{OpportunityID: "a", OwnerID: "olga", Status: opportunity.StatusOpen, Amount: eur("1000"), Probability: 25,
			Category: pipelinedef.CategoryPipeline, ExpectedCloseDate: date(2025, time.May, 10)},
		{OpportunityID: "b", OwnerID: "olga", Status: opportunity.StatusOpen, Amount: eur("2000"), Probability: 75,
			Category: pipelinedef.CategoryBestCase, ExpectedCloseDate: date(2025, time.June, 10)},
		{OpportunityID: "c", OwnerID: "ivan", Status: opportunity.StatusOpen, Amount: eur("4000"), Probability: 90,
			Category: pipelinedef.CategoryCommit, ExpectedCloseDate: date(2025, time.June, 20)},
		{OpportunityID: "d", OwnerID: "ivan", Status: opportunity.StatusWon, Amount: eur("8000"), Probability: 100,
			Category: pipelinedef.CategoryClosed, ClosedOn: date(2025, time.April, 2)},
		{OpportunityID: "e", OwnerID: "ivan", Status: opportunity.StatusOpen, Amount: eur("16000"), Probability: 10,
			Category: pipelinedef.CategoryOmitted, ExpectedCloseDate: date(2025, time.April, 5)},
	}
	money := func(units int64) *commonv1.Money { return &commonv1.Money{CurrencyCode: "EUR", Units: units} }
	asOf := at(30 * day)
	t.Run("quarters", func(t *testing.T) {
		t.Parallel()
		f := forecast.Compute(snaps, forecast.Options{Period: forecast.PeriodQuarter})
		p, err := protomap.ForecastToProto(f, forecast.PeriodQuarter, asOf)
		require.NoError(t, err)
		assert.Equal(t, asOf, p.GetAsOf().AsTime())
		require.Len(t, p.GetRows(), 1)
		row := p.GetRows()[0]
		assert.Equal(t, "2025-04-01", row.GetPeriodStart())
		assert.Equal(t, "2025-06-30", row.GetPeriodEnd())
		assert.Equal(t, uint64(5), row.GetCount())
		assert.Empty(t, unsetFields(row, "owner_id", "forecast_category"), "not grouped by owner or category")
		require.Len(t, p.GetTotals(), 1)
		totals := p.GetTotals()[0]
		assert.Empty(t, unsetFields(totals))
		assert.Equal(t, "EUR", totals.GetCurrencyCode())
		assert.Equal(t, money(7000), totals.GetPipeline(), "PIPELINE + BEST_CASE + COMMIT, OMITTED never")
		assert.Equal(t, money(6000), totals.GetBestCase(), "BEST_CASE + COMMIT")
		assert.Equal(t, money(4000), totals.GetCommit())
		assert.Equal(t, money(8000), totals.GetClosedWon())
		assert.Equal(t, money(250+1500+3600), totals.GetWeighted(), "weighted pipeline set")
	})
	t.Run("months by owner and category", func(t *testing.T) {
		t.Parallel()
		f := forecast.Compute(snaps, forecast.Options{Period: forecast.PeriodMonth, ByOwner: true, ByCategory: true})
		p, err := protomap.ForecastToProto(f, forecast.PeriodMonth, time.Time{})
		require.NoError(t, err)
		assert.Nil(t, p.GetAsOf())
		require.Len(t, p.GetRows(), 5)
		feb := p.GetRows()[0]
		assert.Equal(t, []string{"2025-04-01", "2025-04-30", "ivan"}, []string{feb.GetPeriodStart(), feb.GetPeriodEnd(), feb.GetOwnerId()})
		assert.Equal(t, pipelinev1.ForecastCategory_FORECAST_CATEGORY_CLOSED, feb.GetForecastCategory())
		assert.Empty(t, unsetFields(feb))
		assert.Equal(t, "2025-02-28", protomapPeriodEnd(t, date(2025, time.February, 1)))
	})
}

// protomapPeriodEnd is the period_end ForecastToProto gives a one-row monthly forecast
// starting at start.
func protomapPeriodEnd(t *testing.T, start civil.Date) string {
	t.Helper()
	f := forecast.Forecast{Rows: []forecast.Row{{PeriodStart: start, Currency: "EUR", Count: 1}}}
	p, err := protomap.ForecastToProto(f, forecast.PeriodUnspecified, time.Time{})
	require.NoError(t, err)
	return p.GetRows()[0].GetPeriodEnd()
}
