package readmodel

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/evcrm/evcrm/libs/money"
)

// TestSumAgreesWithDecimals checks the int64 fast path against decimal arithmetic, overflow
// into the decimal fallback and mixed signs included.
func TestSumAgreesWithDecimals(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(2, 3))
	for range 2000 {
		var s sum
		want := decimal.Zero
		for range 1 + rng.IntN(6) {
			var u, n int64
			switch rng.IntN(4) {
			case 0:
				u, n = math.MaxInt64-rng.Int64N(10), rng.Int64N(1e9)
			case 1:
				u, n = -rng.Int64N(1000), -rng.Int64N(1e9)
			default:
				u, n = rng.Int64N(1e6), rng.Int64N(1e9)*int64(rng.IntN(3))
			}
			if rng.IntN(2) == 0 {
				var o sum
				o.add(u, n)
				s.addSum(o)
			} else {
				s.add(u, n)
			}
			want = want.Add(sumDecimal(u, n))
		}
		require.True(t, want.Equal(s.decimal()), "%s vs %s", want, s.decimal())
		for _, cur := range []string{"EUR", "JPY", "KWD", "CLF"} {
			require.True(t, money.New(cur, want).Round().Equal(s.rounded(cur)), "%s %s: %s", cur, want, s.rounded(cur))
			require.True(t, money.New(cur, want).Equal(s.exact(cur)), "%s %s: %s", cur, want, s.exact(cur))
		}
	}
	// Halves round away from zero whatever the signs of units and nanos.
	for _, c := range []struct {
		units, nanos int64
		want         string
	}{{1, -500_000_000, "1"}, {-1, 500_000_000, "-1"}, {0, 500_000_000, "1"}, {0, -500_000_000, "-1"}, {2, -499_999_999, "2"}} {
		var s sum
		s.add(c.units, c.nanos)
		require.Equal(t, c.want, s.rounded("JPY").Amount.String(), "%+v", c)
	}
}
