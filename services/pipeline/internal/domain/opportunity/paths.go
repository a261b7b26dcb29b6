package opportunity

import (
	"slices"
	"sort"
	"strings"

	"github.com/evcrm/evcrm/libs/customfield"
)

// Field-mask paths of Details. UpdateDetails accepts these, "custom_fields" (the whole map) and
// "custom_fields.<name>"; events list leaf paths only. Competitors and tags are replaced as a
// whole.
const (
	PathName              = "name"
	PathAccountID         = "account_id"
	PathPrimaryContactID  = "primary_contact_id"
	PathNextStep          = "next_step"
	PathDescription       = "description"
	PathSource            = "source"
	PathPrimaryCampaignID = "primary_campaign_id"
	PathCompetitors       = "competitors"
	PathTags              = "tags"
	PathCustomFields      = "custom_fields"
	customPrefix          = PathCustomFields + "."
)

type accessor struct {
	equal func(a, b Details) bool
	set   func(dst *Details, src Details)
}

// scalarPaths are the non-custom leaf paths in canonical order.
var scalarPaths = []string{PathName, PathAccountID, PathPrimaryContactID, PathNextStep, PathDescription,
	PathSource, PathPrimaryCampaignID, PathCompetitors, PathTags}

var accessors = map[string]accessor{
	PathName: {func(a, b Details) bool { return a.Name == b.Name },
		func(d *Details, s Details) { d.Name = s.Name }},
	PathAccountID: {func(a, b Details) bool { return a.AccountID == b.AccountID },
		func(d *Details, s Details) { d.AccountID = s.AccountID }},
	PathPrimaryContactID: {func(a, b Details) bool { return a.PrimaryContactID == b.PrimaryContactID },
		func(d *Details, s Details) { d.PrimaryContactID = s.PrimaryContactID }},
	PathNextStep: {func(a, b Details) bool { return a.NextStep == b.NextStep },
		func(d *Details, s Details) { d.NextStep = s.NextStep }},
	PathDescription: {func(a, b Details) bool { return a.Description == b.Description },
		func(d *Details, s Details) { d.Description = s.Description }},
	PathSource: {func(a, b Details) bool { return a.Source == b.Source },
		func(d *Details, s Details) { d.Source = s.Source }},
	PathPrimaryCampaignID: {func(a, b Details) bool { return a.PrimaryCampaignID == b.PrimaryCampaignID },
		func(d *Details, s Details) { d.PrimaryCampaignID = s.PrimaryCampaignID }},
	PathCompetitors: {func(a, b Details) bool { return slices.Equal(a.Competitors, b.Competitors) },
		func(d *Details, s Details) { d.Competitors = slices.Clone(s.Competitors) }},
	PathTags: {func(a, b Details) bool { return slices.Equal(a.Tags, b.Tags) },
		func(d *Details, s Details) { d.Tags = slices.Clone(s.Tags) }},
}

// Paths returns every leaf path of Details that is not a custom field, in canonical order.
func Paths() []string { return slices.Clone(scalarPaths) }

func customName(path string) (string, bool) {
	name, ok := strings.CutPrefix(path, customPrefix)
	return name, ok && customfield.ValidName(name)
}

// leafEqual reports whether a and b agree on the leaf path.
func leafEqual(a, b Details, path string) bool {
	if acc, ok := accessors[path]; ok {
		return acc.equal(a, b)
	}
	name, _ := customName(path)
	va, oka := a.CustomFields[name]
	vb, okb := b.CustomFields[name]
	return oka == okb && va == vb
}

// setLeaf copies the leaf path from src to dst. dst.CustomFields must be dst's own map.
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

// sortLeaves orders leaf paths canonically (scalar paths in Paths order, then custom fields by
// name) and drops duplicates.
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
// order (for a whole-map mask).
func customLeaves(ds ...Details) []string {
	var out []string
	for _, d := range ds {
		for name := range d.CustomFields {
			out = append(out, customPrefix+name)
		}
	}
	return sortLeaves(out)
}
