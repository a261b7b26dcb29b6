package account

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/customfield"
	"github.com/evcrm/evcrm/services/leads/internal/domain/dedupe"
	"github.com/evcrm/evcrm/services/leads/internal/domain/lead"
	"github.com/evcrm/evcrm/services/leads/internal/domain/scoring"
	"github.com/evcrm/evcrm/services/leads/internal/domain/territory"
)

// Input limits.
const (
	MaxNameLen        = 200
	MaxTextLen        = 200
	MaxDescriptionLen = 5000
	MaxStreetLen      = 500
	MaxPhoneLen       = 40
	MaxWebsiteLen     = 2048
	MaxEmployeeCount  = 10_000_000
)

// Field is the request field that holds the account in CreateAccount and UpdateAccount;
// violation paths start with it ("account.billing_address.country").
const Field = "account."

var countryRE = regexp.MustCompile(`^[A-Z]{2}$`)

// Normalize returns d in the form it is validated and stored in: text trimmed, countries and
// currency upper case, the domain normalised (taken from the website when empty), tags a
// sorted set. Bad tags are reported to v.
func Normalize(d Details, v *apperr.Violations) Details {
	d = d.clone()
	for _, s := range []*string{&d.Name, &d.Website, &d.Industry, &d.Phone, &d.ParentAccountID,
		&d.OwnerID, &d.TerritoryID, &d.Description} {
		*s = strings.TrimSpace(*s)
	}
	for _, a := range []*Address{&d.BillingAddress, &d.ShippingAddress} {
		*a = NormalizeAddress(*a)
	}
	d.AnnualRevenue.Currency = strings.ToUpper(strings.TrimSpace(d.AnnualRevenue.Currency))
	if raw := strings.TrimSpace(d.Domain); raw != "" {
		if n := NormalizeDomain(raw); n != "" {
			d.Domain = n
		} else {
			v.Add(Field+PathDomain, "must be a domain name such as acme.com")
		}
	}
	d.Tags = NormalizeTags(d.Tags, Field+PathTags, v)
	return d
}

// NormalizeAddress trims every field and upper-cases the country.
func NormalizeAddress(a Address) Address {
	for _, s := range []*string{&a.Street, &a.City, &a.Region, &a.PostalCode, &a.Country} {
		*s = strings.TrimSpace(*s)
	}
	a.Country = strings.ToUpper(a.Country)
	return a
}

// NormalizeTags validates and normalises tags into a sorted set; violations are "<field>[i]".
func NormalizeTags(tags []string, field string, v *apperr.Violations) []string {
	var out []string
	for i, t := range tags {
		n := lead.NormalizeTag(t)
		if n == "" || utf8.RuneCountInString(n) > lead.MaxTagLen || strings.IndexFunc(n, unicode.IsControl) >= 0 {
			v.Add(fmt.Sprintf("%s[%d]", field, i), "must be 1 to %d printable characters", lead.MaxTagLen)
			continue
		}
		out = append(out, n)
	}
	slices.Sort(out)
	out = slices.Compact(out)
	if len(out) > lead.MaxTags {
		v.Add(field, "at most %d tags", lead.MaxTags)
	}
	return out
}

// CheckText returns what is wrong with a free-text value, or "". Newlines are allowed when
// multiline is set.
func CheckText(s string, maxLen int, multiline bool) string {
	if utf8.RuneCountInString(s) > maxLen {
		return fmt.Sprintf("must be at most %d characters", maxLen)
	}
	if strings.IndexFunc(s, func(r rune) bool {
		return unicode.IsControl(r) && !(multiline && (r == '\n' || r == '\r' || r == '\t'))
	}) >= 0 {
		return "must not contain control characters"
	}
	return ""
}

// ValidateAddress adds violations for the touched fields of a, paths under prefix
// ("account.billing_address.").
func ValidateAddress(a Address, prefix string, touched func(leaf string) bool, v *apperr.Violations) {
	for _, leaf := range addressLeaves {
		if !touched(leaf) {
			continue
		}
		s := *AddressField(&a, leaf)
		limit, multi := MaxTextLen, false
		if leaf == "street" {
			limit, multi = MaxStreetLen, true
		}
		if msg := CheckText(s, limit, multi); msg != "" {
			v.Add(prefix+leaf, "%s", msg)
		}
	}
	if touched("country") && a.Country != "" && !countryRE.MatchString(a.Country) {
		v.Add(prefix+"country", "must be an ISO 3166-1 alpha-2 code such as DE")
	}
}

// ValidPhone reports whether s is a usable phone number.
func ValidPhone(s string) bool {
	return utf8.RuneCountInString(s) <= MaxPhoneLen && dedupe.NormalizePhone(s) != ""
}

// ValidMoney reports whether m is unknown or a well-formed, non-negative amount.
func ValidMoney(m lead.Money) bool {
	if m.IsZero() {
		return true
	}
	if !scoring.ValidCurrency(m.Currency) || m.Nanos <= -1e9 || m.Nanos >= 1e9 || m.Negative() {
		return false
	}
	return !(m.Units > 0 && m.Nanos < 0)
}

// ValidateCustom checks the touched custom values against the definitions, paths under prefix
// ("account.custom_fields.").
func ValidateCustom(values map[string]customfield.Value, defs map[string]customfield.Definition, prefix string, touched func(path string) bool, v *apperr.Violations) {
	set := map[string]customfield.Value{}
	for name, val := range values {
		if touched(PathCustomFields + "." + name) {
			set[name] = val
		}
	}
	customfield.ValidateValues(defs, set, prefix, v)
	for _, name := range customfield.SortedNames(defs) {
		if _, has := values[name]; defs[name].Required && !has && touched(PathCustomFields+"."+name) {
			v.Add(prefix+name, "is required")
		}
	}
}

// validate adds one violation per bad touched leaf of d.
func validate(d Details, p Policy, touched func(string) bool, v *apperr.Violations) {
	text := func(path, s string, maxLen int, multi bool) {
		if touched(path) {
			if msg := CheckText(s, maxLen, multi); msg != "" {
				v.Add(Field+path, "%s", msg)
			}
		}
	}
	if touched(PathName) && d.Name == "" {
		v.Add(Field+PathName, "is required")
	}
	text(PathName, d.Name, MaxNameLen, false)
	if touched(PathWebsite) && d.Website != "" && (len(d.Website) > MaxWebsiteLen || NormalizeDomain(d.Website) == "" || strings.ContainsAny(d.Website, " \t\r\n")) {
		v.Add(Field+PathWebsite, "must be an http(s) URL or a domain name, at most %d characters", MaxWebsiteLen)
	}
	text(PathIndustry, d.Industry, MaxTextLen, false)
	if touched(PathEmployeeCount) && (d.EmployeeCount < 0 || d.EmployeeCount > MaxEmployeeCount) {
		v.Add(Field+PathEmployeeCount, "must be between 0 (unknown) and %d", MaxEmployeeCount)
	}
	if touched(PathAnnualRevenue) && !ValidMoney(d.AnnualRevenue) {
		v.Add(Field+PathAnnualRevenue, "must be a non-negative amount with an ISO 4217 currency")
	}
	for _, pre := range []string{PathBilling, PathShipping} {
		a := d.BillingAddress
		if pre == PathShipping {
			a = d.ShippingAddress
		}
		ValidateAddress(a, Field+pre+".", func(leaf string) bool { return touched(pre + "." + leaf) }, v)
	}
	if touched(PathPhone) && d.Phone != "" && !ValidPhone(d.Phone) {
		v.Add(Field+PathPhone, "is not a valid phone number (7 to 15 digits, optional + and extension)")
	}
	if touched(PathParentAccountID) && d.ParentAccountID != "" && !ValidID(d.ParentAccountID) {
		v.Add(Field+PathParentAccountID, "must match [A-Za-z0-9_-]{1,64}")
	}
	if touched(PathOwnerID) && d.OwnerID != "" && !territory.ValidUserID(d.OwnerID) {
		v.Add(Field+PathOwnerID, "must be a user id (1 to 128 printable characters, no spaces)")
	}
	if touched(PathTerritoryID) && d.TerritoryID != "" && !territory.ValidID(d.TerritoryID) {
		v.Add(Field+PathTerritoryID, "must match [A-Za-z0-9_-]{1,64}")
	}
	if touched(PathType) && !d.Type.Valid() {
		v.Add(Field+PathType, "must be prospect, customer, partner, competitor or other")
	}
	text(PathDescription, d.Description, MaxDescriptionLen, true)
	ValidateCustom(d.CustomFields, p.CustomFields, Field+customPrefix, touched, v)
}
