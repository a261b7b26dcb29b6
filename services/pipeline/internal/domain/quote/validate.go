package quote

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/money"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/input"
)

// Limits of a quote.
const (
	MaxLines          = 500
	MaxNameLen        = 200
	MaxSKULen         = 64
	MaxDescriptionLen = 1000
	// MaxDecimalPlaces bounds quantities, unit prices and percents (the wire form's nanos).
	MaxDecimalPlaces = money.MaxFractionDigits
)

var hundred = decimal.NewFromInt(100)

// Normalize returns q's content in stored form: names, SKUs and descriptions trimmed, lines
// without an id numbered by position ("1", "2", …), and amounts without a currency given
// q.Currency.
func Normalize(q Quote) Quote {
	q = q.Clone()
	q.Name = strings.TrimSpace(q.Name)
	for i := range q.Lines {
		l := &q.Lines[i]
		l.LineID = strings.TrimSpace(l.LineID)
		if l.LineID == "" {
			l.LineID = strconv.Itoa(i + 1)
		}
		l.SKU = strings.TrimSpace(l.SKU)
		l.Description = strings.TrimSpace(l.Description)
		l.UnitPrice.Currency = currencyOr(l.UnitPrice.Currency, q.Currency)
		if l.DiscountAmount != nil {
			d := *l.DiscountAmount
			d.Currency = currencyOr(d.Currency, q.Currency)
			l.DiscountAmount = &d
		}
	}
	return q
}

func currencyOr(c, def string) string {
	if c = strings.ToUpper(strings.TrimSpace(c)); c == "" {
		return def
	}
	return c
}

// Validate adds one violation per bad field of q's content (a Normalized quote): paths like
// "name", "lines", "lines[2].unit_price", "lines[0].discount_percent", "tax_rate_percent",
// "valid_until". Every amount must be in q.Currency, the opportunity's currency. Whether
// ValidUntil lies in the past is the decision's business (it knows today).
func Validate(q Quote, v *apperr.Violations) {
	input.Text("name", q.Name, MaxNameLen, false, v)
	switch {
	case len(q.Lines) == 0:
		v.Add("lines", "a quote needs at least one line")
	case len(q.Lines) > MaxLines:
		v.Add("lines", "at most %d lines", MaxLines)
	}
	ids := map[string]bool{}
	linesOK := true
	for i, l := range q.Lines {
		if !validateLine(l, fmt.Sprintf("lines[%d].", i), q.Currency, ids, v) {
			linesOK = false
		}
	}
	checkPercent("tax_rate_percent", q.TaxRatePercent, v)
	if !q.ValidUntil.Valid() {
		v.Add("valid_until", "is required: a date as YYYY-MM-DD")
	}
	if linesOK && len(q.Lines) > 0 && !Compute(q).Total.Fits() {
		v.Add("lines", "the quote total is too large")
	}
}

// validateLine adds at most one violation per field of l and reports whether l is valid.
func validateLine(l Line, at, currency string, ids map[string]bool, v *apperr.Violations) bool {
	n := len(*v)
	switch {
	case !input.ValidID(l.LineID):
		v.Add(at+"line_id", input.IDMessage)
	case ids[l.LineID]:
		v.Add(at+"line_id", "duplicate line id %q", l.LineID)
	}
	ids[l.LineID] = true
	input.Text(at+"sku", l.SKU, MaxSKULen, false, v)
	input.Text(at+"description", l.Description, MaxDescriptionLen, true, v)
	if l.SKU == "" && l.Description == "" {
		v.Add(at+"description", "a line needs a sku or a description")
	}
	qtyOK := false
	switch {
	case l.Quantity.Sign() <= 0:
		v.Add(at+"quantity", "must be greater than 0")
	case !money.HasAtMostFractionDigits(l.Quantity, MaxDecimalPlaces):
		v.Add(at+"quantity", "at most %d decimal places", MaxDecimalPlaces)
	default:
		qtyOK = true
	}
	priceOK := false
	switch {
	case l.UnitPrice.Currency != currency:
		v.Add(at+"unit_price", "must be in %s, the opportunity's currency", currency)
	case l.UnitPrice.IsNegative():
		v.Add(at+"unit_price", "must not be negative")
	case !l.UnitPrice.Fits():
		v.Add(at+"unit_price", "at most %d decimal places and 18 digits before the point", MaxDecimalPlaces)
	default:
		priceOK = true
	}
	// The discount amount is compared with the subtotal only when there is one.
	subOK := false
	var sub money.Money
	if qtyOK && priceOK {
		sub = ComputeLine(l, currency).Subtotal
		if sub.Fits() {
			subOK = true
		} else {
			v.Add(at+"quantity", "the line subtotal quantity × unit price is too large")
		}
	}
	switch {
	case l.DiscountPercent != nil && l.DiscountAmount != nil:
		v.Add(at+"discount_amount", "set discount_percent or discount_amount, not both")
	case l.DiscountPercent != nil:
		checkPercent(at+"discount_percent", *l.DiscountPercent, v)
	case l.DiscountAmount != nil:
		d := *l.DiscountAmount
		switch {
		case d.Currency != currency:
			v.Add(at+"discount_amount", "must be in %s, the opportunity's currency", currency)
		case d.IsNegative():
			v.Add(at+"discount_amount", "must not be negative")
		case !d.Rounded():
			v.Add(at+"discount_amount", "at most %d decimal places for %s", money.MinorUnits(currency), currency)
		case subOK && d.Amount.GreaterThan(sub.Amount):
			v.Add(at+"discount_amount", "must not exceed the line subtotal %s", sub)
		}
	}
	return len(*v) == n
}

func checkPercent(field string, p decimal.Decimal, v *apperr.Violations) {
	switch {
	case p.Sign() < 0 || p.GreaterThan(hundred):
		v.Add(field, "must be between 0 and 100")
	case !money.HasAtMostFractionDigits(p, MaxDecimalPlaces):
		v.Add(field, "at most %d decimal places", MaxDecimalPlaces)
	}
}
