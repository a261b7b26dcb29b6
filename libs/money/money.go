// Package money is an exact amount in a currency. Amounts are shopspring decimals, never
// floats; arithmetic is exact and rounding happens only where a rule says so (Round: to the
// currency's ISO 4217 minor unit, half away from zero).
//
// On the wire an amount is crm.common.v1.Money: units + nanos/10⁹ with the same sign. FromUnits
// and Units convert, and refuse what the wire form cannot hold (more than 9 fraction digits,
// units beyond int64).
//
// A decimal.Decimal is not comparable with == (equal values may have different exponents), so
// compare Money with Equal.
package money

import (
	"errors"
	"fmt"
	"math"

	"github.com/shopspring/decimal"
)

// MaxFractionDigits is the precision of the wire form (nanos).
const MaxFractionDigits = 9

// MaxAmount is the largest whole amount the wire form's int64 units carry. A running total kept
// below it (and above −MaxAmount) can always be written to an event and read back, whatever
// fraction the next addition brings, so services bound accumulated amounts by it.
var MaxAmount = decimal.NewFromInt(math.MaxInt64)

// Money is an exact amount in a currency. The zero Money has no currency and amount 0.
type Money struct {
	// Currency is an ISO 4217 code, e.g. "EUR".
	Currency string
	// Amount is exact; its exponent is not canonical (10 and 10.00 may differ in it), see Equal.
	Amount decimal.Decimal
}

// New returns amount in currency.
func New(currency string, amount decimal.Decimal) Money {
	return Money{Currency: currency, Amount: amount}
}

// Zero returns 0 in currency.
func Zero(currency string) Money { return Money{Currency: currency} }

// MustParse returns the amount s (ParseDecimal syntax) in currency; it panics on a bad s and is
// meant for constants and tests.
func MustParse(currency, s string) Money {
	d, err := ParseDecimal(s)
	if err != nil {
		panic(err)
	}
	return Money{Currency: currency, Amount: d}
}

// IsZero reports whether m is the zero Money (no currency, amount 0).
func (m Money) IsZero() bool { return m.Currency == "" && m.Amount.IsZero() }

// Sign returns -1, 0 or +1 as the amount is negative, zero or positive.
func (m Money) Sign() int { return m.Amount.Sign() }

// IsNegative reports whether the amount is below zero.
func (m Money) IsNegative() bool { return m.Amount.Sign() < 0 }

// Equal reports whether m and o are the same currency and the same amount (whatever the
// decimal exponents: 10 equals 10.00).
func (m Money) Equal(o Money) bool { return m.Currency == o.Currency && m.Amount.Equal(o.Amount) }

// Round returns m rounded to its currency's minor unit, half away from zero (2.345 EUR → 2.35,
// −2.345 EUR → −2.35, 1234.5 JPY → 1235).
func (m Money) Round() Money {
	m.Amount = m.Amount.Round(MinorUnits(m.Currency))
	return m
}

// Rounded reports whether m has no more decimal places than its currency's minor unit.
func (m Money) Rounded() bool { return HasAtMostFractionDigits(m.Amount, MinorUnits(m.Currency)) }

// ErrCurrencyMismatch is returned by arithmetic on amounts of different currencies.
var ErrCurrencyMismatch = errors.New("currency mismatch")

// Add returns m + o; both must be in the same currency.
func (m Money) Add(o Money) (Money, error) {
	if m.Currency != o.Currency {
		return Money{}, fmt.Errorf("add %s to %s: %w", o.Currency, m.Currency, ErrCurrencyMismatch)
	}
	return Money{Currency: m.Currency, Amount: m.Amount.Add(o.Amount)}, nil
}

// Sub returns m − o; both must be in the same currency.
func (m Money) Sub(o Money) (Money, error) {
	if m.Currency != o.Currency {
		return Money{}, fmt.Errorf("subtract %s from %s: %w", o.Currency, m.Currency, ErrCurrencyMismatch)
	}
	return Money{Currency: m.Currency, Amount: m.Amount.Sub(o.Amount)}, nil
}

// Mul returns m × f, exact (not rounded).
func (m Money) Mul(f decimal.Decimal) Money {
	return Money{Currency: m.Currency, Amount: m.Amount.Mul(f)}
}

// Percent returns m × p / 100, exact (not rounded). Dividing by 100 is a decimal shift, so no
// division precision is involved.
func (m Money) Percent(p decimal.Decimal) Money {
	return Money{Currency: m.Currency, Amount: m.Amount.Mul(p).Shift(-2)}
}

// Cmp compares the amounts of m and o, which must be in the same currency.
func (m Money) Cmp(o Money) (int, error) {
	if m.Currency != o.Currency {
		return 0, fmt.Errorf("compare %s with %s: %w", o.Currency, m.Currency, ErrCurrencyMismatch)
	}
	return m.Amount.Cmp(o.Amount), nil
}

// String renders m for humans and logs: "EUR 12.50", "JPY 1200", "USD 0.0015" (the minor unit's
// places, more when the amount has more).
func (m Money) String() string {
	places := MinorUnits(m.Currency)
	s := m.Amount.String()
	if HasAtMostFractionDigits(m.Amount, places) {
		s = m.Amount.StringFixed(places)
	}
	if m.Currency == "" {
		return s
	}
	return m.Currency + " " + s
}

var (
	maxUnits = decimal.NewFromInt(math.MaxInt64)
	minUnits = decimal.NewFromInt(math.MinInt64)
)

// Units returns the wire form of m's amount: whole units and nano units of the same sign. It
// fails when the amount has more than 9 fraction digits or its whole part does not fit int64.
func (m Money) Units() (units int64, nanos int32, err error) {
	return DecimalUnits(m.Amount)
}

// Fits reports whether m can be written in the wire form (see Units).
func (m Money) Fits() bool {
	_, _, err := m.Units()
	return err == nil
}

// DecimalUnits splits d into whole units and nano units of the same sign (see Money.Units).
func DecimalUnits(d decimal.Decimal) (units int64, nanos int32, err error) {
	if !HasAtMostFractionDigits(d, MaxFractionDigits) {
		return 0, 0, fmt.Errorf("amount %s has more than %d fraction digits", d, MaxFractionDigits)
	}
	whole := d.Truncate(0)
	if whole.GreaterThan(maxUnits) || whole.LessThan(minUnits) {
		return 0, 0, fmt.Errorf("amount %s does not fit 64-bit units", d)
	}
	return whole.IntPart(), int32(d.Sub(whole).Shift(MaxFractionDigits).IntPart()), nil
}

// FromUnits builds an amount from the wire form. Units and nanos must have the same sign (or be
// zero) and |nanos| < 10⁹.
func FromUnits(currency string, units int64, nanos int32) (Money, error) {
	d, err := DecimalFromUnits(units, nanos)
	if err != nil {
		return Money{}, err
	}
	return Money{Currency: currency, Amount: d}, nil
}

// DecimalFromUnits builds a decimal from units and nanos (see FromUnits).
func DecimalFromUnits(units int64, nanos int32) (decimal.Decimal, error) {
	if nanos <= -1e9 || nanos >= 1e9 {
		return decimal.Decimal{}, fmt.Errorf("nanos %d out of range (-999999999…999999999)", nanos)
	}
	if (units > 0 && nanos < 0) || (units < 0 && nanos > 0) {
		return decimal.Decimal{}, fmt.Errorf("units %d and nanos %d have different signs", units, nanos)
	}
	return decimal.NewFromInt(units).Add(decimal.New(int64(nanos), -MaxFractionDigits)), nil
}

// HasAtMostFractionDigits reports whether d needs no more than n digits after the decimal point
// (trailing zeros do not count: 1.500 has 1).
func HasAtMostFractionDigits(d decimal.Decimal, n int32) bool {
	return d.Equal(d.Truncate(n))
}

// Sum adds amounts of one currency; it returns the zero amount in currency for none.
func Sum(currency string, ms ...Money) (Money, error) {
	total := Zero(currency)
	for _, m := range ms {
		var err error
		if total, err = total.Add(m); err != nil {
			return Money{}, err
		}
	}
	return total, nil
}
