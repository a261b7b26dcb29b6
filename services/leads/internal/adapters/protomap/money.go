package protomap

import (
	"regexp"

	"github.com/evcrm/evcrm/libs/apperr"
	commonv1 "github.com/evcrm/evcrm/libs/gen/crm/common/v1"
	"github.com/evcrm/evcrm/services/leads/internal/domain/lead"
)

// MoneyToProto maps an amount; the zero Money (unknown) is an unset field.
func MoneyToProto(m lead.Money) *commonv1.Money {
	if m.IsZero() {
		return nil
	}
	return &commonv1.Money{CurrencyCode: m.Currency, Units: m.Units, Nanos: m.Nanos}
}

// moneyFromProto maps an amount as it is, without checks (for events and read models).
func moneyFromProto(p *commonv1.Money) lead.Money {
	return lead.Money{Currency: p.GetCurrencyCode(), Units: p.GetUnits(), Nanos: p.GetNanos()}
}

var currencyRE = regexp.MustCompile(`^[A-Z]{3}$`)

// MoneyFromProto maps an amount from a request. An unset or all-zero Money is the zero Money
// (unknown). Otherwise the currency must be three upper-case letters (ISO 4217), nanos within
// ±999,999,999 and of the same sign as units; if not, the error is Invalid with one violation
// for field.
func MoneyFromProto(p *commonv1.Money, field string) (lead.Money, error) {
	var v apperr.Violations
	m := checkMoney(p, field, &v)
	if err := v.Err("invalid amount"); err != nil {
		return lead.Money{}, err
	}
	return m, nil
}

// checkMoney adds at most one violation for field and returns the amount (zero when invalid).
func checkMoney(p *commonv1.Money, field string, v *apperr.Violations) lead.Money {
	m := moneyFromProto(p)
	if m.IsZero() {
		return m
	}
	switch {
	case !currencyRE.MatchString(m.Currency):
		v.Add(field, "currency_code must be an ISO 4217 code of three upper-case letters, got %q", m.Currency)
	case m.Nanos <= -1e9 || m.Nanos >= 1e9:
		v.Add(field, "nanos must be between -999999999 and 999999999")
	case (m.Units > 0 && m.Nanos < 0) || (m.Units < 0 && m.Nanos > 0):
		v.Add(field, "units and nanos must have the same sign")
	default:
		return m
	}
	return lead.Money{}
}
