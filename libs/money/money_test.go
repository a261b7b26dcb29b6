package money_test

import (
	"errors"
	"math"
	"testing"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/evcrm/evcrm/libs/money"
)

func TestMinorUnits(t *testing.T) {
	t.Parallel()
	for cur, want := range map[string]int32{"EUR": 2, "USD": 2, "JPY": 0, "KRW": 0, "CLP": 0, "VND": 0,
		"BHD": 3, "KWD": 3, "OMR": 3, "JOD": 3, "TND": 3, "IQD": 3, "LYD": 3, "CLF": 4, "XYZ": 2} {
		assert.Equal(t, want, money.MinorUnits(cur), cur)
	}
}

func TestRoundHalfAwayFromZero(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ cur, in, want string }{
		{"EUR", "2.345", "2.35"},
		{"EUR", "-2.345", "-2.35"},
		{"EUR", "2.344999", "2.34"},
		{"EUR", "0.005", "0.01"},
		{"EUR", "-0.005", "-0.01"},
		{"EUR", "0.0049", "0"},
		{"EUR", "7", "7"},
		{"JPY", "1234.5", "1235"},
		{"JPY", "-1234.5", "-1235"},
		{"JPY", "1234.49", "1234"},
		{"KWD", "1.2345", "1.235"},
		{"KWD", "-1.2345", "-1.235"},
		{"KWD", "1.23449", "1.234"},
	} {
		t.Run(tc.cur+" "+tc.in, func(t *testing.T) {
			t.Parallel()
			got := money.MustParse(tc.cur, tc.in).Round()
			assert.True(t, got.Equal(money.MustParse(tc.cur, tc.want)), "got %s", got)
			assert.True(t, got.Rounded())
		})
	}
}

func TestUnitsRoundTrip(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in    string
		units int64
		nanos int32
	}{
		{"0", 0, 0},
		{"12.5", 12, 500_000_000},
		{"-1.5", -1, -500_000_000},
		{"-0.000000001", 0, -1},
		{"0.999999999", 0, 999_999_999},
		{"9223372036854775807.999999999", math.MaxInt64, 999_999_999},
		{"-9223372036854775808", math.MinInt64, 0},
	} {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			d := decimal.RequireFromString(tc.in)
			units, nanos, err := money.New("EUR", d).Units()
			require.NoError(t, err)
			assert.Equal(t, tc.units, units)
			assert.Equal(t, tc.nanos, nanos)
			back, err := money.FromUnits("EUR", units, nanos)
			require.NoError(t, err)
			assert.True(t, back.Amount.Equal(d), "got %s", back.Amount)
		})
	}
}

func TestUnitsRejects(t *testing.T) {
	t.Parallel()
	for _, in := range []string{"0.0000000001", "9223372036854775808", "-9223372036854775809"} {
		_, _, err := money.New("EUR", decimal.RequireFromString(in)).Units()
		assert.Error(t, err, in)
		assert.False(t, money.New("EUR", decimal.RequireFromString(in)).Fits(), in)
	}
	for _, tc := range []struct {
		units int64
		nanos int32
	}{{1, -1}, {-1, 1}, {0, 1_000_000_000}, {0, -1_000_000_000}} {
		_, err := money.FromUnits("EUR", tc.units, tc.nanos)
		assert.Error(t, err, "%d %d", tc.units, tc.nanos)
	}
}

func TestArithmetic(t *testing.T) {
	t.Parallel()
	a, b := money.MustParse("EUR", "10.25"), money.MustParse("EUR", "0.75")
	sum, err := a.Add(b)
	require.NoError(t, err)
	assert.Equal(t, "EUR 11.00", sum.String())
	diff, err := a.Sub(b)
	require.NoError(t, err)
	assert.Equal(t, "EUR 9.50", diff.String())
	assert.Equal(t, "EUR 30.75", a.Mul(decimal.NewFromInt(3)).String())
	assert.Equal(t, "EUR 1.5375", a.Percent(decimal.NewFromInt(15)).String(), "percent is exact")
	c, err := a.Cmp(b)
	require.NoError(t, err)
	assert.Equal(t, 1, c)

	_, err = a.Add(money.MustParse("USD", "1"))
	assert.True(t, errors.Is(err, money.ErrCurrencyMismatch))
	_, err = a.Sub(money.MustParse("USD", "1"))
	assert.True(t, errors.Is(err, money.ErrCurrencyMismatch))
	_, err = a.Cmp(money.MustParse("USD", "1"))
	assert.True(t, errors.Is(err, money.ErrCurrencyMismatch))
	total, err := money.Sum("EUR", a, b, a)
	require.NoError(t, err)
	assert.Equal(t, "EUR 21.25", total.String())

	assert.True(t, money.MustParse("EUR", "10").Equal(money.MustParse("EUR", "10.00")))
	assert.False(t, money.MustParse("EUR", "10").Equal(money.MustParse("USD", "10")))
	assert.True(t, money.Money{}.IsZero())
	assert.False(t, money.Zero("EUR").IsZero(), "zero in a currency is a known amount")
	assert.Equal(t, "JPY 1200", money.MustParse("JPY", "1200").String())
	assert.Equal(t, "USD 0.0015", money.MustParse("USD", "0.0015").String())
	assert.Equal(t, "KWD 1.500", money.MustParse("KWD", "1.5").String())
}

func TestParseDecimal(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want string // "" means rejected
	}{
		{"0", "0"},
		{"12", "12"},
		{"-12.50", "-12.5"},
		{"+3.000000000000000001", "3.000000000000000001"},
		{"999999999999999999", "999999999999999999"},
		{"1.", ""},
		{".5", ""},
		{"1e3", ""},
		{"1E-2", ""},
		{" 1", ""},
		{"1,000", ""},
		{"", ""},
		{"-", ""},
		{"0x10", ""},
		{"1.0000000000000000001", ""}, // 19 fraction digits
		{"1000000000000000000", ""},   // 19 integer digits
		{"NaN", ""},
	} {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			d, err := money.ParseDecimal(tc.in)
			if tc.want == "" {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.True(t, d.Equal(decimal.RequireFromString(tc.want)), "got %s", d)
		})
	}
}

func TestValidCurrency(t *testing.T) {
	t.Parallel()
	assert.True(t, money.ValidCurrency("EUR"))
	for _, c := range []string{"", "eur", "EURO", "E1R"} {
		assert.False(t, money.ValidCurrency(c), c)
	}
}
