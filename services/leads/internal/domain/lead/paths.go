package lead

import (
	"sort"
	"strings"

	"github.com/evcrm/evcrm/libs/customfield"
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
	PathUTM           = "utm"
	PathCustomFields  = "custom_fields"
	customPrefix      = PathCustomFields + "."
)

type accessor struct {
	get func(Details) any // returns a comparable value; the zero Details gives the "empty" value
	set func(dst *Details, src Details)
}

// scalarPaths are the non-custom leaf paths in canonical order.
var scalarPaths = []string{PathFirstName, PathLastName, PathEmail, PathPhone, PathCompany,
	PathJobTitle, PathWebsite, PathCountry, PathRegion, PathCity, PathIndustry, PathEmployeeCount,
	PathAnnualRevenue, PathSource, PathSourceDetail, PathUTMSource, PathUTMMedium, PathUTMCampaign,
	PathUTMTerm, PathUTMContent, PathCampaignID}

var accessors = map[string]accessor{
	PathFirstName:     {func(d Details) any { return d.FirstName }, func(d *Details, s Details) { d.FirstName = s.FirstName }},
	PathLastName:      {func(d Details) any { return d.LastName }, func(d *Details, s Details) { d.LastName = s.LastName }},
	PathEmail:         {func(d Details) any { return d.Email }, func(d *Details, s Details) { d.Email = s.Email }},
	PathPhone:         {func(d Details) any { return d.Phone }, func(d *Details, s Details) { d.Phone = s.Phone }},
	PathCompany:       {func(d Details) any { return d.Company }, func(d *Details, s Details) { d.Company = s.Company }},
	PathJobTitle:      {func(d Details) any { return d.JobTitle }, func(d *Details, s Details) { d.JobTitle = s.JobTitle }},
	PathWebsite:       {func(d Details) any { return d.Website }, func(d *Details, s Details) { d.Website = s.Website }},
	PathCountry:       {func(d Details) any { return d.Country }, func(d *Details, s Details) { d.Country = s.Country }},
	PathRegion:        {func(d Details) any { return d.Region }, func(d *Details, s Details) { d.Region = s.Region }},
	PathCity:          {func(d Details) any { return d.City }, func(d *Details, s Details) { d.City = s.City }},
	PathIndustry:      {func(d Details) any { return d.Industry }, func(d *Details, s Details) { d.Industry = s.Industry }},
	PathEmployeeCount: {func(d Details) any { return d.EmployeeCount }, func(d *Details, s Details) { d.EmployeeCount = s.EmployeeCount }},
	PathAnnualRevenue: {func(d Details) any { return d.AnnualRevenue }, func(d *Details, s Details) { d.AnnualRevenue = s.AnnualRevenue }},
	PathSource:        {func(d Details) any { return d.Source }, func(d *Details, s Details) { d.Source = s.Source }},
	PathSourceDetail:  {func(d Details) any { return d.SourceDetail }, func(d *Details, s Details) { d.SourceDetail = s.SourceDetail }},
	PathUTMSource:     {func(d Details) any { return d.UTM.Source }, func(d *Details, s Details) { d.UTM.Source = s.UTM.Source }},
	PathUTMMedium:     {func(d Details) any { return d.UTM.Medium }, func(d *Details, s Details) { d.UTM.Medium = s.UTM.Medium }},
	PathUTMCampaign:   {func(d Details) any { return d.UTM.Campaign }, func(d *Details, s Details) { d.UTM.Campaign = s.UTM.Campaign }},
	PathUTMTerm:       {func(d Details) any { return d.UTM.Term }, func(d *Details, s Details) { d.UTM.Term = s.UTM.Term }},
	PathUTMContent:    {func(d Details) any { return d.UTM.Content }, func(d *Details, s Details) { d.UTM.Content = s.UTM.Content }},
	PathCampaignID:    {func(d Details) any { return d.CampaignID }, func(d *Details, s Details) { d.CampaignID = s.CampaignID }},
}

// Paths returns every leaf path of Details that is not a custom field, in canonical order.
func Paths() []string { return append([]string(nil), scalarPaths...) }

func customName(path string) (string, bool) {
	name, ok := strings.CutPrefix(path, customPrefix)
	return name, ok && customfield.ValidName(name)
}

// leafEqual reports whether a and b agree on the leaf path.
func leafEqual(a, b Details, path string) bool {
	if acc, ok := accessors[path]; ok {
		return acc.get(a) == acc.get(b)
	}
	name, _ := customName(path)
	va, oka := a.CustomFields[name]
	vb, okb := b.CustomFields[name]
	return oka == okb && va == vb
}

// leafEmpty reports whether d has no value at the leaf path.
func leafEmpty(d Details, path string) bool { return leafEqual(d, Details{}, path) }

// setLeaf copies the leaf path from src to dst. dst.CustomFields must be dst's own map (it is
// written to).
func setLeaf(dst *Details, src Details, path string) {
	if acc, ok := accessors[path]; ok {
		acc.set(dst, src)
		return
	}
	name, _ := customName(path)
	if v, ok := src.CustomFields[name]; ok {
		if dst.CustomFields == nil {
			dst.CustomFields = map[string]customfield.Value{}
		}
		dst.CustomFields[name] = v
	} else {
		delete(dst.CustomFields, name)
	}
}

// pick returns a Details holding only the given leaf paths of d.
func pick(d Details, paths []string) Details {
	var out Details
	for _, p := range paths {
		setLeaf(&out, d, p)
	}
	return out
}

// applyLeaves returns d with the leaf paths taken from src (d's map is not modified).
func applyLeaves(d Details, src Details, paths []string) Details {
	d = d.clone()
	for _, p := range paths {
		setLeaf(&d, src, p)
	}
	return d
}

// sortLeaves orders leaf paths canonically (scalar paths in Paths order, then custom fields
// by name) and drops duplicates.
func sortLeaves(paths []string) []string {
	rank := make(map[string]int, len(scalarPaths))
	for i, p := range scalarPaths {
		rank[p] = i
	}
	seen := map[string]bool{}
	var out []string
	for _, p := range paths {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		ri, iok := rank[out[i]]
		rj, jok := rank[out[j]]
		switch {
		case iok && jok:
			return ri < rj
		case iok != jok:
			return iok
		}
		return out[i] < out[j]
	})
	return out
}

// customLeaves lists the custom-field leaf paths that have a value in any of ds, in canonical
// order (for merges and whole-map masks).
func customLeaves(ds ...Details) []string {
	var out []string
	for _, d := range ds {
		for name := range d.CustomFields {
			out = append(out, customPrefix+name)
		}
	}
	return sortLeaves(out)
}
