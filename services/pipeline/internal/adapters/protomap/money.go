package protomap

import (
	"fmt"

	"github.com/shopspring/decimal"

	"github.com/evcrm/evcrm/libs/apperr"
	commonv1 "github.com/evcrm/evcrm/libs/gen/crm/common/v1"
	"github.com/evcrm/evcrm/libs/money"
	"github.com/evcrm/evcrm/libs/money/moneypb"
)

// Amounts and decimals are mapped by libs/money/moneypb; this file adapts it to the encoder and
// decoder below and to the optional (pointer) fields of the pipeline's messages. Records and
// events the service wrote never fail; a failure there is corruption and an error, while in a
// request it is a field violation.

// encoder maps domain values to the wire and keeps the first failure, so a mapping of many
// fields reads as plain assignments and is checked once at the end.
type encoder struct{ err error }

func (e *encoder) money(m money.Money) *commonv1.Money {
	p, err := moneypb.ToProto(m)
	if err != nil {
		e.fail(err)
	}
	return p
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
	m, err := moneypb.FromProto(p)
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
	v, err := moneypb.DecimalFromProto(p)
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

// requestMoneyPtr maps an optional request amount: unset is nil (see moneypb.RequestAmount).
func requestMoneyPtr(p *commonv1.Money, field string, v *apperr.Violations) *money.Money {
	if p == nil {
		return nil
	}
	m := moneypb.RequestAmount(p, field, v)
	return &m
}

// requestDecimalPtr maps an optional request decimal: unset is nil (see moneypb.RequestDecimal).
func requestDecimalPtr(p *commonv1.Decimal, field string, v *apperr.Violations) *decimal.Decimal {
	if p == nil {
		return nil
	}
	d := moneypb.RequestDecimal(p, field, v)
	return &d
}
