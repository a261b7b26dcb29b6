package money

import "regexp"

var currencyRE = regexp.MustCompile(`^[A-Z]{3}$`)

// ValidCurrency reports whether c looks like an ISO 4217 code: three upper-case letters. The
// list of codes changes (new currencies, redenominations), so the domain accepts any code of
// that form rather than a table that would go stale.
func ValidCurrency(c string) bool { return currencyRE.MatchString(c) }

// minorUnits lists the ISO 4217 currencies whose minor unit is not 2 decimal places (ISO 4217
// list one, "Minor unit" column). Codes without minor unit ("N.A.", e.g. XAU, XDR) and codes not
// listed use 2, the common case.
var minorUnits = map[string]int32{
	// No minor unit in use.
	"BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0, "PYG": 0,
	"RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
	// Thousandths.
	"BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
	// Ten-thousandths (units of account).
	"CLF": 4, "UYW": 4,
}

// MinorUnits returns the number of decimal places of currency's minor unit: 0 for JPY, 3 for
// KWD, 2 for EUR and any currency not in the exception table.
func MinorUnits(currency string) int32 {
	if n, ok := minorUnits[currency]; ok {
		return n
	}
	return 2
}
