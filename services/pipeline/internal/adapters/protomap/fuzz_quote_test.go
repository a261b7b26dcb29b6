package protomap_test

import (
	"context"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	commonv1 "github.com/evcrm/evcrm/libs/gen/crm/common/v1"
	pipelinev1 "github.com/evcrm/evcrm/libs/gen/crm/pipeline/v1"
	"github.com/evcrm/evcrm/libs/money"
	"github.com/evcrm/evcrm/libs/platform/grpcerr"
	"github.com/evcrm/evcrm/services/pipeline/internal/adapters/protomap"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/civil"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/opportunity"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/pipelinedef"
)

// FuzzCreateQuote feeds arbitrary CreateQuoteRequest wire bytes through the request mapping
// (decimals, money, dates of the quote and its lines) and the domain's decision on an open EUR
// opportunity (line rules, discounts, totals). Property: no panic, and a rejection is
// InvalidArgument with field violations. `go test -fuzz FuzzCreateQuote ./internal/adapters/protomap`
// in services/pipeline explores.
func FuzzCreateQuote(f *testing.F) {
	dec := func(s string) *commonv1.Decimal { return &commonv1.Decimal{Value: s} }
	eur := func(u int64, n int32) *commonv1.Money {
		return &commonv1.Money{CurrencyCode: "EUR", Units: u, Nanos: n}
	}
	seeds := []*pipelinev1.Quote{
		{Name: "Q1", TaxRatePercent: dec("19"), ValidUntil: "2026-12-31", LineItems: []*pipelinev1.QuoteLineItem{
			{LineId: "l1", Sku: "SKU-1", Description: "seats", Quantity: dec("10"), UnitPrice: eur(99, 500_000_000), Discount: &pipelinev1.QuoteLineItem_DiscountPercent{DiscountPercent: dec("5")}},
			{LineId: "l2", Quantity: dec("1.5"), UnitPrice: eur(1000, 0), Discount: &pipelinev1.QuoteLineItem_DiscountAmount{DiscountAmount: eur(100, 0)}},
		}},
		{Name: "' OR 1=1 --", LineItems: []*pipelinev1.QuoteLineItem{{Quantity: dec("1e999"), UnitPrice: eur(-1, -1)}}},
		{LineItems: []*pipelinev1.QuoteLineItem{{LineId: "a", Quantity: dec("NaN"), UnitPrice: &commonv1.Money{CurrencyCode: "USD", Units: 1}, Discount: &pipelinev1.QuoteLineItem_DiscountPercent{DiscountPercent: dec("101")}},
			{LineId: "a", Quantity: dec("-0"), UnitPrice: eur(1, 2_000_000_000)}}},
		{ValidUntil: "2026-02-30", TaxRatePercent: dec("x")},
		nil,
	}
	for _, q := range seeds {
		b, err := proto.Marshal(&pipelinev1.CreateQuoteRequest{OpportunityId: "o1", Quote: q})
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	evs, err := opportunity.Create(opportunity.Opportunity{}, opportunity.NewOpportunity{ID: "o1",
		Details: opportunity.Details{Name: "Acme", AccountID: "acc1"}, OwnerID: "olga",
		Amount: money.MustParse("EUR", "10000"), ExpectedCloseDate: civil.New(2026, time.June, 30)},
		pipelinedef.Default(), opportunity.Policy{DefaultCurrency: "EUR"}, now)
	if err != nil {
		f.Fatal(err)
	}
	opp := opportunity.ApplyAll(opportunity.Opportunity{}, evs...)
	f.Fuzz(func(t *testing.T, data []byte) {
		var req pipelinev1.CreateQuoteRequest
		if proto.Unmarshal(data, &req) != nil {
			return // gRPC refuses it before any handler runs
		}
		d, err := protomap.QuoteDraftFromProto(&req, "q1")
		if err != nil {
			requireFieldViolations(t, err)
			return
		}
		if _, err := opportunity.CreateQuote(opp, d, now); err != nil {
			requireFieldViolations(t, err)
		}
	})
}

// requireFieldViolations is the property of a rejected request: InvalidArgument on the wire with
// at least one field violation, so the client learns which field to fix.
func requireFieldViolations(t *testing.T, err error) {
	t.Helper()
	st := grpcerr.ToStatus(context.Background(), err)
	if st.Code() != codes.InvalidArgument {
		t.Fatalf("rejected with %v (%v), want InvalidArgument", st.Code(), err)
	}
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok && len(br.GetFieldViolations()) > 0 {
			return
		}
	}
	t.Fatalf("InvalidArgument without field violations: %v", err)
}
