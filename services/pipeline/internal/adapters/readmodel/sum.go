package readmodel

import (
	"math"

	"github.com/shopspring/decimal"

	"github.com/evcrm/evcrm/libs/money"
)

// sum adds exact amounts given as units and nanos in int64 arithmetic, the common case, and
// falls back to decimals when a sum leaves int64: the forecast builds thousands of rows and
// decimal additions (big.Int rescaling) would cost more than the SQL that produced them.
type sum struct {
	units, nanos int64 // |nanos| < 10⁹ after each add
	big          *decimal.Decimal
}

const nanosPerUnit = 1_000_000_000

func (s *sum) add(units, nanos int64) {
	if s.big == nil {
		n := s.nanos + nanos%nanosPerUnit // |…| < 2·10⁹
		u, ok := addInt64(s.units, units)
		if ok {
			u, ok = addInt64(u, nanos/nanosPerUnit+n/nanosPerUnit)
		}
		if ok {
			s.units, s.nanos = u, n%nanosPerUnit
			return
		}
		d := s.decimal()
		s.big = &d
	}
	d := s.big.Add(sumDecimal(units, nanos))
	s.big = &d
}

func (s *sum) addSum(o sum) {
	if o.big != nil {
		d := s.decimal().Add(*o.big)
		s.big = &d
		return
	}
	s.add(o.units, o.nanos)
}

func (s sum) decimal() decimal.Decimal {
	if s.big != nil {
		return *s.big
	}
	return sumDecimal(s.units, s.nanos)
}

func addInt64(a, b int64) (int64, bool) {
	c := a + b
	return c, (c > a) == (b > 0)
}

// exact returns the sum unrounded, written with the currency's minor-unit places when that
// loses nothing (10.500000000 EUR reads 10.50), as a sum of amounts in minor units always can.
func (s sum) exact(currency string) money.Money {
	if v, ok := s.scaled(currency, false); ok {
		return v
	}
	m := money.New(currency, s.decimal())
	if m.Rounded() {
		return m.Round()
	}
	return m
}

// rounded returns the sum rounded to the currency's minor unit, half away from zero
// (money.Money.Round).
func (s sum) rounded(currency string) money.Money {
	if v, ok := s.scaled(currency, true); ok {
		return v
	}
	return money.New(currency, s.decimal()).Round()
}

// scaled writes the sum as an integer of minor units when it fits int64; unless round, only
// when no fraction below the minor unit is lost.
func (s sum) scaled(currency string, round bool) (money.Money, bool) {
	places := money.MinorUnits(currency)
	if s.big != nil || places < 0 || places > 9 {
		return money.Money{}, false
	}
	units, nanos := s.units, s.nanos
	// Give nanos the sign of the whole, so that rounding r away from zero is away from zero.
	switch {
	case units > 0 && nanos < 0:
		units, nanos = units-1, nanos+nanosPerUnit
	case units < 0 && nanos > 0:
		units, nanos = units+1, nanos-nanosPerUnit
	}
	step := int64(math.Pow10(int(9 - places)))
	q, r := nanos/step, nanos%step
	if r != 0 {
		if !round {
			return money.Money{}, false
		}
		if 2*abs(r) >= step {
			if r > 0 {
				q++
			} else {
				q--
			}
		}
	}
	scale := int64(math.Pow10(int(places)))
	if units > math.MaxInt64/scale || units < math.MinInt64/scale {
		return money.Money{}, false
	}
	v, ok := addInt64(units*scale, q)
	if !ok {
		return money.Money{}, false
	}
	return money.New(currency, decimal.New(v, -places)), true
}

func abs(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}
