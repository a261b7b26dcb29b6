package campaign

import (
	"fmt"
	"math"
	"regexp"

	"github.com/shopspring/decimal"
)

// Money is an exact amount in a currency. Amount is a canonical decimal string (no exponent,
// no trailing zeros after the point: "12.5"), so Money is comparable with == and update masks
// can compare it; arithmetic goes through shopspring decimals, never floats. The zero Money
// means "not set".
type Money struct {
	// Currency is an ISO 4217 code, e.g. "EUR".
	Currency string
	Amount   string
}

var currencyRE = regexp.MustCompile(`^[A-Z]{3}$`)

// MaxAmount is the largest amount the API's Money (int64 units) carries: a running total
// beyond it could not be written into its event and read back.
var MaxAmount = decimal.NewFromInt(math.MaxInt64)

// ValidCurrency reports whether c looks like an ISO 4217 code (three upper-case letters).
func ValidCurrency(c string) bool { return currencyRE.MatchString(c) }

// NewMoney returns d in currency with a canonical amount.
func NewMoney(currency string, d decimal.Decimal) Money {
	return Money{Currency: currency, Amount: canonical(d)}
}

// IsZero reports whether m is not set.
func (m Money) IsZero() bool { return m == Money{} }

// Decimal returns the amount; "" reads as 0.
func (m Money) Decimal() decimal.Decimal {
	if m.Amount == "" {
		return decimal.Zero
	}
	d, err := decimal.NewFromString(m.Amount)
	if err != nil {
		// Amounts are canonical decimals written by NewMoney; anything else is a bug upstream.
		panic(fmt.Sprintf("campaign: bad amount %q", m.Amount))
	}
	return d
}

// IsNegative reports whether the amount is below zero.
func (m Money) IsNegative() bool { return m.Decimal().Sign() < 0 }

// Add returns m + o in o's currency when m is not set; both must be in the same currency
// otherwise (the caller checked).
func (m Money) Add(o Money) Money {
	cur := m.Currency
	if cur == "" {
		cur = o.Currency
	}
	return NewMoney(cur, m.Decimal().Add(o.Decimal()))
}

func (m Money) String() string {
	if m.IsZero() {
		return ""
	}
	return m.Currency + " " + m.Amount
}

// canonical writes d without exponent and without trailing fraction zeros.
func canonical(d decimal.Decimal) string {
	return d.String()
}

// CanonicalDecimal normalises a decimal's text form ("12.50" → "12.5").
func CanonicalDecimal(d decimal.Decimal) string { return canonical(d) }
