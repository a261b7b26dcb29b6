// Package moneypb maps money.Money and decimals to and from their crm.common.v1 wire forms:
// amounts as Money (units + nanos, never a float), quantities and percents as Decimal (a
// decimal string).
//
// A money.Money is a decimal, so either direction can fail: an amount with more than 9 fraction
// digits or beyond int64 units has no wire form, and a wire value with nanos out of range or of
// the other sign than units has no amount. Values a service wrote itself (events, stored rows)
// go through ToProto and FromProto, where a failure is corruption and a plain error; values
// from a request go through FromRequest or RequestAmount, where it is a field violation
// (apperr Invalid).
package moneypb

import (
	"fmt"

	"github.com/shopspring/decimal"

	"github.com/evcrm/evcrm/libs/apperr"
	commonv1 "github.com/evcrm/evcrm/libs/gen/crm/common/v1"
	"github.com/evcrm/evcrm/libs/money"
)

// ToProto maps an amount; the zero Money (no currency, 0) is an unset field. It fails when the
// amount has no wire form (see money.Money.Units).
func ToProto(m money.Money) (*commonv1.Money, error) {
	if m.IsZero() {
		return nil, nil
	}
	units, nanos, err := m.Units()
	if err != nil {
		return nil, fmt.Errorf("amount %s: %w", m, err)
	}
	return &commonv1.Money{CurrencyCode: m.Currency, Units: units, Nanos: nanos}, nil
}

// FromProto is the inverse of ToProto for values the service wrote: an unset field is the zero
// Money, and units and nanos that do not form an amount are an error.
func FromProto(p *commonv1.Money) (money.Money, error) {
	if p == nil {
		return money.Money{}, nil
	}
	return money.FromUnits(p.GetCurrencyCode(), p.GetUnits(), p.GetNanos())
}

// FromRequest maps an amount from a request: an unset field is the zero Money; units and nanos
// must form an amount (|nanos| < 10⁹, same sign as units), else the error is Invalid with one
// violation for field. The currency is passed on as given: the domain checks it.
func FromRequest(p *commonv1.Money, field string) (money.Money, error) {
	var v apperr.Violations
	m := RequestAmount(p, field, &v)
	return m, v.Err("invalid amount")
}

// RequestAmount is FromRequest for a mapping of many fields: it adds at most one violation for
// field to v (and returns the zero Money) when units and nanos do not form an amount.
func RequestAmount(p *commonv1.Money, field string, v *apperr.Violations) money.Money {
	m, err := FromProto(p)
	if err != nil {
		v.Add(field, "is not an amount: %v", err)
		return money.Money{}
	}
	return m
}

// DecimalToProto maps a decimal (quantities, percents) to its text form.
func DecimalToProto(d decimal.Decimal) *commonv1.Decimal {
	return &commonv1.Decimal{Value: d.String()}
}

// DecimalFromProto is the inverse of DecimalToProto for values the service wrote: an unset
// field is 0, and text that is not a decimal is an error.
func DecimalFromProto(p *commonv1.Decimal) (decimal.Decimal, error) {
	if p == nil {
		return decimal.Decimal{}, nil
	}
	return decimal.NewFromString(p.GetValue())
}

// DecimalFromRequest maps a decimal from a request: an unset field is 0; a set one must have the
// crm.common.v1.Decimal syntax (money.ParseDecimal), else the error is Invalid with one
// violation for field.
func DecimalFromRequest(p *commonv1.Decimal, field string) (decimal.Decimal, error) {
	var v apperr.Violations
	d := RequestDecimal(p, field, &v)
	return d, v.Err("invalid decimal")
}

// RequestDecimal is DecimalFromRequest for a mapping of many fields: it adds a violation for
// field to v (and returns 0) when the text is not in the crm.common.v1.Decimal syntax.
func RequestDecimal(p *commonv1.Decimal, field string, v *apperr.Violations) decimal.Decimal {
	if p == nil {
		return decimal.Decimal{}
	}
	d, err := money.ParseDecimal(p.GetValue())
	if err != nil {
		v.Add(field, "must be a decimal like \"12.5\": an optional sign, up to %d digits, and optionally a point and up to %d digits",
			money.MaxParseIntegerDigits, money.MaxParseFractionDigits)
		return decimal.Decimal{}
	}
	return d
}
