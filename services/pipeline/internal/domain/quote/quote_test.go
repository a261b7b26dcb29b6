package quote_test

import (
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/money"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/civil"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/quote"
)

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func pct(s string) *decimal.Decimal {
	d := dec(s)
	return &d
}

func amt(cur, s string) *money.Money {
	m := money.MustParse(cur, s)
	return &m
}

func line(qty string, price money.Money) quote.Line {
	return quote.Line{SKU: "SKU", Quantity: dec(qty), UnitPrice: price}
}

// strs renders the computed amounts of a quote for comparison: per line subtotal/discount/net,
// then subtotal, discount total, net total, tax, total.
func strs(q quote.Quote) (lines [][3]string, totals [5]string) {
	for _, l := range q.Lines {
		lines = append(lines, [3]string{l.Subtotal.String(), l.Discount.String(), l.Net.String()})
	}
	return lines, [5]string{q.Subtotal.String(), q.DiscountTotal.String(), q.NetTotal.String(), q.TaxTotal.String(), q.Total.String()}
}

func TestCompute(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		q      quote.Quote
		lines  [][3]string
		totals [5]string
	}{
		{
			name: "EUR: percent and amount discounts, half away from zero, 19% tax",
			q: quote.Quote{Currency: "EUR", TaxRatePercent: dec("19"), Lines: []quote.Line{
				// 3 × 19.99 = 59.97; 10% = 5.997 → 6.00
				{SKU: "A", Quantity: dec("3"), UnitPrice: money.MustParse("EUR", "19.99"), DiscountPercent: pct("10")},
				// 2.5 × 10.125 = 25.3125 → 25.31; 1.31 off
				{SKU: "B", Quantity: dec("2.5"), UnitPrice: money.MustParse("EUR", "10.125"), DiscountAmount: amt("EUR", "1.31")},
				// 1 × 0.005 = 0.005 → 0.01 (half away from zero)
				{SKU: "C", Quantity: dec("1"), UnitPrice: money.MustParse("EUR", "0.005")},
			}},
			lines: [][3]string{{"EUR 59.97", "EUR 6.00", "EUR 53.97"}, {"EUR 25.31", "EUR 1.31", "EUR 24.00"},
				{"EUR 0.01", "EUR 0.00", "EUR 0.01"}},
			// net 77.98 × 19% = 14.8162 → 14.82
			totals: [5]string{"EUR 85.29", "EUR 7.31", "EUR 77.98", "EUR 14.82", "EUR 92.80"},
		},
		{
			name: "JPY: no minor unit",
			q: quote.Quote{Currency: "JPY", TaxRatePercent: dec("10"), Lines: []quote.Line{
				// 3 × 333.5 = 1000.5 → 1001; 15% = 150.15 → 150
				{SKU: "A", Quantity: dec("3"), UnitPrice: money.MustParse("JPY", "333.5"), DiscountPercent: pct("15")},
				{SKU: "B", Quantity: dec("1"), UnitPrice: money.MustParse("JPY", "1000"), DiscountAmount: amt("JPY", "100")},
			}},
			lines: [][3]string{{"JPY 1001", "JPY 150", "JPY 851"}, {"JPY 1000", "JPY 100", "JPY 900"}},
			// 1751 × 10% = 175.1 → 175
			totals: [5]string{"JPY 2001", "JPY 250", "JPY 1751", "JPY 175", "JPY 1926"},
		},
		{
			name: "KWD: three decimals",
			q: quote.Quote{Currency: "KWD", TaxRatePercent: dec("5"), Lines: []quote.Line{
				// 7 × 1.2345 = 8.6415 → 8.642; 12.5% = 1.08025 → 1.080
				{SKU: "A", Quantity: dec("7"), UnitPrice: money.MustParse("KWD", "1.2345"), DiscountPercent: pct("12.5")},
			}},
			lines: [][3]string{{"KWD 8.642", "KWD 1.080", "KWD 7.562"}},
			// 7.562 × 5% = 0.3781 → 0.378
			totals: [5]string{"KWD 8.642", "KWD 1.080", "KWD 7.562", "KWD 0.378", "KWD 7.940"},
		},
		{
			name: "tax is rounded once at quote level, not per line",
			q: quote.Quote{Currency: "EUR", TaxRatePercent: dec("5"), Lines: []quote.Line{
				line("1", money.MustParse("EUR", "0.10")), line("1", money.MustParse("EUR", "0.10")),
			}},
			lines: [][3]string{{"EUR 0.10", "EUR 0.00", "EUR 0.10"}, {"EUR 0.10", "EUR 0.00", "EUR 0.10"}},
			// per line 0.005 → 0.01 each would give 0.02; 0.20 × 5% = 0.01
			totals: [5]string{"EUR 0.20", "EUR 0.00", "EUR 0.20", "EUR 0.01", "EUR 0.21"},
		},
		{
			name: "100% discount and zero tax",
			q: quote.Quote{Currency: "USD", Lines: []quote.Line{
				{SKU: "A", Quantity: dec("0.333"), UnitPrice: money.MustParse("USD", "3"), DiscountPercent: pct("100")},
			}},
			lines:  [][3]string{{"USD 1.00", "USD 1.00", "USD 0.00"}},
			totals: [5]string{"USD 1.00", "USD 1.00", "USD 0.00", "USD 0.00", "USD 0.00"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			lines, totals := strs(quote.Compute(tc.q))
			assert.Equal(t, tc.lines, lines)
			assert.Equal(t, tc.totals, totals)
		})
	}
}

func TestComputeDoesNotModifyItsInput(t *testing.T) {
	t.Parallel()
	q := quote.Quote{Currency: "EUR", Lines: []quote.Line{line("2", money.MustParse("EUR", "5"))}}
	c := quote.Compute(q)
	assert.True(t, q.Lines[0].Subtotal.IsZero())
	assert.Equal(t, "EUR 10.00", c.Lines[0].Subtotal.String())
}

func TestValidate(t *testing.T) {
	t.Parallel()
	valid := func() quote.Quote {
		return quote.Quote{Currency: "EUR", ValidUntil: civil.New(2025, time.June, 30), TaxRatePercent: dec("19"),
			Lines: []quote.Line{line("1", money.MustParse("EUR", "100"))}}
	}
	for _, tc := range []struct {
		name   string
		edit   func(*quote.Quote)
		fields []string
	}{
		{"valid", func(*quote.Quote) {}, nil},
		{"no lines", func(q *quote.Quote) { q.Lines = nil }, []string{"lines"}},
		{"unit price in another currency", func(q *quote.Quote) {
			q.Lines = append(q.Lines, line("1", money.MustParse("EUR", "1")), line("1", money.MustParse("USD", "1")))
		}, []string{"lines[2].unit_price"}},
		{"empty currencies take the quote's", func(q *quote.Quote) {
			q.Lines[0].UnitPrice.Currency = ""
			q.Lines[0].DiscountAmount = &money.Money{Amount: dec("5")}
		}, nil},
		{"discount amount in another currency", func(q *quote.Quote) { q.Lines[0].DiscountAmount = amt("USD", "1") },
			[]string{"lines[0].discount_amount"}},
		{"both discounts", func(q *quote.Quote) {
			q.Lines[0].DiscountAmount, q.Lines[0].DiscountPercent = amt("EUR", "1"), pct("5")
		}, []string{"lines[0].discount_amount"}},
		{"discount over 100%", func(q *quote.Quote) { q.Lines[0].DiscountPercent = pct("100.01") }, []string{"lines[0].discount_percent"}},
		{"negative discount", func(q *quote.Quote) { q.Lines[0].DiscountPercent = pct("-1") }, []string{"lines[0].discount_percent"}},
		{"discount amount over the subtotal", func(q *quote.Quote) { q.Lines[0].DiscountAmount = amt("EUR", "100.01") },
			[]string{"lines[0].discount_amount"}},
		{"discount amount below the minor unit", func(q *quote.Quote) { q.Lines[0].DiscountAmount = amt("EUR", "1.005") },
			[]string{"lines[0].discount_amount"}},
		{"quantity zero", func(q *quote.Quote) { q.Lines[0].Quantity = dec("0") }, []string{"lines[0].quantity"}},
		{"quantity negative", func(q *quote.Quote) { q.Lines[0].Quantity = dec("-2") }, []string{"lines[0].quantity"}},
		{"quantity with 10 decimals", func(q *quote.Quote) { q.Lines[0].Quantity = dec("1.0000000001") }, []string{"lines[0].quantity"}},
		{"negative unit price", func(q *quote.Quote) { q.Lines[0].UnitPrice = money.MustParse("EUR", "-1") }, []string{"lines[0].unit_price"}},
		{"unit price with 10 decimals", func(q *quote.Quote) { q.Lines[0].UnitPrice = money.MustParse("EUR", "0.0000000001") },
			[]string{"lines[0].unit_price"}},
		{"subtotal too large", func(q *quote.Quote) {
			q.Lines[0].Quantity = dec("999999999999")
			q.Lines[0].UnitPrice = money.MustParse("EUR", "99999999999")
		},
			[]string{"lines[0].quantity"}},
		{"total too large", func(q *quote.Quote) {
			big := line("6", money.MustParse("EUR", "900000000000000000")) // 5.4e18 each, 1.08e19 together
			q.Lines = []quote.Line{big, big}
		}, []string{"lines"}},
		{"duplicate line ids and no sku or description", func(q *quote.Quote) {
			q.Lines = []quote.Line{
				{LineID: "x", SKU: "A", Quantity: dec("1"), UnitPrice: money.MustParse("EUR", "1")},
				{LineID: "x", Quantity: dec("1"), UnitPrice: money.MustParse("EUR", "1")},
			}
		}, []string{"lines[1].line_id", "lines[1].description"}},
		{"tax rate over 100", func(q *quote.Quote) { q.TaxRatePercent = dec("101") }, []string{"tax_rate_percent"}},
		{"no validity", func(q *quote.Quote) { q.ValidUntil = civil.Date{} }, []string{"valid_until"}},
		{"one violation per bad field", func(q *quote.Quote) {
			q.Lines[0].Quantity = dec("0")
			q.Lines[0].UnitPrice = money.MustParse("USD", "1")
			q.Lines[0].DiscountPercent = pct("200")
			q.TaxRatePercent = dec("-1")
		}, []string{"lines[0].quantity", "lines[0].unit_price", "lines[0].discount_percent", "tax_rate_percent"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			q := valid()
			tc.edit(&q)
			var v apperr.Violations
			quote.Validate(quote.Normalize(q), &v)
			var fields []string
			for _, f := range v {
				fields = append(fields, f.Field)
			}
			assert.Equal(t, tc.fields, fields)
		})
	}
}

func TestNormalize(t *testing.T) {
	t.Parallel()
	q := quote.Normalize(quote.Quote{Currency: "EUR", Name: "  Offer ", Lines: []quote.Line{
		{SKU: " A ", Description: " first ", Quantity: dec("1"), UnitPrice: money.Money{Amount: dec("1")}},
		{LineID: "custom", SKU: "B", Quantity: dec("1"), UnitPrice: money.MustParse("eur", "1")},
		{SKU: "C", Quantity: dec("1"), UnitPrice: money.MustParse("EUR", "1")},
	}})
	assert.Equal(t, "Offer", q.Name)
	require.Len(t, q.Lines, 3)
	assert.Equal(t, []string{"1", "custom", "3"}, []string{q.Lines[0].LineID, q.Lines[1].LineID, q.Lines[2].LineID})
	assert.Equal(t, "A", q.Lines[0].SKU)
	assert.Equal(t, "first", q.Lines[0].Description)
	assert.Equal(t, "EUR", q.Lines[0].UnitPrice.Currency)
	assert.Equal(t, "EUR", q.Lines[1].UnitPrice.Currency)
}

func TestSameContent(t *testing.T) {
	t.Parallel()
	a := quote.Quote{Name: "Q", TaxRatePercent: dec("19"), ValidUntil: civil.New(2025, 6, 30), Lines: []quote.Line{
		{LineID: "1", SKU: "A", Quantity: dec("2"), UnitPrice: money.MustParse("EUR", "10"), DiscountPercent: pct("5")}}}
	b := a.Clone()
	b.Lines[0].Quantity = dec("2.000")
	b.TaxRatePercent = dec("19.0")
	b.Status, b.Version = quote.StatusSent, 3
	assert.True(t, a.SameContent(b), "decimals compare by value; status and version are not content")
	b.Lines[0].DiscountPercent = pct("6")
	assert.False(t, a.SameContent(b))
	b.Lines[0].DiscountPercent = nil
	assert.False(t, a.SameContent(b))
}

func TestStatus(t *testing.T) {
	t.Parallel()
	assert.True(t, quote.StatusDraft.Open())
	assert.True(t, quote.StatusSent.Open())
	for _, s := range []quote.Status{quote.StatusAccepted, quote.StatusRejected, quote.StatusExpired, quote.StatusSuperseded} {
		assert.False(t, s.Open(), s.String())
	}
	assert.Equal(t, "SUPERSEDED", quote.StatusSuperseded.String())
}
