package protomap_test

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	commonv1 "github.com/evcrm/evcrm/libs/gen/crm/common/v1"
	pipelinev1 "github.com/evcrm/evcrm/libs/gen/crm/pipeline/v1"
	"github.com/evcrm/evcrm/services/pipeline/internal/adapters/protomap"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/contract"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/opportunity"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/pipelinecfg"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/pipelinedef"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/quote"
)

func quoteProto(t *testing.T) *pipelinev1.Quote {
	t.Helper()
	p, err := protomap.QuoteToProto("opp-1", fullQuote())
	require.NoError(t, err)
	return p
}

// wantDraft is the content of fullQuote as a request carries it: input fields only.
func wantDraft(id string) opportunity.QuoteDraft {
	q := fullQuote()
	d := opportunity.QuoteDraft{QuoteID: id, Name: q.Name, TaxRatePercent: q.TaxRatePercent, ValidUntil: q.ValidUntil}
	for _, l := range q.Lines {
		d.Lines = append(d.Lines, quote.Line{LineID: l.LineID, SKU: l.SKU, Description: l.Description, Quantity: l.Quantity,
			UnitPrice: l.UnitPrice, DiscountPercent: l.DiscountPercent, DiscountAmount: l.DiscountAmount})
	}
	return d
}

func TestQuoteRequestsFromProto(t *testing.T) {
	t.Parallel()
	t.Run("create: content only", func(t *testing.T) {
		t.Parallel()
		got, err := protomap.QuoteDraftFromProto(&pipelinev1.CreateQuoteRequest{Quote: quoteProto(t)}, "q-new")
		require.NoError(t, err)
		assertSame(t, wantDraft("q-new"), got)
	})
	t.Run("revise", func(t *testing.T) {
		t.Parallel()
		got, err := protomap.QuoteRevisionFromProto(&pipelinev1.ReviseQuoteRequest{QuoteId: "q-1", Quote: quoteProto(t)})
		require.NoError(t, err)
		assertSame(t, wantDraft("q-1"), got)
	})
	t.Run("unset tax rate is 0", func(t *testing.T) {
		t.Parallel()
		got, err := protomap.QuoteDraftFromProto(&pipelinev1.CreateQuoteRequest{Quote: &pipelinev1.Quote{}}, "q")
		require.NoError(t, err)
		assert.True(t, got.TaxRatePercent.IsZero())
	})
	t.Run("refs", func(t *testing.T) {
		t.Parallel()
		want := opportunity.QuoteRef{QuoteID: "q-1", Version: 3}
		assert.Equal(t, want, protomap.QuoteRefFromProto(&pipelinev1.SendQuoteRequest{QuoteId: "q-1", Version: 3}))
		assert.Equal(t, want, protomap.QuoteRefFromProto(&pipelinev1.AcceptQuoteRequest{QuoteId: "q-1", Version: 3}))
		assert.Equal(t, want, protomap.QuoteRefFromProto(&pipelinev1.RejectQuoteRequest{QuoteId: "q-1", Version: 3}))
		assert.Equal(t, opportunity.QuoteRef{QuoteID: "q-1"}, protomap.QuoteRefFromProto(&pipelinev1.GetQuoteRequest{QuoteId: "q-1"}))
	})
}

func TestQuoteDraftFromProtoViolations(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		mutate func(p *pipelinev1.Quote)
		want   []string
	}{
		{"malformed decimal", func(p *pipelinev1.Quote) { p.LineItems[2].Quantity = &commonv1.Decimal{Value: "1e3"} },
			[]string{"quote.line_items[2].quantity"}},
		{"empty decimal", func(p *pipelinev1.Quote) { p.TaxRatePercent = &commonv1.Decimal{} },
			[]string{"quote.tax_rate_percent"}},
		{"malformed discount percent", func(p *pipelinev1.Quote) {
			p.LineItems[0].Discount = &pipelinev1.QuoteLineItem_DiscountPercent{DiscountPercent: &commonv1.Decimal{Value: ".5"}}
		}, []string{"quote.line_items[0].discount_percent"}},
		{"malformed money", func(p *pipelinev1.Quote) {
			p.LineItems[1].UnitPrice = &commonv1.Money{Units: -1, Nanos: 1}
			p.LineItems[1].Discount = &pipelinev1.QuoteLineItem_DiscountAmount{DiscountAmount: &commonv1.Money{Nanos: 2_000_000_000}}
		}, []string{"quote.line_items[1].unit_price", "quote.line_items[1].discount_amount"}},
		{"malformed date", func(p *pipelinev1.Quote) { p.ValidUntil = "2025-04-31" }, []string{"quote.valid_until"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := quoteProto(t)
			tt.mutate(p)
			_, err := protomap.QuoteDraftFromProto(&pipelinev1.CreateQuoteRequest{Quote: p}, "q")
			assert.Equal(t, tt.want, violations(t, err))
		})
	}
	t.Run("missing quote", func(t *testing.T) {
		t.Parallel()
		_, err := protomap.QuoteRevisionFromProto(&pipelinev1.ReviseQuoteRequest{QuoteId: "q"})
		assert.Equal(t, []string{"quote"}, violations(t, err))
	})
}

func contractProto(t *testing.T) *pipelinev1.Contract {
	t.Helper()
	p, err := protomap.ContractToProto(fullContract())
	require.NoError(t, err)
	return p
}

func TestContractRequestsFromProto(t *testing.T) {
	t.Parallel()
	t.Run("create: settable fields only", func(t *testing.T) {
		t.Parallel()
		got, err := protomap.NewContractFromProto(&pipelinev1.CreateContractRequest{Contract: contractProto(t)}, "ctr-new")
		require.NoError(t, err)
		assertSame(t, contract.NewContract{ID: "ctr-new", OpportunityID: "opp-1", AccountID: "acc-1", Details: fullContractDetails()}, got)
	})
	t.Run("update", func(t *testing.T) {
		t.Parallel()
		p := contractProto(t)
		p.StartDate = "not a date" // not named, so not read
		got, err := protomap.ContractUpdateFromProto(&pipelinev1.UpdateContractRequest{Contract: p,
			UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"end_date", "value", "auto_renew"}}})
		require.NoError(t, err)
		assert.Equal(t, []string{"end_date", "value", "auto_renew"}, got.Paths)
		assertSame(t, fullContractDetails().Value, got.Details.Value)
		assert.Equal(t, fullContractDetails().EndDate, got.Details.EndDate)
	})
	t.Run("terminate", func(t *testing.T) {
		t.Parallel()
		got, err := protomap.TerminationFromProto(&pipelinev1.TerminateContractRequest{Reason: "merger", EffectiveDate: "2025-12-31"})
		require.NoError(t, err)
		assert.Equal(t, contract.Termination{Reason: "merger", EffectiveDate: date(2025, time.December, 31)}, got)
	})
	t.Run("renew", func(t *testing.T) {
		t.Parallel()
		got, err := protomap.RenewalFromProto(&pipelinev1.RenewContractRequest{EndDate: "2027-03-31", RenewalDate: "2027-03-01",
			Value: &commonv1.Money{Units: 130000}})
		require.NoError(t, err)
		want := eur("130000")
		want.Currency = "" // the contract's
		assertSame(t, contract.Renewal{NewEndDate: date(2027, time.March, 31), NewRenewalDate: date(2027, time.March, 1),
			NewValue: &want}, got)
		got, err = protomap.RenewalFromProto(&pipelinev1.RenewContractRequest{EndDate: "2027-03-31"})
		require.NoError(t, err)
		assert.Nil(t, got.NewValue, "unset keeps the current value")
	})
}

func TestContractRequestsFromProtoViolations(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		run  func(p *pipelinev1.Contract) error
		want []string
	}{
		{"create: malformed dates and money", func(p *pipelinev1.Contract) error {
			p.StartDate, p.RenewalDate = "2025-4-1", "soon"
			p.Value = &commonv1.Money{CurrencyCode: "EUR", Units: 1, Nanos: -5}
			_, err := protomap.NewContractFromProto(&pipelinev1.CreateContractRequest{Contract: p}, "k")
			return err
		}, []string{"contract.start_date", "contract.value", "contract.renewal_date"}},
		{"create: missing contract", func(*pipelinev1.Contract) error {
			_, err := protomap.NewContractFromProto(&pipelinev1.CreateContractRequest{}, "k")
			return err
		}, []string{"contract"}},
		{"update: bad mask paths", func(p *pipelinev1.Contract) error {
			_, err := protomap.ContractUpdateFromProto(&pipelinev1.UpdateContractRequest{Contract: p,
				UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"terms", "status", "account_id", "colour"}}})
			return err
		}, []string{"update_mask.paths[1]", "update_mask.paths[2]", "update_mask.paths[3]"}},
		{"update: malformed named date", func(p *pipelinev1.Contract) error {
			p.EndDate, p.StartDate = "2026-02-29", "x"
			_, err := protomap.ContractUpdateFromProto(&pipelinev1.UpdateContractRequest{Contract: p,
				UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"end_date"}}})
			return err
		}, []string{"contract.end_date"}},
		{"terminate: malformed date", func(*pipelinev1.Contract) error {
			_, err := protomap.TerminationFromProto(&pipelinev1.TerminateContractRequest{Reason: "r", EffectiveDate: "31/12/2025"})
			return err
		}, []string{"effective_date"}},
		{"renew: malformed dates and money", func(*pipelinev1.Contract) error {
			_, err := protomap.RenewalFromProto(&pipelinev1.RenewContractRequest{EndDate: "x", RenewalDate: "y",
				Value: &commonv1.Money{Nanos: -1_000_000_000}})
			return err
		}, []string{"end_date", "renewal_date", "value"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, violations(t, tt.run(contractProto(t))))
		})
	}
}

func TestPipelineRequestsFromProto(t *testing.T) {
	t.Parallel()
	def := pipelinedef.Default()
	stages := protomap.PipelineToProto(def).GetStages()
	t.Run("create", func(t *testing.T) {
		t.Parallel()
		p := protomap.PipelineToProto(fullPipeline()) // archived and revision are output only
		got, err := protomap.NewPipelineFromProto(&pipelinev1.CreatePipelineRequest{Pipeline: p})
		require.NoError(t, err)
		assert.Equal(t, pipelinedef.Pipeline{ID: "renewals", Name: "Renewals", Stages: def.Stages}, got)
	})
	t.Run("revise", func(t *testing.T) {
		t.Parallel()
		got, err := protomap.PipelineRevisionFromProto(&pipelinev1.UpdatePipelineRequest{PipelineId: "default", Name: "Sales",
			Stages: stages})
		require.NoError(t, err)
		assert.Equal(t, pipelinedef.Pipeline{ID: "default", Name: "Sales", Stages: def.Stages}, got)
	})
	t.Run("a huge probability stays huge", func(t *testing.T) {
		t.Parallel()
		got, err := protomap.PipelineRevisionFromProto(&pipelinev1.UpdatePipelineRequest{Stages: []*pipelinev1.Stage{
			{Id: "a", DefaultProbability: math.MaxUint32}}})
		require.NoError(t, err)
		assert.Equal(t, int32(math.MaxInt32), got.Stages[0].Probability)
	})
	t.Run("unknown enum values", func(t *testing.T) {
		t.Parallel()
		bad := []*pipelinev1.Stage{stages[0], {Id: "x", Kind: 9, ForecastCategory: 8}}
		_, err := protomap.PipelineRevisionFromProto(&pipelinev1.UpdatePipelineRequest{Stages: bad})
		assert.Equal(t, []string{"stages[1].forecast_category", "stages[1].kind"}, violations(t, err))
		_, err = protomap.NewPipelineFromProto(&pipelinev1.CreatePipelineRequest{Pipeline: &pipelinev1.Pipeline{Stages: bad}})
		assert.Equal(t, []string{"pipeline.stages[1].forecast_category", "pipeline.stages[1].kind"}, violations(t, err))
	})
	t.Run("missing pipeline", func(t *testing.T) {
		t.Parallel()
		_, err := protomap.NewPipelineFromProto(&pipelinev1.CreatePipelineRequest{})
		assert.Equal(t, []string{"pipeline"}, violations(t, err))
	})
}

func TestConfigUpdateFromProto(t *testing.T) {
	t.Parallel()
	p := protomap.ConfigToProto(pipelinecfg.State{Version: 9, Config: fullConfig()})
	got, err := protomap.ConfigUpdateFromProto(&pipelinev1.UpdatePipelineConfigRequest{Config: p})
	require.NoError(t, err)
	assert.Equal(t, fullConfig(), got, "the version is the domain's to assign")

	got, err = protomap.ConfigUpdateFromProto(&pipelinev1.UpdatePipelineConfigRequest{Config: &pipelinev1.PipelineConfig{}})
	require.NoError(t, err)
	assert.Equal(t, pipelinecfg.Config{}, got, "nothing given: the domain refuses the empty currency")

	p.CustomFields["plan"].Type = 12
	_, err = protomap.ConfigUpdateFromProto(&pipelinev1.UpdatePipelineConfigRequest{Config: p})
	assert.Equal(t, []string{"config.custom_fields.plan.type"}, violations(t, err))

	_, err = protomap.ConfigUpdateFromProto(&pipelinev1.UpdatePipelineConfigRequest{})
	assert.Equal(t, []string{"config"}, violations(t, err))

	_, err = protomap.ConfigUpdateFromProto(&pipelinev1.UpdatePipelineConfigRequest{Config: &pipelinev1.PipelineConfig{
		CustomFields: map[string]*pipelinev1.CustomFieldDefinition{"x": nil}}})
	require.NoError(t, err, "a nil definition is an empty one: the domain names what is missing")
}

func TestWriteFromProto(t *testing.T) {
	t.Parallel()
	w, err := protomap.WriteFromProto(&commonv1.WriteOptions{IdempotencyKey: "conv-123", ExpectedVersion: proto.Uint64(0)})
	require.NoError(t, err)
	assert.Equal(t, protomap.Write{IdempotencyKey: "conv-123", ExpectedVersion: ptr(uint64(0))}, w,
		"expected version 0 (must not exist) is kept apart from unset")

	w, err = protomap.WriteFromProto(nil)
	require.NoError(t, err)
	assert.Equal(t, protomap.Write{}, w)

	for _, key := range []string{"with space", strings.Repeat("k", 256), "tab\tkey", "ключ"} {
		_, err := protomap.WriteFromProto(&commonv1.WriteOptions{IdempotencyKey: key})
		assert.Equal(t, []string{"options.idempotency_key"}, violations(t, err), key)
	}
	assert.Equal(t, protomap.Read{MinSequence: 42}, protomap.ReadFromProto(&commonv1.ReadOptions{MinSequence: 42}))
}
