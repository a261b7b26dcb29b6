package opportunity

import (
	"github.com/evcrm/evcrm/libs/customfield"
	"github.com/evcrm/evcrm/libs/fieldpath"
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
	PathCustomFields      = fieldpath.CustomFields
	customPrefix          = fieldpath.CustomPrefix
)

// fields lists the leaves of Details in canonical order.
var fields = fieldpath.New(func(d *Details) *map[string]customfield.Value { return &d.CustomFields },
	fieldpath.Value(PathName, func(d *Details) *string { return &d.Name }),
	fieldpath.Value(PathAccountID, func(d *Details) *string { return &d.AccountID }),
	fieldpath.Value(PathPrimaryContactID, func(d *Details) *string { return &d.PrimaryContactID }),
	fieldpath.Value(PathNextStep, func(d *Details) *string { return &d.NextStep }),
	fieldpath.Value(PathDescription, func(d *Details) *string { return &d.Description }),
	fieldpath.Value(PathSource, func(d *Details) *Source { return &d.Source }),
	fieldpath.Value(PathPrimaryCampaignID, func(d *Details) *string { return &d.PrimaryCampaignID }),
	fieldpath.Slice(PathCompetitors, func(d *Details) *[]string { return &d.Competitors }),
	fieldpath.Slice(PathTags, func(d *Details) *[]string { return &d.Tags }),
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

// pick returns a Details holding only the given leaf paths of d.
func pick(d Details, paths []string) Details { return fields.Pick(d, paths...) }

// applyLeaves returns d with the leaf paths taken from src (d's map is not modified).
func applyLeaves(d Details, src Details, paths []string) Details {
	d = d.clone()
	fields.Copy(&d, src, paths...)
	return d
}

// sortLeaves orders leaf paths canonically (scalar paths in Paths order, then custom fields by
// name) and drops duplicates.
func sortLeaves(paths []string) []string { return fields.Sort(paths) }

// customLeaves lists the custom-field leaf paths that have a value in any of ds, in canonical
// order (for a whole-map mask).
func customLeaves(ds ...Details) []string { return fields.CustomLeaves(ds...) }
