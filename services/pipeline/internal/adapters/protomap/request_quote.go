package protomap

import (
	"fmt"

	"github.com/evcrm/evcrm/libs/apperr"
	pipelinev1 "github.com/evcrm/evcrm/libs/gen/crm/pipeline/v1"
	"github.com/evcrm/evcrm/libs/money/moneypb"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/opportunity"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/quote"
)

// QuoteDraftFromProto maps a CreateQuote request to the content of version 1 of quote quoteID
// (chosen by the app). Only the content is read — name, line items, tax rate, validity; the
// currency and the totals are output only. Malformed decimals, amounts and dates are violations
// on their paths ("quote.line_items[2].quantity", "quote.valid_until", …).
func QuoteDraftFromProto(req *pipelinev1.CreateQuoteRequest, quoteID string) (opportunity.QuoteDraft, error) {
	return requestQuote(req.GetQuote(), quoteID)
}

// QuoteRevisionFromProto maps a ReviseQuote request: the new version's content (as in
// QuoteDraftFromProto) for quote req.quote_id.
func QuoteRevisionFromProto(req *pipelinev1.ReviseQuoteRequest) (opportunity.QuoteDraft, error) {
	return requestQuote(req.GetQuote(), req.GetQuoteId())
}

func requestQuote(p *pipelinev1.Quote, quoteID string) (opportunity.QuoteDraft, error) {
	if p == nil {
		return opportunity.QuoteDraft{}, required("quote", "invalid quote")
	}
	const at = "quote."
	var v apperr.Violations
	d := opportunity.QuoteDraft{QuoteID: quoteID, Name: p.GetName(),
		TaxRatePercent: moneypb.RequestDecimal(p.GetTaxRatePercent(), at+"tax_rate_percent", &v),
		ValidUntil:     requestDate(p.GetValidUntil(), at+"valid_until", &v)}
	for i, l := range p.GetLineItems() {
		d.Lines = append(d.Lines, requestLine(l, fmt.Sprintf("%sline_items[%d].", at, i), &v))
	}
	if err := v.Err("invalid quote"); err != nil {
		return opportunity.QuoteDraft{}, err
	}
	return d, nil
}

// requestLine maps the input fields of a line item (computed ones are ignored).
func requestLine(p *pipelinev1.QuoteLineItem, at string, v *apperr.Violations) quote.Line {
	return quote.Line{
		LineID:          p.GetLineId(),
		SKU:             p.GetSku(),
		Description:     p.GetDescription(),
		Quantity:        moneypb.RequestDecimal(p.GetQuantity(), at+"quantity", v),
		UnitPrice:       moneypb.RequestAmount(p.GetUnitPrice(), at+"unit_price", v),
		DiscountPercent: requestDecimalPtr(p.GetDiscountPercent(), at+"discount_percent", v),
		DiscountAmount:  requestMoneyPtr(p.GetDiscountAmount(), at+"discount_amount", v),
	}
}

// QuoteRefRequest is any request that names a quote version: SendQuote, AcceptQuote,
// RejectQuote and GetQuote.
type QuoteRefRequest interface {
	GetQuoteId() string
	GetVersion() uint32
}

// QuoteRefFromProto maps the quote version a request names (version 0: the latest).
func QuoteRefFromProto(req QuoteRefRequest) opportunity.QuoteRef {
	return opportunity.QuoteRef{QuoteID: req.GetQuoteId(), Version: req.GetVersion()}
}
