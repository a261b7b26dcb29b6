package lead

import (
	"fmt"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/evcrm/evcrm/libs/apperr"
	"github.com/evcrm/evcrm/libs/customfield"
	"github.com/evcrm/evcrm/services/leads/internal/domain/dedupe"
	"github.com/evcrm/evcrm/services/leads/internal/domain/territory"
)

// Input limits.
const (
	MaxNameLen         = 100
	MaxTextLen         = 200
	MaxEmailLen        = 254
	MaxPhoneLen        = 40
	MaxWebsiteLen      = 2048
	MaxSourceDetailLen = 500
	MaxNoteLen         = 2000
	MaxEmployeeCount   = 10_000_000
	MaxTags            = 100
	MaxTagLen          = 64
)

var countryRE = regexp.MustCompile(`^[A-Z]{2}$`)

// normalizeDetails trims every text field and upper-cases the country, the form in which
// details are validated and stored. The custom field map is copied.
func normalizeDetails(d Details) Details {
	d = d.clone()
	for _, s := range []*string{&d.FirstName, &d.LastName, &d.Email, &d.Phone, &d.Company,
		&d.JobTitle, &d.Website, &d.Country, &d.Region, &d.City, &d.Industry, &d.SourceDetail,
		&d.UTM.Source, &d.UTM.Medium, &d.UTM.Campaign, &d.UTM.Term, &d.UTM.Content, &d.CampaignID} {
		*s = strings.TrimSpace(*s)
	}
	d.Country = strings.ToUpper(d.Country)
	d.AnnualRevenue.Currency = strings.ToUpper(strings.TrimSpace(d.AnnualRevenue.Currency))
	return d
}

// validateDetails adds one violation per bad field of d among the leaf paths for which touched
// returns true. Paths are the leaf paths ("email", "utm.source", "custom_fields.plan").
func validateDetails(d Details, p Policy, touched func(string) bool, v *apperr.Violations) {
	text := func(path, s string, maxLen int) {
		if touched(path) {
			if msg := checkText(s, maxLen); msg != "" {
				v.Add(path, "%s", msg)
			}
		}
	}
	text(PathFirstName, d.FirstName, MaxNameLen)
	text(PathLastName, d.LastName, MaxNameLen)
	if touched(PathEmail) && d.Email != "" && !ValidEmail(d.Email) {
		v.Add(PathEmail, "is not a valid email address")
	}
	if touched(PathPhone) && d.Phone != "" &&
		(utf8.RuneCountInString(d.Phone) > MaxPhoneLen || dedupe.NormalizePhone(d.Phone) == "") {
		v.Add(PathPhone, "is not a valid phone number (7 to 15 digits, optional + and extension)")
	}
	text(PathCompany, d.Company, MaxTextLen)
	text(PathJobTitle, d.JobTitle, MaxTextLen)
	if touched(PathWebsite) && d.Website != "" && !validWebsite(d.Website) {
		v.Add(PathWebsite, "must be an http(s) URL or a domain name, at most %d characters", MaxWebsiteLen)
	}
	if touched(PathCountry) && d.Country != "" && !countryRE.MatchString(d.Country) {
		v.Add(PathCountry, "must be an ISO 3166-1 alpha-2 code such as DE")
	}
	text(PathRegion, d.Region, MaxTextLen)
	text(PathCity, d.City, MaxTextLen)
	text(PathIndustry, d.Industry, MaxTextLen)
	if touched(PathEmployeeCount) && (d.EmployeeCount < 0 || d.EmployeeCount > MaxEmployeeCount) {
		v.Add(PathEmployeeCount, "must be between 0 (unknown) and %d", MaxEmployeeCount)
	}
	if touched(PathAnnualRevenue) && !d.AnnualRevenue.IsZero() {
		switch {
		case !d.AnnualRevenue.valid():
			v.Add(PathAnnualRevenue, "must be an amount with an ISO 4217 currency")
		case d.AnnualRevenue.Negative():
			v.Add(PathAnnualRevenue, "must not be negative")
		}
	}
	if touched(PathSource) && !d.Source.Valid() {
		v.Add(PathSource, "must be one of web_form, event, referral, advertisement, social, email, partner, import, other")
	}
	text(PathSourceDetail, d.SourceDetail, MaxSourceDetailLen)
	text(PathUTMSource, d.UTM.Source, MaxTextLen)
	text(PathUTMMedium, d.UTM.Medium, MaxTextLen)
	text(PathUTMCampaign, d.UTM.Campaign, MaxTextLen)
	text(PathUTMTerm, d.UTM.Term, MaxTextLen)
	text(PathUTMContent, d.UTM.Content, MaxTextLen)
	if touched(PathCampaignID) && d.CampaignID != "" && !ValidID(d.CampaignID) {
		v.Add(PathCampaignID, "must match [A-Za-z0-9_-]{1,64}")
	}

	set := map[string]customfield.Value{}
	for name, val := range d.CustomFields {
		if touched(customPrefix + name) {
			set[name] = val
		}
	}
	customfield.ValidateValues(p.CustomFields, set, customPrefix, v)
	for _, name := range customfield.SortedNames(p.CustomFields) {
		if _, has := d.CustomFields[name]; p.CustomFields[name].Required && !has && touched(customPrefix+name) {
			v.Add(customPrefix+name, "is required")
		}
	}

	if (touched(PathEmail) || touched(PathPhone) || touched(PathLastName)) &&
		d.Email == "" && d.Phone == "" && d.LastName == "" {
		v.Add(PathEmail, "a lead needs an email, a phone or a last name")
	}
}

// checkText returns what is wrong with a free-text value, or "".
func checkText(s string, maxLen int) string {
	if utf8.RuneCountInString(s) > maxLen {
		return fmt.Sprintf("must be at most %d characters", maxLen)
	}
	if strings.IndexFunc(s, unicode.IsControl) >= 0 {
		return "must not contain control characters"
	}
	return ""
}

// ValidEmail reports whether s is a plain addr-spec ("jane@acme.com"; no display name), at most
// 254 characters, whose domain has a dot.
func ValidEmail(s string) bool {
	if len(s) > MaxEmailLen {
		return false
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return false
	}
	domain := s[strings.LastIndexByte(s, '@')+1:]
	return strings.Contains(domain, ".") && !strings.HasPrefix(domain, ".") && !strings.HasSuffix(domain, ".")
}

func validWebsite(s string) bool {
	if len(s) > MaxWebsiteLen || strings.ContainsAny(s, " \t\r\n") {
		return false
	}
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return false
	}
	host := u.Hostname()
	return strings.Contains(host, ".") && !strings.HasPrefix(host, ".") && !strings.HasSuffix(host, ".")
}

// NormalizeTag returns the stored form of a tag: trimmed, lower-case, inner white space
// collapsed to one space.
func NormalizeTag(t string) string {
	return strings.Join(strings.Fields(strings.ToLower(t)), " ")
}

// normalizeTags validates and normalises tags into a sorted set; violations are "<field>[i]".
func normalizeTags(tags []string, field string, v *apperr.Violations) []string {
	var out []string
	for i, t := range tags {
		n := NormalizeTag(t)
		if n == "" || utf8.RuneCountInString(n) > MaxTagLen || strings.IndexFunc(n, unicode.IsControl) >= 0 {
			v.Add(fmt.Sprintf("%s[%d]", field, i), "must be 1 to %d printable characters", MaxTagLen)
			continue
		}
		out = append(out, n)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func validateOwner(field, id string, v *apperr.Violations) {
	if id != "" && !territory.ValidUserID(id) {
		v.Add(field, "must be a user id (1 to 128 printable characters, no spaces)")
	}
}
