package protomap

import (
	"fmt"

	pipelinev1 "github.com/evcrm/evcrm/libs/gen/crm/pipeline/v1"
	"github.com/evcrm/evcrm/libs/money/moneypb"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/quote"
)

// QuoteToProto maps one version of a quote of opportunity opportunityID ("" in events, whose
// subject names the opportunity). It fails only when an amount has no wire form, which the
// domain's checks rule out.
func QuoteToProto(opportunityID string, q quote.Quote) (*pipelinev1.Quote, error) {
	var e encoder
	p := e.quote(q)
	p.OpportunityId = opportunityID
	return p, e.err
}

// QuotesToProto maps quote versions (e.g. Opportunity.Quotes for ListQuotes), in order.
func QuotesToProto(opportunityID string, qs []quote.Quote) ([]*pipelinev1.Quote, error) {
	out := make([]*pipelinev1.Quote, 0, len(qs))
	for _, q := range qs {
		p, err := QuoteToProto(opportunityID, q)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

func (e *encoder) quote(q quote.Quote) *pipelinev1.Quote {
	p := &pipelinev1.Quote{
		QuoteId:         q.QuoteID,
		Version:         q.Version,
		Name:            q.Name,
		Currency:        q.Currency,
		TaxRatePercent:  moneypb.DecimalToProto(q.TaxRatePercent),
		ValidUntil:      DateToProto(q.ValidUntil),
		Status:          QuoteStatusToProto(q.Status),
		Subtotal:        e.money(q.Subtotal),
		DiscountTotal:   e.money(q.DiscountTotal),
		NetTotal:        e.money(q.NetTotal),
		TaxTotal:        e.money(q.TaxTotal),
		Total:           e.money(q.Total),
		CreatedAt:       ts(q.CreatedAt),
		StatusChangedAt: ts(q.StatusChangedAt),
	}
	for _, l := range q.Lines {
		p.LineItems = append(p.LineItems, e.line(l))
	}
	return p
}

func (e *encoder) line(l quote.Line) *pipelinev1.QuoteLineItem {
	p := &pipelinev1.QuoteLineItem{
		LineId:        l.LineID,
		Sku:           l.SKU,
		Description:   l.Description,
		Quantity:      moneypb.DecimalToProto(l.Quantity),
		UnitPrice:     e.money(l.UnitPrice),
		Subtotal:      e.money(l.Subtotal),
		DiscountTotal: e.money(l.Discount),
		NetTotal:      e.money(l.Net),
	}
	switch {
	case l.DiscountPercent != nil:
		p.Discount = &pipelinev1.QuoteLineItem_DiscountPercent{DiscountPercent: moneypb.DecimalToProto(*l.DiscountPercent)}
	case l.DiscountAmount != nil:
		p.Discount = &pipelinev1.QuoteLineItem_DiscountAmount{DiscountAmount: e.moneyPtr(l.DiscountAmount)}
	}
	return p
}

// QuoteFromProto is the lossless inverse of QuoteToProto for what the service wrote
// (QuoteCreated, QuoteRevised, read-model records); the opportunity id is not part of a
// quote.Quote. It fails on a value that cannot be mapped (a malformed decimal, amount or date).
func QuoteFromProto(p *pipelinev1.Quote) (quote.Quote, error) {
	var d decoder
	q := d.quote(p)
	if d.err != nil {
		return quote.Quote{}, d.err
	}
	return q, nil
}

func (d *decoder) quote(p *pipelinev1.Quote) quote.Quote {
	q := quote.Quote{
		QuoteID:         p.GetQuoteId(),
		Version:         p.GetVersion(),
		Name:            p.GetName(),
		Currency:        p.GetCurrency(),
		TaxRatePercent:  d.decimal(p.GetTaxRatePercent(), "tax rate"),
		ValidUntil:      d.date(p.GetValidUntil(), "valid until"),
		Status:          quoteStatuses.domain(p.GetStatus()),
		CreatedAt:       fromTS(p.GetCreatedAt()),
		StatusChangedAt: fromTS(p.GetStatusChangedAt()),
		Subtotal:        d.money(p.GetSubtotal(), "quote subtotal"),
		DiscountTotal:   d.money(p.GetDiscountTotal(), "quote discount total"),
		NetTotal:        d.money(p.GetNetTotal(), "quote net total"),
		TaxTotal:        d.money(p.GetTaxTotal(), "quote tax total"),
		Total:           d.money(p.GetTotal(), "quote total"),
	}
	for i, l := range p.GetLineItems() {
		q.Lines = append(q.Lines, d.line(l, fmt.Sprintf("line %d", i+1)))
	}
	return q
}

func (d *decoder) line(p *pipelinev1.QuoteLineItem, what string) quote.Line {
	return quote.Line{
		LineID:          p.GetLineId(),
		SKU:             p.GetSku(),
		Description:     p.GetDescription(),
		Quantity:        d.decimal(p.GetQuantity(), what+" quantity"),
		UnitPrice:       d.money(p.GetUnitPrice(), what+" unit price"),
		DiscountPercent: d.decimalPtr(p.GetDiscountPercent(), what+" discount percent"),
		DiscountAmount:  d.moneyPtr(p.GetDiscountAmount(), what+" discount amount"),
		Subtotal:        d.money(p.GetSubtotal(), what+" subtotal"),
		Discount:        d.money(p.GetDiscountTotal(), what+" discount"),
		Net:             d.money(p.GetNetTotal(), what+" net total"),
	}
}
