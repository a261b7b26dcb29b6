package service_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	commonv1 "github.com/evcrm/evcrm/libs/gen/crm/common/v1"
	pipelinev1 "github.com/evcrm/evcrm/libs/gen/crm/pipeline/v1"
	"github.com/evcrm/evcrm/libs/testkit"
)

func TestOpportunityLifecycleEndToEnd(t *testing.T) {
	t.Parallel()
	h := start(t, testkit.StartNATS(t), t.TempDir())
	ctx := as(t, "acme", "rep-1")

	created, err := h.client.CreateOpportunity(ctx, &pipelinev1.CreateOpportunityRequest{Opportunity: newOpportunity("Big deal", 100_000, 30)})
	require.NoError(t, err)
	o := created.GetOpportunity()
	id := o.GetId()
	assert.Equal(t, "default", o.GetPipelineId())
	assert.Equal(t, "prospecting", o.GetStageId())
	assert.Equal(t, uint32(10), o.GetProbability())
	assert.Equal(t, "rep-1", o.GetOwnerId(), "the caller owns what they create unless they name an owner")

	// Forward, back, forward: every stay is its own history entry.
	for _, stage := range []string{"qualification", "proposal", "qualification", "negotiation"} {
		moved, err := h.client.MoveOpportunityStage(ctx, &pipelinev1.MoveOpportunityStageRequest{OpportunityId: id, StageId: stage})
		require.NoError(t, err, "to %s", stage)
		assert.Equal(t, stage, moved.GetOpportunity().GetStageId())
	}
	_, err = h.client.UpdateOpportunityCloseDate(ctx, &pipelinev1.UpdateOpportunityCloseDateRequest{OpportunityId: id, ExpectedCloseDate: inDays(60)})
	require.NoError(t, err)
	won, err := h.client.MarkOpportunityWon(ctx, &pipelinev1.MarkOpportunityWonRequest{OpportunityId: id, Amount: usd(95_000), Note: "signed"})
	require.NoError(t, err)
	assert.Equal(t, pipelinev1.OpportunityStatus_OPPORTUNITY_STATUS_WON, won.GetOpportunity().GetStatus())
	assert.Equal(t, int64(95_000), won.GetOpportunity().GetAmount().GetUnits())

	// Read after write: the read model waits for the command's sequence.
	got, err := h.client.GetOpportunity(ctx, &pipelinev1.GetOpportunityRequest{OpportunityId: id, Read: after(won.GetResult())})
	require.NoError(t, err)
	var stages []string
	for _, e := range got.GetStageHistory() {
		stages = append(stages, e.GetStageId())
	}
	assert.Equal(t, []string{"prospecting", "qualification", "proposal", "qualification", "negotiation", "closed_won"}, stages)
	assert.Equal(t, won.GetResult().GetVersion(), got.GetOpportunity().GetVersion())

	// A closed deal takes nothing but a reopen.
	_, err = h.client.UpdateOpportunityAmount(ctx, &pipelinev1.UpdateOpportunityAmountRequest{OpportunityId: id, Amount: usd(1)})
	require.Equal(t, codes.FailedPrecondition, status.Code(err), "%v", err)
	assert.Contains(t, status.Convert(err).Message(), "WON")
	reopened, err := h.client.ReopenOpportunity(ctx, &pipelinev1.ReopenOpportunityRequest{OpportunityId: id})
	require.NoError(t, err)
	assert.Equal(t, "negotiation", reopened.GetOpportunity().GetStageId(), "back to the last open stage")
	lost, err := h.client.MarkOpportunityLost(ctx, &pipelinev1.MarkOpportunityLostRequest{OpportunityId: id,
		Reason: pipelinev1.LostReason_LOST_REASON_COMPETITOR, Competitor: "Initech"})
	require.NoError(t, err)
	assert.Equal(t, pipelinev1.OpportunityStatus_OPPORTUNITY_STATUS_LOST, lost.GetOpportunity().GetStatus())

	// Lists come from the read model.
	list, err := h.client.ListOpportunities(ctx, &pipelinev1.ListOpportunitiesRequest{
		Statuses: []pipelinev1.OpportunityStatus{pipelinev1.OpportunityStatus_OPPORTUNITY_STATUS_LOST}, Read: after(lost.GetResult())})
	require.NoError(t, err)
	require.Len(t, list.GetOpportunities(), 1)
	assert.Equal(t, id, list.GetOpportunities()[0].GetId())

	// Another tenant sees nothing of it.
	_, err = h.client.GetOpportunity(as(t, "globex", "rep-9"), &pipelinev1.GetOpportunityRequest{OpportunityId: id, Read: after(lost.GetResult())})
	assert.Equal(t, codes.NotFound, status.Code(err))
}

func TestQuotesSetTheAmountWhenAccepted(t *testing.T) {
	t.Parallel()
	h := start(t, testkit.StartNATS(t), t.TempDir())
	ctx := as(t, "acme", "rep-1")
	created, err := h.client.CreateOpportunity(ctx, &pipelinev1.CreateOpportunityRequest{Opportunity: newOpportunity("Licences", 10_000, 20)})
	require.NoError(t, err)
	id := created.GetOpportunity().GetId()

	// 3 × 19.99 = 59.97, 10 % off = 6.00 (5.997 rounded), net 53.97; 2 × 100 − 25 = 175;
	// net 228.97, tax 19 % = 43.5043 → 43.50; total 272.47.
	q := &pipelinev1.Quote{Name: "Q1", TaxRatePercent: dec("19"), ValidUntil: inDays(14), LineItems: []*pipelinev1.QuoteLineItem{
		{Sku: "LIC", Quantity: dec("3"), UnitPrice: &commonv1.Money{CurrencyCode: "USD", Units: 19, Nanos: 990_000_000},
			Discount: &pipelinev1.QuoteLineItem_DiscountPercent{DiscountPercent: dec("10")}},
		{Sku: "SUP", Quantity: dec("2"), UnitPrice: usd(100), Discount: &pipelinev1.QuoteLineItem_DiscountAmount{DiscountAmount: usd(25)}},
	}}
	made, err := h.client.CreateQuote(ctx, &pipelinev1.CreateQuoteRequest{OpportunityId: id, Quote: q, Options: &commonv1.WriteOptions{IdempotencyKey: "quote-1"}})
	require.NoError(t, err)
	assert.Equal(t, &commonv1.Money{CurrencyCode: "USD", Units: 228, Nanos: 970_000_000}, made.GetQuote().GetNetTotal())
	assert.Equal(t, &commonv1.Money{CurrencyCode: "USD", Units: 43, Nanos: 500_000_000}, made.GetQuote().GetTaxTotal())
	total := &commonv1.Money{CurrencyCode: "USD", Units: 272, Nanos: 470_000_000}
	assert.True(t, proto.Equal(total, made.GetQuote().GetTotal()), "total %v", made.GetQuote().GetTotal())
	// A retry names the same quote and appends nothing.
	again, err := h.client.CreateQuote(ctx, &pipelinev1.CreateQuoteRequest{OpportunityId: id, Quote: q, Options: &commonv1.WriteOptions{IdempotencyKey: "quote-1"}})
	require.NoError(t, err)
	assert.True(t, again.GetResult().GetReplayed())
	assert.Equal(t, made.GetQuote().GetQuoteId(), again.GetQuote().GetQuoteId())

	qid := made.GetQuote().GetQuoteId()
	_, err = h.client.AcceptQuote(ctx, &pipelinev1.AcceptQuoteRequest{OpportunityId: id, QuoteId: qid})
	require.Equal(t, codes.FailedPrecondition, status.Code(err), "a draft cannot be accepted: %v", err)
	_, err = h.client.SendQuote(ctx, &pipelinev1.SendQuoteRequest{OpportunityId: id, QuoteId: qid})
	require.NoError(t, err)
	accepted, err := h.client.AcceptQuote(ctx, &pipelinev1.AcceptQuoteRequest{OpportunityId: id, QuoteId: qid})
	require.NoError(t, err)
	assert.Equal(t, pipelinev1.QuoteStatus_QUOTE_STATUS_ACCEPTED, accepted.GetQuote().GetStatus())
	assert.True(t, proto.Equal(total, accepted.GetOpportunity().GetAmount()), "amount %v", accepted.GetOpportunity().GetAmount())

	quotes, err := h.client.ListQuotes(ctx, &pipelinev1.ListQuotesRequest{OpportunityId: id, Read: after(accepted.GetResult())})
	require.NoError(t, err)
	assert.Len(t, quotes.GetQuotes(), 1)
}

func TestBadInputIsRejectedWithFieldViolationsAndAppendsNothing(t *testing.T) {
	t.Parallel()
	h := start(t, testkit.StartNATS(t), t.TempDir())
	ctx := as(t, "acme", "rep-1")
	created, err := h.client.CreateOpportunity(ctx, &pipelinev1.CreateOpportunityRequest{Opportunity: newOpportunity("Deal", 1_000, 10)})
	require.NoError(t, err)
	id := created.GetOpportunity().GetId()
	_, err = h.client.CreatePipeline(ctx, &pipelinev1.CreatePipelineRequest{Pipeline: &pipelinev1.Pipeline{Id: "renewals", Name: "Renewals", Stages: []*pipelinev1.Stage{
		{Id: "due", Name: "Due", DefaultProbability: 50, ForecastCategory: pipelinev1.ForecastCategory_FORECAST_CATEGORY_PIPELINE, Kind: pipelinev1.StageKind_STAGE_KIND_OPEN},
		{Id: "renewed", Name: "Renewed", DefaultProbability: 100, ForecastCategory: pipelinev1.ForecastCategory_FORECAST_CATEGORY_CLOSED, Kind: pipelinev1.StageKind_STAGE_KIND_WON},
		{Id: "churned", Name: "Churned", DefaultProbability: 0, ForecastCategory: pipelinev1.ForecastCategory_FORECAST_CATEGORY_OMITTED, Kind: pipelinev1.StageKind_STAGE_KIND_LOST},
	}}})
	require.NoError(t, err)
	before := h.streamMsgs(t)

	negative := newOpportunity("Neg", 0, 10)
	negative.Amount = usd(-5)
	past := newOpportunity("Past", 1, -400)
	for name, tc := range map[string]struct {
		call  func() error
		field string
	}{
		"negative amount": {func() error {
			_, err := h.client.CreateOpportunity(ctx, &pipelinev1.CreateOpportunityRequest{Opportunity: negative})
			return err
		}, "opportunity.amount"},
		"close date far in the past": {func() error {
			_, err := h.client.CreateOpportunity(ctx, &pipelinev1.CreateOpportunityRequest{Opportunity: past})
			return err
		}, "opportunity.expected_close_date"},
		"unknown stage": {func() error {
			_, err := h.client.MoveOpportunityStage(ctx, &pipelinev1.MoveOpportunityStageRequest{OpportunityId: id, StageId: "nowhere"})
			return err
		}, "stage_id"},
		"stage of another pipeline": {func() error {
			_, err := h.client.MoveOpportunityStage(ctx, &pipelinev1.MoveOpportunityStageRequest{OpportunityId: id, StageId: "due"})
			return err
		}, "stage_id"},
		"quote currency mismatch": {func() error {
			_, err := h.client.CreateQuote(ctx, &pipelinev1.CreateQuoteRequest{OpportunityId: id, Quote: &pipelinev1.Quote{Name: "Q", ValidUntil: inDays(5),
				LineItems: []*pipelinev1.QuoteLineItem{{Sku: "A", Quantity: dec("1"), UnitPrice: &commonv1.Money{CurrencyCode: "EUR", Units: 5}}}}})
			return err
		}, "quote.line_items[0].unit_price"},
		"quantity not positive": {func() error {
			_, err := h.client.CreateQuote(ctx, &pipelinev1.CreateQuoteRequest{OpportunityId: id, Quote: &pipelinev1.Quote{Name: "Q", ValidUntil: inDays(5),
				LineItems: []*pipelinev1.QuoteLineItem{{Sku: "A", Quantity: dec("0"), UnitPrice: usd(5)}}}})
			return err
		}, "quote.line_items[0].quantity"},
		"discount above 100 %": {func() error {
			_, err := h.client.CreateQuote(ctx, &pipelinev1.CreateQuoteRequest{OpportunityId: id, Quote: &pipelinev1.Quote{Name: "Q", ValidUntil: inDays(5),
				LineItems: []*pipelinev1.QuoteLineItem{{Sku: "A", Quantity: dec("1"), UnitPrice: usd(5),
					Discount: &pipelinev1.QuoteLineItem_DiscountPercent{DiscountPercent: dec("120")}}}}})
			return err
		}, "quote.line_items[0].discount_percent"},
		"malformed decimal": {func() error {
			_, err := h.client.CreateQuote(ctx, &pipelinev1.CreateQuoteRequest{OpportunityId: id, Quote: &pipelinev1.Quote{Name: "Q", ValidUntil: inDays(5),
				LineItems: []*pipelinev1.QuoteLineItem{{Sku: "A", Quantity: dec("1e3"), UnitPrice: usd(5)}}}})
			return err
		}, "quote.line_items[0].quantity"},
		"unknown enum": {func() error {
			_, err := h.client.MarkOpportunityLost(ctx, &pipelinev1.MarkOpportunityLostRequest{OpportunityId: id, Reason: 99})
			return err
		}, "reason"},
		"page size out of range": {func() error {
			_, err := h.client.ListOpportunities(ctx, &pipelinev1.ListOpportunitiesRequest{PageSize: 5000})
			return err
		}, "page_size"},
		"malformed page token": {func() error {
			_, err := h.client.ListOpportunities(ctx, &pipelinev1.ListOpportunitiesRequest{PageToken: "garbage"})
			return err
		}, "page_token"},
	} {
		t.Run(name, func(t *testing.T) {
			v := violations(t, tc.call())
			assert.True(t, v[tc.field], "violations %v, want %s", v, tc.field)
		})
	}
	assert.Equal(t, before, h.streamMsgs(t), "rejected commands append nothing")
}

func TestCreateOpportunityIsIdempotentUnderConcurrentRetries(t *testing.T) {
	t.Parallel()
	h := start(t, testkit.StartNATS(t), t.TempDir())
	ctx := as(t, "acme", "svc-leads")
	const retries = 16
	var (
		wg  sync.WaitGroup
		mu  sync.Mutex
		ids = map[string]int{}
	)
	for range retries {
		wg.Go(func() {
			for {
				r, err := h.client.CreateOpportunity(ctx, &pipelinev1.CreateOpportunityRequest{
					Opportunity: newOpportunity("Converted", 5_000, 30), Options: &commonv1.WriteOptions{IdempotencyKey: "convert-lead-42"}})
				if status.Code(err) == codes.Aborted { // the first attempt is still in flight: retry
					time.Sleep(5 * time.Millisecond)
					continue
				}
				if !assert.NoError(t, err) {
					return
				}
				mu.Lock()
				ids[r.GetOpportunity().GetId()]++
				mu.Unlock()
				return
			}
		})
	}
	wg.Wait()
	require.Len(t, ids, 1, "one opportunity for every retry: %v", ids)
	list, err := h.client.ListOpportunities(ctx, &pipelinev1.ListOpportunitiesRequest{Read: &commonv1.ReadOptions{MinSequence: h.streamMsgs(t)}})
	require.NoError(t, err)
	assert.Len(t, list.GetOpportunities(), 1)
}

func forecastNow(t *testing.T, h *harness, asOf time.Time) *pipelinev1.GetForecastResponse {
	t.Helper()
	req := &pipelinev1.GetForecastRequest{Period: pipelinev1.ForecastPeriod_FORECAST_PERIOD_MONTH, GroupByOwner: true, GroupByForecastCategory: true,
		Read: &commonv1.ReadOptions{MinSequence: h.streamMsgs(t)}}
	if !asOf.IsZero() {
		req.AsOf = timestamppb.New(asOf)
	}
	f, err := h.client.GetForecast(as(t, "acme", "manager"), req)
	require.NoError(t, err)
	f.AsOf = nil
	return f
}

// The forecast as of a past instant is the forecast that was answered at that instant.
func TestForecastAsOfEqualsTheForecastAtThatMoment(t *testing.T) {
	t.Parallel()
	h := start(t, testkit.StartNATS(t), t.TempDir())
	ctx := as(t, "acme", "rep-1")
	var ids []string
	for i, amount := range []int64{10_000, 20_000, 30_000, 40_000} {
		r, err := h.client.CreateOpportunity(ctx, &pipelinev1.CreateOpportunityRequest{Opportunity: newOpportunity(fmt.Sprintf("Deal %d", i), amount, 20+40*i)})
		require.NoError(t, err)
		ids = append(ids, r.GetOpportunity().GetId())
	}
	type moment struct {
		at time.Time
		f  *pipelinev1.GetForecastResponse
	}
	var moments []moment
	snap := func() {
		time.Sleep(20 * time.Millisecond) // stream timestamps are the clock the as-of reads
		f := forecastNow(t, h, time.Time{})
		moments = append(moments, moment{time.Now(), f})
		time.Sleep(20 * time.Millisecond)
	}
	snap()
	_, err := h.client.MoveOpportunityStage(ctx, &pipelinev1.MoveOpportunityStageRequest{OpportunityId: ids[0], StageId: "negotiation"})
	require.NoError(t, err)
	_, err = h.client.UpdateOpportunityCloseDate(ctx, &pipelinev1.UpdateOpportunityCloseDateRequest{OpportunityId: ids[1], ExpectedCloseDate: inDays(200)})
	require.NoError(t, err)
	snap()
	_, err = h.client.MarkOpportunityWon(ctx, &pipelinev1.MarkOpportunityWonRequest{OpportunityId: ids[2]})
	require.NoError(t, err)
	p := uint32(80)
	_, err = h.client.UpdateOpportunityProbability(ctx, &pipelinev1.UpdateOpportunityProbabilityRequest{OpportunityId: ids[3], Probability: &p})
	require.NoError(t, err)
	_, err = h.client.AssignOpportunity(ctx, &pipelinev1.AssignOpportunityRequest{OpportunityId: ids[3], OwnerId: "rep-2"})
	require.NoError(t, err)
	snap()
	_, err = h.client.MarkOpportunityLost(ctx, &pipelinev1.MarkOpportunityLostRequest{OpportunityId: ids[0], Reason: pipelinev1.LostReason_LOST_REASON_PRICE})
	require.NoError(t, err)
	snap()

	for i, m := range moments {
		got := forecastNow(t, h, m.at)
		assert.True(t, proto.Equal(m.f, got), "moment %d:\nthen %v\nas-of %v", i, m.f, got)
	}
	assert.False(t, proto.Equal(moments[0].f, moments[len(moments)-1].f), "the forecast changed over the test")

	_, err = h.client.GetForecast(ctx, &pipelinev1.GetForecastRequest{AsOf: timestamppb.New(time.Now().Add(time.Hour))})
	assert.True(t, violations(t, err)["as_of"])
}

func TestPipelinesContractsAndRestart(t *testing.T) {
	t.Parallel()
	n := testkit.StartNATS(t)
	dir := t.TempDir()
	h := start(t, n, dir)
	ctx := as(t, "acme", "rep-1")

	// A revision renames a stage; the opportunity keeps the name it saw.
	def, err := h.client.GetPipeline(ctx, &pipelinev1.GetPipelineRequest{PipelineId: "default"})
	require.NoError(t, err)
	created, err := h.client.CreateOpportunity(ctx, &pipelinev1.CreateOpportunityRequest{Opportunity: newOpportunity("Deal", 50_000, 30)})
	require.NoError(t, err)
	id := created.GetOpportunity().GetId()
	stages := def.GetPipeline().GetStages()
	stages[0].Name = "Discovery"
	revised, err := h.client.UpdatePipeline(ctx, &pipelinev1.UpdatePipelineRequest{PipelineId: "default", Name: "Default", Stages: stages})
	require.NoError(t, err)
	assert.Equal(t, "Discovery", revised.GetPipeline().GetStages()[0].GetName())
	got, err := h.client.GetOpportunity(ctx, &pipelinev1.GetOpportunityRequest{OpportunityId: id, Read: after(revised.GetResult())})
	require.NoError(t, err)
	assert.Equal(t, "Prospecting", got.GetOpportunity().GetStageName())
	pipes, err := h.client.ListPipelines(ctx, &pipelinev1.ListPipelinesRequest{Read: after(revised.GetResult())})
	require.NoError(t, err)
	require.Len(t, pipes.GetPipelines(), 1)
	assert.Equal(t, "default", pipes.GetPipelines()[0].GetId())

	// Contracts: only for won deals; nearing renewal is a query.
	_, err = h.client.CreateContract(ctx, &pipelinev1.CreateContractRequest{Contract: &pipelinev1.Contract{OpportunityId: id, StartDate: inDays(0), EndDate: inDays(365)}})
	require.Equal(t, codes.FailedPrecondition, status.Code(err), "%v", err)
	_, err = h.client.MarkOpportunityWon(ctx, &pipelinev1.MarkOpportunityWonRequest{OpportunityId: id})
	require.NoError(t, err)
	c, err := h.client.CreateContract(ctx, &pipelinev1.CreateContractRequest{Contract: &pipelinev1.Contract{OpportunityId: id, StartDate: inDays(0), EndDate: inDays(365)}})
	require.NoError(t, err)
	assert.Equal(t, int64(50_000), c.GetContract().GetValue().GetUnits(), "the value defaults to the deal's amount")
	assert.Equal(t, "acct-1", c.GetContract().GetAccountId())
	act, err := h.client.ActivateContract(ctx, &pipelinev1.ActivateContractRequest{ContractId: c.GetContract().GetId()})
	require.NoError(t, err)
	due, err := h.client.ListContracts(ctx, &pipelinev1.ListContractsRequest{RenewalDateFrom: inDays(300), RenewalDateTo: inDays(400), Read: after(act.GetResult())})
	require.NoError(t, err)
	require.Len(t, due.GetContracts(), 1)
	assert.Equal(t, pipelinev1.ContractStatus_CONTRACT_STATUS_ACTIVE, due.GetContracts()[0].GetStatus())
	upd, err := h.client.UpdateOpportunity(ctx, &pipelinev1.UpdateOpportunityRequest{OpportunityId: id,
		Opportunity: &pipelinev1.Opportunity{NextStep: "kick-off"}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"next_step"}}})
	require.Equal(t, codes.FailedPrecondition, status.Code(err), "won deals are closed to edits: %v", upd)

	// A restarted service (same read-model file) answers the same; a new replica with an empty
	// read model rebuilds it from the stream to the same answers.
	before := forecastNow(t, h, time.Time{})
	h.stop()
	for _, d := range []string{dir, t.TempDir()} {
		h2 := start(t, n, d)
		assert.True(t, proto.Equal(before, forecastNow(t, h2, time.Time{})))
		list, err := h2.client.ListContracts(ctx, &pipelinev1.ListContractsRequest{Read: &commonv1.ReadOptions{MinSequence: h2.streamMsgs(t)}})
		require.NoError(t, err)
		assert.Len(t, list.GetContracts(), 1)
		h2.stop()
	}
}

// A read that waits for the sequence of an event the read model does not follow (the
// configuration is not projected) answers at once instead of waiting for its deadline.
func TestReadAfterAnotherAggregatesWriteDoesNotWait(t *testing.T) {
	t.Parallel()
	h := start(t, testkit.StartNATS(t), t.TempDir())
	ctx := as(t, "acme", "admin-1")
	created, err := h.client.CreateOpportunity(ctx, &pipelinev1.CreateOpportunityRequest{Opportunity: newOpportunity("Deal", 1_000, 10)})
	require.NoError(t, err)
	cfg, err := h.client.GetPipelineConfig(ctx, &pipelinev1.GetPipelineConfigRequest{})
	require.NoError(t, err)
	next := cfg.GetConfig()
	next.MaxCloseDatePastDays++
	updated, err := h.client.UpdatePipelineConfig(ctx, &pipelinev1.UpdatePipelineConfigRequest{Config: next})
	require.NoError(t, err)
	require.Greater(t, updated.GetResult().GetSequence(), created.GetResult().GetSequence())

	short, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	got, err := h.client.GetOpportunity(short, &pipelinev1.GetOpportunityRequest{
		OpportunityId: created.GetOpportunity().GetId(), Read: after(updated.GetResult())})
	require.NoError(t, err, "the configuration's sequence concerns no opportunity")
	require.Equal(t, "Deal", got.GetOpportunity().GetName())
}
