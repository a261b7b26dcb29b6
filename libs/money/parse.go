package money

import (
	"fmt"
	"regexp"

	"github.com/shopspring/decimal"
)

// Limits of ParseDecimal.
const (
	// MaxParseIntegerDigits bounds the whole part: amounts beyond 10¹⁸ do not fit the wire
	// form anyway, and a bound keeps hostile input from building huge numbers.
	MaxParseIntegerDigits = 18
	// MaxParseFractionDigits bounds the fraction part.
	MaxParseFractionDigits = 18
)

var decimalRE = regexp.MustCompile(`^[+-]?[0-9]{1,18}(\.[0-9]{1,18})?$`)

// ParseDecimal reads the decimal text form used on the API (quantities, percents): an optional
// sign, 1 to 18 digits, and optionally a point followed by 1 to 18 digits. No exponent, no
// grouping, no white space, no leading or trailing point ("1.", ".5" are refused) — the form is
// strict so that what a client sends is exactly what is stored.
func ParseDecimal(s string) (decimal.Decimal, error) {
	if !decimalRE.MatchString(s) {
		return decimal.Decimal{}, fmt.Errorf("%q is not a decimal: want an optional sign, up to %d digits, and optionally a point and up to %d digits",
			s, MaxParseIntegerDigits, MaxParseFractionDigits)
	}
	d, err := decimal.NewFromString(s)
	if err != nil {
		return decimal.Decimal{}, fmt.Errorf("parse decimal %q: %w", s, err)
	}
	return d, nil
}
