package lead

import (
	"github.com/evcrm/evcrm/libs/customfield"
	"github.com/evcrm/evcrm/libs/fieldpath"
)

// Field-mask paths of Details. UpdateDetails accepts these, "utm" (all five UTM fields),
// "custom_fields" (the whole map) and "custom_fields.<name>"; events list leaf paths only.
const (
	PathFirstName     = "first_name"
	PathLastName      = "last_name"
	PathEmail         = "email"
	PathPhone         = "phone"
	PathCompany       = "company"
	PathJobTitle      = "job_title"
	PathWebsite       = "website"
	PathCountry       = "country"
	PathRegion        = "region"
	PathCity          = "city"
	PathIndustry      = "industry"
	PathEmployeeCount = "employee_count"
	PathAnnualRevenue = "annual_revenue"
	PathSource        = "source"
	PathSourceDetail  = "source_detail"
	PathUTMSource     = "utm.source"
	PathUTMMedium     = "utm.medium"
	PathUTMCampaign   = "utm.campaign"
	PathUTMTerm       = "utm.term"
	PathUTMContent    = "utm.content"
	PathCampaignID    = "campaign_id"
	PathEmailOptOut   = "email_opt_out"
	PathDoNotContact  = "do_not_contact"
	PathUTM           = "utm"
	PathCustomFields  = fieldpath.CustomFields
	customPrefix      = fieldpath.CustomPrefix
)

// fields lists the leaves of Details in canonical order.
var fields = fieldpath.New(func(d *Details) *map[string]customfield.Value { return &d.CustomFields },
	fieldpath.Value(PathFirstName, func(d *Details) *string { return &d.FirstName }),
	fieldpath.Value(PathLastName, func(d *Details) *string { return &d.LastName }),
	fieldpath.Value(PathEmail, func(d *Details) *string { return &d.Email }),
	fieldpath.Value(PathPhone, func(d *Details) *string { return &d.Phone }),
	fieldpath.Value(PathCompany, func(d *Details) *string { return &d.Company }),
	fieldpath.Value(PathJobTitle, func(d *Details) *string { return &d.JobTitle }),
	fieldpath.Value(PathWebsite, func(d *Details) *string { return &d.Website }),
	fieldpath.Value(PathCountry, func(d *Details) *string { return &d.Country }),
	fieldpath.Value(PathRegion, func(d *Details) *string { return &d.Region }),
	fieldpath.Value(PathCity, func(d *Details) *string { return &d.City }),
	fieldpath.Value(PathIndustry, func(d *Details) *string { return &d.Industry }),
	fieldpath.Value(PathEmployeeCount, func(d *Details) *int64 { return &d.EmployeeCount }),
	fieldpath.Value(PathAnnualRevenue, func(d *Details) *Money { return &d.AnnualRevenue }),
	fieldpath.Value(PathSource, func(d *Details) *Source { return &d.Source }),
	fieldpath.Value(PathSourceDetail, func(d *Details) *string { return &d.SourceDetail }),
	fieldpath.Group(PathUTM, func(d *Details) *UTM { return &d.UTM },
		fieldpath.Value("source", func(u *UTM) *string { return &u.Source }),
		fieldpath.Value("medium", func(u *UTM) *string { return &u.Medium }),
		fieldpath.Value("campaign", func(u *UTM) *string { return &u.Campaign }),
		fieldpath.Value("term", func(u *UTM) *string { return &u.Term }),
		fieldpath.Value("content", func(u *UTM) *string { return &u.Content })),
	fieldpath.Value(PathCampaignID, func(d *Details) *string { return &d.CampaignID }),
	fieldpath.Value(PathEmailOptOut, func(d *Details) *bool { return &d.EmailOptOut }),
	fieldpath.Value(PathDoNotContact, func(d *Details) *bool { return &d.DoNotContact }),
)

// accessors is the set of non-custom leaf paths, which UpdateDetails looks paths up in.
var accessors = func() map[string]bool {
	m := map[string]bool{}
	for _, p := range fields.Paths() {
		m[p] = true
	}
	return m
}()

// Paths returns every leaf path of Details that is not a custom field, in canonical order.
func Paths() []string { return fields.Paths() }

func customName(path string) (string, bool) { return fields.CustomName(path) }

// leafEqual reports whether a and b agree on the leaf path.
func leafEqual(a, b Details, path string) bool { return fields.Equal(a, b, path) }

// leafEmpty reports whether d has no value at the leaf path.
func leafEmpty(d Details, path string) bool { return leafEqual(d, Details{}, path) }

// pick returns a Details holding only the given leaf paths of d.
func pick(d Details, paths []string) Details { return fields.Pick(d, paths...) }

// applyLeaves returns d with the leaf paths taken from src (d's map is not modified).
func applyLeaves(d Details, src Details, paths []string) Details {
	d = d.clone()
	fields.Copy(&d, src, paths...)
	return d
}

// sortLeaves orders leaf paths canonically (scalar paths in Paths order, then custom fields
// by name) and drops duplicates.
func sortLeaves(paths []string) []string { return fields.Sort(paths) }

// customLeaves lists the custom-field leaf paths that have a value in any of ds, in canonical
// order (for merges and whole-map masks).
func customLeaves(ds ...Details) []string { return fields.CustomLeaves(ds...) }
