package scoring

import (
	"strings"
	"unicode"
)

// Field names a lead attribute that fit rules can test. The set is fixed: rules over anything
// else are rejected by Validate.
type Field string

// Fields of fit rules.
const (
	FieldJobTitle Field = "job_title"
	// FieldSeniority is derived from the job title by keywords (see SeniorityOf); its values
	// are the Seniority* names.
	FieldSeniority     Field = "seniority"
	FieldCompany       Field = "company"
	FieldIndustry      Field = "industry"
	FieldEmployeeCount Field = "employee_count"
	// FieldAnnualRevenue compares whole currency units; it only matches leads whose revenue is
	// in the model's RevenueCurrency.
	FieldAnnualRevenue Field = "annual_revenue"
	// FieldCountry is the ISO 3166-1 alpha-2 code.
	FieldCountry Field = "country"
	FieldRegion  Field = "region"
	// FieldSource is the lead source name, e.g. "referral" (see lead.Source).
	FieldSource Field = "source"
	// FieldEmailDomain is the part of the email after "@", e.g. to penalise free mail providers.
	FieldEmailDomain Field = "email_domain"
)

type fieldKind int

const (
	kindText fieldKind = iota + 1
	kindEnum           // equals/in only: the values are names from a fixed set
	kindNumber
)

var fieldKinds = map[Field]fieldKind{
	FieldJobTitle: kindText, FieldSeniority: kindEnum, FieldCompany: kindText,
	FieldIndustry: kindText, FieldEmployeeCount: kindNumber, FieldAnnualRevenue: kindNumber,
	FieldCountry: kindText, FieldRegion: kindText, FieldSource: kindEnum, FieldEmailDomain: kindText,
}

// Fields returns every field rules may use, in a stable order.
func Fields() []Field {
	return []Field{FieldJobTitle, FieldSeniority, FieldCompany, FieldIndustry, FieldEmployeeCount,
		FieldAnnualRevenue, FieldCountry, FieldRegion, FieldSource, FieldEmailDomain}
}

// Seniority levels derived from job titles.
const (
	SeniorityCLevel     = "c_level"
	SeniorityVP         = "vp"
	SeniorityDirector   = "director"
	SeniorityManager    = "manager"
	SeniorityIndividual = "individual"
)

var seniorities = map[string]bool{SeniorityCLevel: true, SeniorityVP: true, SeniorityDirector: true,
	SeniorityManager: true, SeniorityIndividual: true}

// Keyword sets, checked in this order so that "Vice President" is a VP and not a president and
// "Managing Director" is a director, not a manager.
var (
	vpWords       = []string{"vp", "svp", "evp", "avp", "vice"}
	cLevelWords   = []string{"ceo", "cto", "cfo", "coo", "cmo", "cio", "ciso", "cro", "cpo", "chief", "founder", "cofounder", "owner", "president"}
	directorWords = []string{"director", "head"}
	managerWords  = []string{"manager", "lead", "supervisor"}
)

// SeniorityOf derives a seniority level from a job title by keywords (whole words,
// case-insensitive; "Co-Founder" counts as "cofounder"). An empty title gives "", any other
// title without a keyword gives SeniorityIndividual. It is a heuristic: "Assistant to the CEO"
// is c_level.
func SeniorityOf(title string) string {
	title = strings.ToLower(strings.ReplaceAll(title, "co-founder", "cofounder"))
	words := strings.FieldsFunc(title, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	if len(words) == 0 {
		return ""
	}
	has := func(set []string) bool {
		for _, w := range words {
			for _, k := range set {
				if w == k {
					return true
				}
			}
		}
		return false
	}
	switch {
	case has(vpWords):
		return SeniorityVP
	case has(cLevelWords):
		return SeniorityCLevel
	case has(directorWords):
		return SeniorityDirector
	case has(managerWords):
		return SeniorityManager
	}
	return SeniorityIndividual
}

// Facts are the lead attributes fit rules look at. The lead package builds them; a zero or
// empty attribute is unknown and matches no rule.
type Facts struct {
	JobTitle    string
	Company     string
	Industry    string
	Country     string
	Region      string
	Source      string
	EmailDomain string
	// EmployeeCount is 0 when unknown.
	EmployeeCount int64
	// AnnualRevenueUnits and AnnualRevenueNanos are the revenue in the model's
	// RevenueCurrency; HasAnnualRevenue is false when it is unknown or in another currency.
	AnnualRevenueUnits int64
	AnnualRevenueNanos int32
	HasAnnualRevenue   bool
}

func (f Facts) text(field Field) string {
	switch field {
	case FieldJobTitle:
		return f.JobTitle
	case FieldSeniority:
		return SeniorityOf(f.JobTitle)
	case FieldCompany:
		return f.Company
	case FieldIndustry:
		return f.Industry
	case FieldCountry:
		return f.Country
	case FieldRegion:
		return f.Region
	case FieldSource:
		return f.Source
	case FieldEmailDomain:
		return f.EmailDomain
	}
	return ""
}

// number returns the numeric field as units+nanos, and whether it is known.
func (f Facts) number(field Field) (int64, int32, bool) {
	switch field {
	case FieldEmployeeCount:
		return f.EmployeeCount, 0, f.EmployeeCount > 0
	case FieldAnnualRevenue:
		return f.AnnualRevenueUnits, f.AnnualRevenueNanos, f.HasAnnualRevenue
	}
	return 0, 0, false
}
