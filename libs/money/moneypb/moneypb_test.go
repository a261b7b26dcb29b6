package moneypb_test

import (
	"fmt"
	"testing"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evcrm/evcrm/libs/apperr"
	commonv1 "github.com/evcrm/evcrm/libs/gen/crm/common/v1"
	"github.com/evcrm/evcrm/libs/money"
	"github.com/evcrm/evcrm/libs/money/moneypb"
)

func TestMoneyRoundTrip(t *testing.T) {
	t.Parallel()
	for _, in := range []money.Money{money.MustParse("EUR", "12.5"), money.MustParse("JPY", "-1200"), money.MustParse("USD", "0.000000001")} {
		t.Run(in.String(), func(t *testing.T) {
			t.Parallel()
			p, err := moneypb.ToProto(in)
			require.NoError(t, err)
			back, err := moneypb.FromProto(p)
			require.NoError(t, err)
			assert.True(t, in.Equal(back), "got %s", back)
		})
	}
}

func TestZeroIsUnset(t *testing.T) {
	t.Parallel()
	p, err := moneypb.ToProto(money.Money{})
	require.NoError(t, err)
	assert.Nil(t, p)
	m, err := moneypb.FromProto(nil)
	require.NoError(t, err)
	assert.True(t, m.IsZero())
	d, err := moneypb.DecimalFromProto(nil)
	require.NoError(t, err)
	assert.True(t, d.IsZero())
}

func TestToProtoRefusesWhatTheWireCannotHold(t *testing.T) {
	t.Parallel()
	for _, in := range []string{"0.0000000001", "9223372036854775808"} {
		_, err := moneypb.ToProto(money.New("EUR", decimal.RequireFromString(in)))
		assert.Error(t, err, in)
	}
}

func TestRequestsReportFieldViolations(t *testing.T) {
	t.Parallel()
	_, err := moneypb.FromRequest(&commonv1.Money{CurrencyCode: "EUR", Units: 1, Nanos: -1}, "deal.amount")
	assert.Equal(t, apperr.Invalid, apperr.KindOf(err), "%v", err)
	assert.Contains(t, err.Error(), "deal.amount")

	_, err = moneypb.DecimalFromRequest(&commonv1.Decimal{Value: "1e3"}, "quantity")
	assert.Equal(t, apperr.Invalid, apperr.KindOf(err), "%v", err)
	assert.Contains(t, err.Error(), "quantity")

	d, err := moneypb.DecimalFromRequest(moneypb.DecimalToProto(decimal.RequireFromString("12.50")), "quantity")
	require.NoError(t, err)
	assert.Equal(t, "12.5", d.String())
}

func ExampleFromRequest() {
	m, err := moneypb.FromRequest(&commonv1.Money{CurrencyCode: "EUR", Units: 12, Nanos: 500_000_000}, "amount")
	fmt.Println(m, err)
	_, err = moneypb.FromRequest(&commonv1.Money{CurrencyCode: "EUR", Units: 12, Nanos: -5}, "amount")
	fmt.Println(err != nil)
	// Output:
	// EUR 12.50 <nil>
	// true
}
