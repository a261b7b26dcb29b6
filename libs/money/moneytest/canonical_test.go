package moneytest_test

import (
	"testing"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"

	"github.com/evcrm/evcrm/libs/money"
	"github.com/evcrm/evcrm/libs/money/moneytest"
)

type line struct {
	Quantity decimal.Decimal
	Discount *decimal.Decimal
	Price    money.Money
	Tags     []money.Money
}

func TestCanonicalComparesDecimalsByValue(t *testing.T) {
	t.Parallel()
	ten, tenZero := decimal.RequireFromString("10"), decimal.RequireFromString("10.0")
	a := line{Quantity: decimal.RequireFromString("12.5"), Discount: &ten, Price: money.MustParse("EUR", "1.50"),
		Tags: []money.Money{money.MustParse("EUR", "2")}}
	b := line{Quantity: decimal.New(12_500_000_000, -9), Discount: &tenZero, Price: money.MustParse("EUR", "1.5"),
		Tags: []money.Money{money.MustParse("EUR", "2.000")}}
	assert.Equal(t, moneytest.Canonical(a), moneytest.Canonical(b))
	b.Quantity = decimal.RequireFromString("12.6")
	assert.NotEqual(t, moneytest.Canonical(a), moneytest.Canonical(b), "a different value still shows")
}
