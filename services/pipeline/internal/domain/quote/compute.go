package quote

import (
	"github.com/evcrm/evcrm/libs/money"
)

// Compute returns q with every line's Subtotal, Discount and Net and the quote's totals
// computed by the rules in the package doc. It expects a quote that passed Validate (every
// amount in q.Currency); amounts in another currency are treated as q.Currency.
func Compute(q Quote) Quote {
	q = q.Clone()
	cur := q.Currency
	subtotal, discount, net := money.Zero(cur), money.Zero(cur), money.Zero(cur)
	for i := range q.Lines {
		l := ComputeLine(q.Lines[i], cur)
		q.Lines[i] = l
		subtotal.Amount = subtotal.Amount.Add(l.Subtotal.Amount)
		discount.Amount = discount.Amount.Add(l.Discount.Amount)
		net.Amount = net.Amount.Add(l.Net.Amount)
	}
	q.Subtotal, q.DiscountTotal, q.NetTotal = subtotal, discount, net
	q.TaxTotal = net.Percent(q.TaxRatePercent).Round()
	q.Total = money.New(cur, net.Amount.Add(q.TaxTotal.Amount))
	return q
}

// ComputeLine returns l with Subtotal, Discount and Net computed in currency.
func ComputeLine(l Line, currency string) Line {
	l.Subtotal = money.New(currency, l.Quantity.Mul(l.UnitPrice.Amount)).Round()
	switch {
	case l.DiscountPercent != nil:
		l.Discount = l.Subtotal.Percent(*l.DiscountPercent).Round()
	case l.DiscountAmount != nil:
		l.Discount = money.New(currency, l.DiscountAmount.Amount)
	default:
		l.Discount = money.Zero(currency)
	}
	l.Net = money.New(currency, l.Subtotal.Amount.Sub(l.Discount.Amount))
	return l
}
