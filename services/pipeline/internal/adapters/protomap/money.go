package protomap

import (
	"fmt"

	"github.com/shopspring/decimal"

	"github.com/evcrm/evcrm/libs/apperr"
	commonv1 "github.com/evcrm/evcrm/libs/gen/crm/common/v1"
	"github.com/evcrm/evcrm/services/pipeline/internal/domain/money"
)

// Amounts travel as crm.common.v1.Money (units + nanos, never a float) and quantities and
// percents as crm.common.v1.Decimal (a decimal string). The domain's money.Money is a decimal,
// so either direction can fail: an amount with more than 9 fraction digits or beyond int64 units
// has no wire form, and a wire value with nanos out of range or of the other sign than units has
// no amount. Records and events the service wrote never fail; a failure there is corruption and
// an error, while in a request it is a field violation.

// MoneyToProto maps an amount; the zero Money (no currency, 0) is an unset field. It fails when
// the amount has no wire form (see money.Money.Units).
func MoneyToProto(m money.Money) (*commonv1.Money, error) {
	var e encoder
	p := e.money(m)
	return p, e.err
}

// MoneyFromProto maps an amount from a request: an unset field is the zero Money; units and
// nanos must form an amount (|nanos| < 10⁹, same sign as units), else the error is Invalid with
// one violation for field. The currency is passed on as given: the domain normalises and checks
// it, and applies its defaults to an empty one.
func MoneyFromProto(p *commonv1.Money, field string) (money.Money, error) {
	var v apperr.Violations
	m := requestMoney(p, field, &v)
	return m, v.Err("invalid amount")
}

// DecimalToProto maps a decimal (quantities, percents) to its text form.
func DecimalToProto(d decimal.Decimal) *commonv1.Decimal {
	return &commonv1.Decimal{Value: d.String()}
}

// DecimalFromProto maps a decimal from a request: an unset field is 0; a set one must have the
// crm.common.v1.Decimal syntax (money.ParseDecimal), else the error is Invalid with one violation
// for field.
func DecimalFromProto(p *commonv1.Decimal, field string) (decimal.Decimal, error) {
	var v apperr.Violations
	d := requestDecimal(p, field, &v)
	return d, v.Err("invalid decimal")
}

// encoder maps domain values to the wire and keeps the first failure, so a mapping of many
// fields reads as plain assignments and is checked once at the end.
type encoder struct{ err error }

func (e *encoder) money(m money.Money) *commonv1.Money {
	if m.IsZero() {
		return nil
	}
	units, nanos, err := m.Units()
	if err != nil {
		e.fail(fmt.Errorf("amount %s: %w", m, err))
		return nil
	}
	return &commonv1.Money{CurrencyCode: m.Currency, Units: units, Nanos: nanos}
}

func (e *encoder) moneyPtr(m *money.Money) *commonv1.Money {
	if m == nil {
		return nil
	}
	if m.IsZero() {
		// A pointer says "given": zero must stay distinguishable from absent.
		return &commonv1.Money{}
	}
	return e.money(*m)
}

func (e *encoder) fail(err error) {
	if e.err == nil {
		e.err = fmt.Errorf("protomap: %w", err)
	}
}

// decoder maps values the service wrote back to the domain, without the checks of a request
// (enum numbers and strings are taken as written: the log is the truth), and keeps the first
// failure: a value that cannot be mapped at all means a corrupt record.
type decoder struct{ err error }

func (d *decoder) money(p *commonv1.Money, what string) money.Money {
	if p == nil {
		return money.Money{}
	}
	m, err := money.FromUnits(p.GetCurrencyCode(), p.GetUnits(), p.GetNanos())
	if err != nil {
		d.fail(what, err)
		return money.Money{}
	}
	return m
}

func (d *decoder) moneyPtr(p *commonv1.Money, what string) *money.Money {
	if p == nil {
		return nil
	}
	m := d.money(p, what)
	return &m
}

func (d *decoder) decimal(p *commonv1.Decimal, what string) decimal.Decimal {
	if p == nil {
		return decimal.Decimal{}
	}
	v, err := decimal.NewFromString(p.GetValue())
	if err != nil {
		d.fail(what, err)
		return decimal.Decimal{}
	}
	return v
}

func (d *decoder) decimalPtr(p *commonv1.Decimal, what string) *decimal.Decimal {
	if p == nil {
		return nil
	}
	v := d.decimal(p, what)
	return &v
}

func (d *decoder) fail(what string, err error) {
	if d.err == nil {
		d.err = fmt.Errorf("protomap: decode %s: %w", what, err)
	}
}

// requestMoney maps a request amount, adding at most one violation for field (and returning the
// zero Money) when units and nanos do not form an amount.
func requestMoney(p *commonv1.Money, field string, v *apperr.Violations) money.Money {
	if p == nil {
		return money.Money{}
	}
	m, err := money.FromUnits(p.GetCurrencyCode(), p.GetUnits(), p.GetNanos())
	if err != nil {
		v.Add(field, "is not an amount: %v", err)
		return money.Money{}
	}
	return m
}

// requestMoneyPtr is requestMoney for an optional amount: unset is nil.
func requestMoneyPtr(p *commonv1.Money, field string, v *apperr.Violations) *money.Money {
	if p == nil {
		return nil
	}
	m := requestMoney(p, field, v)
	return &m
}

// requestDecimal maps a request decimal (unset is 0), adding a violation for field when the text
// is not in the crm.common.v1.Decimal syntax.
func requestDecimal(p *commonv1.Decimal, field string, v *apperr.Violations) decimal.Decimal {
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

// requestDecimalPtr is requestDecimal for an optional decimal: unset is nil.
func requestDecimalPtr(p *commonv1.Decimal, field string, v *apperr.Violations) *decimal.Decimal {
	if p == nil {
		return nil
	}
	d := requestDecimal(p, field, v)
	return &d
}
